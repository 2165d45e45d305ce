"""``estimator/meta-transfer-direction``: the causal direction between A and B from speed of adaptation.

``fit(train, transfers)`` resets both hypotheses (G1 = A -> B, G2 = B -> A) to
the MLE of the observational ``train`` samples (n, 2), then meta-trains the
structural parameter gamma on the transfer episodes ``transfers``
(episodes, steps, batch, 2): per episode, online log-likelihood of each
hypothesis while it adapts by SGD, one step on the regret
``-log[sigma(gamma) L1 + sigma(-gamma) L2]``, modules restored.
With ``hypotheses="mlp"`` (categorical; MLP conditionals, hidden 8) or ``"mdn"`` (continuous; mixture
density networks, :mod:`etude_meta_transfer.neural`) the modules are pretrained on ``train`` at the
first ``fit`` and copied per episode instead. ``estimate(train, transfers)`` scores held-out episodes
with gamma frozen and
returns ``P(A -> B | transfers) = sigma(gamma + log L1 - log L2)``, the
log-likelihoods summed over the held-out episodes (each from the reset tables).

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912.

Example:
    >>> from etude_meta_transfer.tasks import BivariateTransferTask
    >>> t = BivariateTransferTask(num_categories=4, num_train=500, episodes=50, test_episodes=5, seed=0)
    >>> est = MetaTransferDirection(num_categories=4).fit(t.split("train").inputs, t.split("transfer").inputs)
    >>> 0.0 <= float(est.estimate(t.split("train").inputs, t.split("test").inputs)) <= 1.0
    True
"""

from __future__ import annotations

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, non_negative, one_of, positive
from etude.kinds import Estimator

from .episodes import META_OPTIMIZERS, REGRETS, make_meta_optimizer, meta_train, online_log_likelihood
from .regret import posterior, regret_grad
from .tabular import TabularHypotheses, check_categories

__all__ = ["MetaTransferDirection", "MetaTransferDirectionConfig"]


@configclass
class MetaTransferDirectionConfig:
    num_categories: int = field(default=10, validator=positive, doc="categories N of A and of B")
    hypotheses: str = field(
        default="tabular", validator=one_of("tabular", "mlp", "mdn"),
        doc="modules: 'tabular' (softmax tables), 'mlp' (categorical, MLP conditionals) or 'mdn' (continuous, mixture density networks)",
    )
    inner_lr: float = field(default=0.1, validator=positive, doc="SGD learning rate of the inner adaptation")
    meta_lr: float = field(default=1e-2, validator=positive, doc="learning rate of the meta-optimiser on gamma")
    meta_optimizer: str = field(default="rmsprop", validator=one_of(*META_OPTIMIZERS), doc="optimiser of gamma")
    regret: str = field(default="episode", validator=one_of(*REGRETS), doc="'episode' (paper) or 'per-batch' (notebook)")
    pseudo_count: float = field(
        default=0.1, validator=non_negative,
        doc="pseudo-count per cell of the joint for the MLE reset (0: the plain MLE; unseen cells get log 0 = -inf)",
    )
    hidden: int = field(default=8, validator=positive, doc="'mlp': hidden width of the conditional MLP (official: 8)")
    components: int = field(default=10, validator=positive, doc="'mdn': mixture components (and of the EM marginals)")
    capacity: int = field(default=32, validator=positive, doc="'mdn': hidden width of the MDN body")
    pretrain_steps: int = field(default=1000, validator=positive, doc="'mlp'/'mdn': Adam 1e-3 steps on the training samples")

    def __attrs_post_init__(self) -> None:
        if self.hypotheses != "tabular" and self.regret != "episode":
            raise FieldValueError("regret", self.regret, "'episode' with neural hypotheses ('per-batch' is tabular only)")


class MetaTransferDirection(Estimator):
    """Learns the structural parameter gamma; estimates P(A -> B) from held-out transfer episodes.

    The modules are reset to the training MLE (etude-scm's ``fit_mle``) before every episode;
    gamma (a float64 scalar) is the only state kept across episodes and across ``fit`` calls.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal
        Mechanisms". ICLR 2020. arXiv:1901.10912.

    Example:
        >>> import torch
        >>> est = MetaTransferDirection(num_categories=3)
        >>> x = torch.randint(0, 3, (4, 2, 10, 2), generator=torch.Generator().manual_seed(0))
        >>> est.fit(torch.randint(0, 3, (50, 2)), x).gamma.shape
        torch.Size([])
    """

    Config = MetaTransferDirectionConfig

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.gamma = torch.zeros((), dtype=torch.float64)
        self.history: list[float] = []
        self.neural = None  # NeuralHypotheses, pretrained at the first fit ('mlp' / 'mdn')

    def _check(self, train: Tensor, transfers: Tensor) -> tuple[Tensor, Tensor]:
        n = self.config.num_categories
        if self.config.hypotheses == "mdn":
            for name, t in (("train", train), ("transfers", transfers)):
                if not isinstance(t, Tensor) or not t.is_floating_point():
                    raise TypeError(f"'{name}' must be a floating tensor for hypotheses='mdn', got {getattr(t, 'dtype', type(t))}")
                if not torch.isfinite(t).all():
                    raise ValueError(f"'{name}' contains NaN or inf; continuous samples must be finite")
                if t.shape[-1] != 2:
                    raise ValueError(f"'{name}' must end in a dimension of 2 (columns A, B), got shape {tuple(t.shape)}")
        else:
            train = check_categories(train, n, "train")
            transfers = check_categories(transfers, n, "transfers")
        if train.dim() != 2 or train.shape[0] < 1:
            raise ValueError(f"'train' must be (n, 2) observational samples with n >= 1, got {tuple(train.shape)}")
        if transfers.dim() != 4:
            raise ValueError(
                f"'transfers' must be (episodes, steps, batch, 2) samples of intervened distributions, "
                f"got {tuple(transfers.shape)}"
            )
        return train, transfers

    def fit(self, train: Tensor, transfers: Tensor, steps: int | None = None, progress: bool = False) -> MetaTransferDirection:
        """Meta-train gamma on the first ``steps`` episodes of ``transfers`` (default: all)."""
        train, transfers = self._check(train, transfers)
        if steps is not None:
            if steps < 1:
                raise ValueError(f"'steps' must be >= 1 episode, got {steps}")
            transfers = transfers[:steps]
        cfg = self.config
        if cfg.hypotheses != "tabular":
            return self._fit_neural(train, transfers)
        hyp = TabularHypotheses.mle(train, cfg.num_categories, cfg.pseudo_count)
        out = meta_train(
            hyp, transfers.unsqueeze(0), gamma=self.gamma.reshape(1), inner_lr=cfg.inner_lr,
            meta_lr=cfg.meta_lr, meta_optimizer=cfg.meta_optimizer, regret=cfg.regret,
        )
        self.gamma = out["final_gamma"][0]
        self.history.extend(torch.sigmoid(out["gamma"][0]).tolist())
        return self

    def _neural_hypotheses(self, train: Tensor):
        from .neural import NeuralHypotheses  # noqa: PLC0415

        if self.neural is None:
            cfg = self.config
            self.neural = NeuralHypotheses(
                cfg.hypotheses, num_categories=cfg.num_categories, hidden=cfg.hidden, components=cfg.components,
                capacity=cfg.capacity, pretrain_steps=cfg.pretrain_steps,
            )
            self.neural.pretrain(train, None)
        return self.neural

    def _fit_neural(self, train: Tensor, transfers: Tensor) -> MetaTransferDirection:
        cfg = self.config
        hyp = self._neural_hypotheses(train)
        opt = make_meta_optimizer(cfg.meta_optimizer, cfg.meta_lr)
        gamma = self.gamma.reshape(1)
        for episode in transfers:
            log_l1, log_l2 = hyp.episode_log_likelihood(episode, cfg.inner_lr)
            gamma = opt.step(gamma, regret_grad(gamma, log_l1.reshape(1), log_l2.reshape(1)))
            self.history.append(float(torch.sigmoid(gamma)))
        self.gamma = gamma[0]
        return self

    def estimate(self, train: Tensor, transfers: Tensor) -> Tensor:
        """``sigma(gamma + log L1 - log L2)`` over the held-out episodes ``transfers``, gamma frozen."""
        train, transfers = self._check(train, transfers)
        cfg = self.config
        if cfg.hypotheses != "tabular":
            hyp = self._neural_hypotheses(train)
            pairs = [hyp.episode_log_likelihood(e, cfg.inner_lr) for e in transfers]
            log_l1 = torch.stack([a for a, _ in pairs]).sum().reshape(1)
            log_l2 = torch.stack([b for _, b in pairs]).sum().reshape(1)
            return posterior(self.gamma.reshape(1), log_l1, log_l2)[0]
        return self._estimate_tabular(train, transfers)

    @torch.no_grad()
    def _estimate_tabular(self, train: Tensor, transfers: Tensor) -> Tensor:
        cfg = self.config
        hyp = TabularHypotheses.mle(train, cfg.num_categories, cfg.pseudo_count)
        log_l1 = torch.zeros(1, dtype=torch.float64)
        log_l2 = torch.zeros(1, dtype=torch.float64)
        for e in range(transfers.shape[0]):
            with hyp.restored():
                ll1, ll2 = online_log_likelihood(hyp, transfers[e].unsqueeze(0), cfg.inner_lr)
            log_l1 += ll1.sum(-1)
            log_l2 += ll2.sum(-1)
        return posterior(self.gamma.reshape(1), log_l1, log_l2)[0]
