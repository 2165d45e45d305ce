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

__all__ = ["META_OPTIMIZERS", "REGRETS", "make_meta_optimizer", "meta_train", "online_log_likelihood"]

META_OPTIMIZERS = ("rmsprop", "adam", "sgd")
REGRETS = ("episode", "per-batch")


def make_meta_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """RMSprop (the notebook's), Adam or SGD on gamma, PyTorch defaults otherwise (all elementwise)."""
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise ValueError(f"'meta_optimizer' must be one of {META_OPTIMIZERS}, got {name!r}")


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
    device = hyp.a1.device
    g = torch.zeros(hyp.num_runs, dtype=torch.float64, device=device) if gamma is None else gamma.to(torch.float64).clone()
    g = torch.nn.Parameter(g)
    opt = make_meta_optimizer(meta_optimizer, [g], meta_lr)
    gammas, l1s, l2s = [], [], []
    for e in range(transfers.shape[1]):
        with hyp.restored():
            ll1, ll2 = online_log_likelihood(hyp, transfers[:, e], inner_lr)
        with torch.no_grad():
            if regret == "episode":
                log_l1, log_l2 = ll1.sum(-1), ll2.sum(-1)
                grad = regret_grad(g.detach(), log_l1, log_l2)
            else:
                log_l1, log_l2 = ll1.sum(-1), ll2.sum(-1)
                grad = per_batch_regret_grad(g.detach(), ll1, ll2)
        g.grad = grad
        opt.step()
        gammas.append(g.detach().clone())
        l1s.append(log_l1)
        l2s.append(log_l2)
        if callback is not None:
            callback(e, g.detach())
    return {
        "gamma": torch.stack(gammas, -1),
        "log_l1": torch.stack(l1s, -1),
        "log_l2": torch.stack(l2s, -1),
        "final_gamma": g.detach().clone(),
    }
