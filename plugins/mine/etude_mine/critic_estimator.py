"""The critic machinery shared by MINE and its baselines: configs, fitting, estimating.

:class:`CriticEstimator` is an etude ``Estimator`` and an ``nn.Module``; each
bound (:mod:`etude_mine.estimators`) subclasses it and supplies its objective.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, in_range, one_of, positive
from etude.kinds import Estimator
from etude.runtime import check_finite

from ._checks import check_pairs
from .bounds import derangement, off_diagonal
from .critics import ACTIVATIONS, make_critic

def _at_least(low: int):
    def check(instance, attribute, value):
        from etude.config import FieldValueError  # noqa: PLC0415

        if not (isinstance(value, int) and value >= low):
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


def _optional_positive_int(instance, attribute, value):
    from etude.config import FieldValueError  # noqa: PLC0415

    if value is not None and not (isinstance(value, int) and value >= 1):
        raise FieldValueError(attribute.name, value, "None or an integer >= 1")


@configclass
class CriticEstimatorConfig:
    critic: str = field(default="joint", validator=one_of("joint", "separable"),
                        doc="statistics network: 'joint' = MLP on [x, y]; 'separable' = g(x).h(y)")
    hidden: int = field(default=128, validator=_at_least(1), doc="hidden units per layer of the critic MLP(s)")
    layers: int = field(default=2, validator=_at_least(1), doc="hidden layers of the critic MLP(s)")
    activation: str = field(default="elu", validator=one_of(*ACTIVATIONS), doc="critic nonlinearity")
    embed_dim: int = field(default=32, validator=_at_least(1), doc="embedding width of the separable critic")
    lr: float = field(default=1e-3, validator=positive, doc="Adam learning rate")
    batch_size: int = field(default=256, validator=_at_least(2), doc="pairs per minibatch (>= 2)")
    steps: int = field(default=2000, validator=_at_least(0), doc="optimisation steps when fit(steps=None)")
    eval_every: int = field(default=100, validator=_at_least(1),
                            doc="steps between held-out estimates when fit(validation=...) is given")
    patience: int | None = field(default=None, validator=_optional_positive_int,
                                 doc="early stopping: stop after this many held-out evaluations without improvement "
                                     "and restore the best critic (None: no early stopping)")
    seed: int | None = field(default=None, doc="seeds critic init and minibatch order; None draws from torch's global RNG")


@configclass
class MINEConfig(CriticEstimatorConfig):
    ema_rate: float = field(default=0.01, validator=in_range(0.0, 1.0, low_open=True),
                            doc="weight of the NEW minibatch in the moving average of E[e^T] "
                                "(mu <- (1 - rate) mu + rate m); bmi's alpha = 1 - rate")
    bias_correction: bool = field(default=True, doc="use the moving-average denominator in the gradient "
                                                    "(False: plain minibatch DV gradient)")
    marginal: str = field(default="shuffle", validator=one_of("shuffle", "all-pairs"),
                          doc="product-of-marginals samples during training: 'shuffle' re-pairs the batch by a "
                              "random derangement (b samples); 'all-pairs' uses the b(b-1) off-diagonal pairs")


@configclass
class FDivConfig(CriticEstimatorConfig):
    marginal: str = field(default="shuffle", validator=one_of("shuffle", "all-pairs"),
                          doc="product-of-marginals samples during training (see estimator/mine)")


@configclass
class NWJConfig(CriticEstimatorConfig):
    critic: str = field(default="separable", validator=one_of("joint", "separable"),
                        doc="statistics network: 'separable' = g(x).h(y) (cheap all-pairs scores); 'joint' = MLP on [x, y]")
    marginal: str = field(default="all-pairs", validator=one_of("shuffle", "all-pairs"),
                          doc="product-of-marginals samples during training (see estimator/mine)")


@configclass
class InfoNCEConfig(CriticEstimatorConfig):
    critic: str = field(default="separable", validator=one_of("joint", "separable"),
                        doc="statistics network: 'separable' = g(x).h(y) (the CPC critic); 'joint' = MLP on [x, y] "
                            "(costs b^2 MLP evaluations per batch)")


class CriticEstimator(Estimator, nn.Module):
    """Shared machinery: a critic, minibatch Adam training, held-out estimation.

    Subclasses define :meth:`lower_bound` (the differentiable bound on a batch)
    and may override :meth:`objective` (what training maximises) and
    :meth:`estimate`.
    """

    Config = CriticEstimatorConfig
    bound_name = "bound"

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        Estimator.__init__(self, config, **overrides)
        self.register_buffer("_anchor", torch.zeros(()), persistent=False)
        self.critic: nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.history: dict[str, list[float]] = {"step": [], "bound": [], "valid_step": [], "valid_mi": []}
        self.steps_done = 0
        self._generator: torch.Generator | None = None
        if self.config.seed is not None:
            self._generator = torch.Generator().manual_seed(self.config.seed)

    # -- critic ----------------------------------------------------------------
    @property
    def owner(self) -> str:
        return type(self).__name__

    def build_critic(self, x_dim: int, y_dim: int) -> nn.Module:
        """Create the critic for inputs of widths ``x_dim`` and ``y_dim`` (done by the first ``fit``)."""
        c = self.config
        kwargs = dict(hidden=c.hidden, layers=c.layers, activation=c.activation, embed_dim=c.embed_dim)
        if c.seed is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(c.seed)
                critic = make_critic(c.critic, x_dim, y_dim, **kwargs)
        else:
            critic = make_critic(c.critic, x_dim, y_dim, **kwargs)
        self.critic = critic.to(device=self._anchor.device, dtype=self._anchor.dtype)
        self.optimizer = torch.optim.Adam(self.critic.parameters(), lr=c.lr)
        return self.critic

    def _prepare(self, x: Any, y: Any, names=("x", "y")) -> tuple[Tensor, Tensor]:
        x, y = check_pairs(x, y, self.owner, names=names)
        if self.critic is not None:
            for name, t, dim in ((names[0], x, self.critic.x_dim), (names[1], y, self.critic.y_dim)):
                if t.shape[1] != dim:
                    raise ValueError(
                        f"{self.owner}: {name} has {t.shape[1]} features but the estimator was fitted with {dim}; "
                        f"got shape {tuple(t.shape)}"
                    )
        device, dtype = self._anchor.device, self._anchor.dtype
        return x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)

    def _require_critic(self) -> nn.Module:
        if self.critic is None:
            raise RuntimeError(f"{self.owner}: call fit(x, y) before estimate(); the critic is built on the first fit")
        return self.critic

    def _rng(self) -> torch.Generator:
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, ())))
        return self._generator

    def _marginal_index(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return derangement(n, generator if generator is not None else self._rng(), device=self._anchor.device)

    # -- bounds ------------------------------------------------------------------
    def lower_bound(self, x: Tensor, y: Tensor) -> Tensor:
        """The differentiable bound (nats) on one batch of pairs: use it as a loss term."""
        raise NotImplementedError

    def objective(self, x: Tensor, y: Tensor) -> Tensor:
        """What one training step maximises (by default :meth:`lower_bound`)."""
        return self.lower_bound(x, y)

    # -- training ----------------------------------------------------------------
    def fit(
        self,
        x: Any,
        y: Any,
        *,
        steps: int | None = None,
        progress: bool = False,
        validation: tuple[Any, Any] | None = None,
    ) -> CriticEstimator:
        """Maximise the bound on minibatches of the pairs ``(x, y)`` for ``steps`` Adam steps; returns self.

        ``x`` (N, Dx) and ``y`` (N, Dy) are paired samples (row i of x with row
        i of y). Minibatches go through random permutations of the data
        (epochs). With ``validation=(x_val, y_val)`` the held-out estimate is
        logged every ``eval_every`` steps in ``history["valid_mi"]`` and, when
        ``patience`` is set, training stops early and restores the best critic.
        Calling ``fit`` again continues training.
        """
        x, y = self._prepare(x, y)
        steps = self.config.steps if steps is None else steps
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"{self.owner}: steps must be an integer >= 0, got {steps!r}")
        if validation is not None:
            if not isinstance(validation, (tuple, list)) or len(validation) != 2:
                raise TypeError(f"{self.owner}: validation must be a pair (x_val, y_val), got {type(validation).__name__}")
            xv, yv = self._prepare(*validation, names=("validation[0]", "validation[1]"))
        if self.critic is None:
            self.build_critic(x.shape[1], y.shape[1])
        critic = self.critic
        n = x.shape[0]
        b = min(self.config.batch_size, n)
        order = torch.empty(0, dtype=torch.long)
        gen = self._rng()
        best, best_state, stale = -math.inf, None, 0
        iterator: Any = range(steps)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            iterator = tqdm(iterator, desc=f"{self.owner} fit", leave=False)
        critic.train()
        for _ in iterator:
            if order.numel() < b:
                order = torch.cat([order, torch.randperm(n, generator=gen)])
            idx, order = order[:b].to(x.device), order[b:]
            value = self._step(x[idx], y[idx])
            self.steps_done += 1
            self.history["step"].append(self.steps_done)
            self.history["bound"].append(check_finite(value, step=self.steps_done, name=f"{self.owner} training bound"))
            if validation is not None and self.steps_done % self.config.eval_every == 0:
                mi = float(self.estimate(xv, yv))
                critic.train()
                self.history["valid_step"].append(self.steps_done)
                self.history["valid_mi"].append(mi)
                if progress:
                    iterator.set_postfix(valid_mi=f"{mi:.3f}")
                if mi > best:
                    best, stale = mi, 0
                    if self.config.patience is not None:
                        best_state = copy.deepcopy(critic.state_dict())
                else:
                    stale += 1
                    if self.config.patience is not None and stale >= self.config.patience:
                        break
        if best_state is not None:
            critic.load_state_dict(best_state)
        critic.eval()
        return self

    def _step(self, xb: Tensor, yb: Tensor) -> Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        value = self.objective(xb, yb)
        (-value).backward()
        self.optimizer.step()
        return value.detach()

    # -- estimation --------------------------------------------------------------
    @torch.no_grad()
    def estimate(self, x: Any, y: Any) -> Tensor:
        """The bound in nats on held-out pairs (x, y), as a 0-d tensor; parameters are not updated.

        The marginal samples re-pair the whole held-out set by one fixed random
        derangement (seed 0), so the estimate is a deterministic function of
        the critic and the data.
        """
        x, y = self._prepare(x, y)
        critic = self._require_critic()
        was_training = critic.training
        critic.eval()
        sigma = self._marginal_index(x.shape[0], torch.Generator().manual_seed(0))
        value = self._held_out_bound(critic(x, y), critic(x, y[sigma]))
        critic.train(was_training)
        return value

    def _held_out_bound(self, t_joint: Tensor, t_marginal: Tensor) -> Tensor:
        raise NotImplementedError

    def _scores(self, x: Tensor, y: Tensor, marginal: str) -> tuple[Tensor, Tensor]:
        critic = self._require_critic()
        if marginal == "all-pairs":
            s = critic.pairwise(x, y)
            return s.diagonal(), off_diagonal(s)
        sigma = self._marginal_index(x.shape[0])
        return critic(x, y), critic(x, y[sigma])

    def _check_batch(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Validation for the differentiable entry points (keeps autograd: no device/dtype copies of leaves)."""
        if not isinstance(x, Tensor) or not isinstance(y, Tensor):
            raise TypeError(f"{self.owner}.lower_bound: x and y must be tensors")
        if x.dim() == 1:
            x = x.unsqueeze(1)
        if y.dim() == 1:
            y = y.unsqueeze(1)
        if x.dim() != 2 or y.dim() != 2 or x.shape[0] != y.shape[0] or x.shape[0] < 2:
            raise ValueError(
                f"{self.owner}.lower_bound: x and y must be (N, D) batches with the same N >= 2, "
                f"got {tuple(x.shape)} and {tuple(y.shape)}"
            )
        for name, t in (("x", x), ("y", y)):
            if not bool(torch.isfinite(t.detach()).all()):
                kind = "NaN" if bool(torch.isnan(t.detach()).any()) else "inf"
                raise ValueError(
                    f"{self.owner}.lower_bound: {name} contains {kind} values; remove or impute non-finite "
                    "samples (the bound of a batch with NaN is NaN)"
                )
        if self.critic is None:
            self.build_critic(x.shape[1], y.shape[1])
        return x, y


