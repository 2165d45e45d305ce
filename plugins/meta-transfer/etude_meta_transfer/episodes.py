"""Transfer episodes and meta-training of the structural parameter, batched over runs.

One episode, for each of R runs at once: the modules start at their reset
tables; for each of the episode's ``steps`` transfer batches, score the batch
under G1 and G2 (online log-likelihood, before the update), then one inner
SGD step on ``-mean(ll1) - mean(ll2)``; then one step of the meta-optimiser
on gamma with the closed-form regret gradient; then the modules are restored
(:meth:`TabularHypotheses.restored`): gamma is the only state kept.

``regret="episode"`` (the paper's): ``log L_G`` sums the episode's batches.
``regret="per-batch"`` (the official notebook): the mixture is taken per batch
and the regrets summed.

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912 (Sec. 3; Algorithm 1).

Example:
    >>> import torch
    >>> from etude_meta_transfer.tabular import TabularHypotheses
    >>> h = TabularHypotheses.exact([__import__("etude_scm").create_categorical_scm("A->B", torch.Generator().manual_seed(0), num_categories=3)])
    >>> x = torch.randint(0, 3, (1, 4, 2, 10, 2), generator=torch.Generator().manual_seed(1))  # (R, episodes, steps, batch, 2)
    >>> meta_train(h, x)["gamma"].shape
    torch.Size([1, 4])
"""

from __future__ import annotations

import torch
from torch import Tensor

from .regret import per_batch_regret_grad, regret_grad
from .tabular import TabularHypotheses

__all__ = ["META_OPTIMIZERS", "MetaOptimizer", "REGRETS", "make_meta_optimizer", "meta_train", "online_log_likelihood"]

META_OPTIMIZERS = ("rmsprop", "adam", "sgd")
REGRETS = ("episode", "per-batch")


class MetaOptimizer:
    """Elementwise update of gamma ``(R,)`` by a closed-form gradient, PyTorch's default formulas.

    ``rmsprop``: ``v = 0.99 v + 0.01 g^2``, ``gamma -= lr g / (sqrt(v) + 1e-8)`` (``torch.optim.RMSprop``);
    ``adam``: betas (0.9, 0.999), eps 1e-8, bias-corrected (``torch.optim.Adam``); ``sgd``: ``gamma -= lr g``.
    Written out rather than a ``torch.optim`` instance: its per-step overhead dominated an episode here.
    """

    def __init__(self, name: str, lr: float) -> None:
        if name not in META_OPTIMIZERS:
            raise ValueError(f"'meta_optimizer' must be one of {META_OPTIMIZERS}, got {name!r}")
        self.name, self.lr, self.t = name, float(lr), 0
        self.m = self.v = None

    def step(self, gamma: Tensor, grad: Tensor) -> Tensor:
        self.t += 1
        if self.name == "sgd":
            return gamma - self.lr * grad
        if self.v is None:
            self.v = torch.zeros_like(gamma)
            self.m = torch.zeros_like(gamma)
        if self.name == "rmsprop":
            self.v = self.v * 0.99 + 0.01 * grad * grad
            return gamma - self.lr * grad / (self.v.sqrt() + 1e-8)
        self.m = self.m * 0.9 + 0.1 * grad
        self.v = self.v * 0.999 + 0.001 * grad * grad
        bc1, bc2 = 1 - 0.9**self.t, 1 - 0.999**self.t
        return gamma - (self.lr / bc1) * self.m / ((self.v.sqrt() / bc2**0.5) + 1e-8)


def make_meta_optimizer(name: str, lr: float) -> MetaOptimizer:
    """The meta-optimiser of gamma by name: ``"rmsprop"`` (the notebook's), ``"adam"`` or ``"sgd"``."""
    return MetaOptimizer(name, lr)


def online_log_likelihood(hyp: TabularHypotheses, episode: Tensor, inner_lr: float) -> tuple[Tensor, Tensor]:
    """Per-batch online log-likelihoods ``(R, steps)`` of G1 and G2 over one episode ``(R, steps, batch, 2)``.

    The modules are adapted in place (use inside ``hyp.restored()``).
    """
    ll1, ll2 = [], []
    for t in range(episode.shape[1]):
        a, b = hyp.step(episode[:, t], inner_lr)
        ll1.append(a)
        ll2.append(b)
    return torch.stack(ll1, -1), torch.stack(ll2, -1)


def meta_train(
    hyp: TabularHypotheses,
    transfers: Tensor,
    *,
    gamma: Tensor | None = None,
    inner_lr: float = 0.1,
    meta_lr: float = 1e-2,
    meta_optimizer: str = "rmsprop",
    regret: str = "episode",
    callback=None,
) -> dict[str, Tensor]:
    """Meta-train gamma ``(R,)`` on ``transfers`` (R, episodes, steps, batch, 2); the tables are left unchanged.

    Returns ``gamma`` (R, episodes) after each episode, ``log_l1``/``log_l2`` (R, episodes) and the final
    ``final_gamma`` (R,).
    """
    if regret not in REGRETS:
        raise ValueError(f"'regret' must be one of {REGRETS}, got {regret!r}")
    if transfers.dim() != 5 or transfers.shape[0] != hyp.num_runs or transfers.shape[-1] != 2:
        raise ValueError(
            f"'transfers' must be (runs={hyp.num_runs}, episodes, steps, batch, 2), got {tuple(transfers.shape)}"
        )
    device = hyp.marginals.device
    g = torch.zeros(hyp.num_runs, dtype=torch.float64, device=device) if gamma is None else gamma.to(device, torch.float64).clone()
    opt = make_meta_optimizer(meta_optimizer, meta_lr)
    gammas, l1s, l2s = [], [], []
    for e in range(transfers.shape[1]):
        with hyp.restored():
            ll1, ll2 = online_log_likelihood(hyp, transfers[:, e], inner_lr)
        log_l1, log_l2 = ll1.sum(-1), ll2.sum(-1)
        grad = regret_grad(g, log_l1, log_l2) if regret == "episode" else per_batch_regret_grad(g, ll1, ll2)
        g = opt.step(g, grad)
        gammas.append(g)
        l1s.append(log_l1)
        l2s.append(log_l2)
        if callback is not None:
            callback(e, g)
    return {
        "gamma": torch.stack(gammas, -1),
        "log_l1": torch.stack(l1s, -1),
        "log_l2": torch.stack(l2s, -1),
        "final_gamma": g,
    }
