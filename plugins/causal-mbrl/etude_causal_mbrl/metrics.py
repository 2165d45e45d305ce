"""Ranking metrics of CausalMBRL / C-SWM: Hits@k and MRR of the true next state among all test samples.

For ``n`` test samples with predicted embeddings ``p_j`` and true next
embeddings ``t_i`` (both flattened over objects), sample ``i``'s rank is the
number of predictions strictly closer to ``t_i`` than its own,
``r_i = #{j : ||t_i - p_j||^2 < ||t_i - p_i||^2}`` over *all* ``j`` (so
samples with the same true next state compete, as in the reference's
``eval.py``, dido1998/CausalMBRL#2). Ties go to the true pair (the
reference prepends the diagonal and sorts stably). ``H@k = mean(r_i < k)``,
``MRR = mean(1 / (r_i + 1))``. Distances are computed exactly (no
``x^2 + y^2 - 2xy``), so identical embeddings tie exactly.

References:
    T. Kipf, E. van der Pol, M. Welling. "Contrastive Learning of Structured
    World Models". ICLR 2020. arXiv:1911.12247 (Sec. 4, H@1 and MRR).
    N. R. Ke et al. NeurIPS 2021 Datasets and Benchmarks. arXiv:2107.00848.

Example:
    >>> import torch
    >>> t = torch.tensor([[0.0], [1.0], [2.0]])
    >>> ranking_metrics(t + 0.1, t)
    {'hits_at_1': 1.0, 'mrr': 1.0}
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ranks", "ranking_metrics"]


@torch.no_grad()
def ranks(predicted: Tensor, target: Tensor, chunk: int = 2048) -> Tensor:
    """Rank ``r_i`` (0 = best) of each sample's prediction among all predictions, ``(n,)`` int64."""
    if predicted.shape != target.shape or predicted.ndim < 2:
        raise ValueError(f"predicted and target must both be (n, ...) with the same shape, got "
                         f"{tuple(predicted.shape)} and {tuple(target.shape)}")
    n = predicted.shape[0]
    p, t = predicted.reshape(n, -1).double(), target.reshape(n, -1).double()
    out = torch.empty(n, dtype=torch.long, device=p.device)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        d = torch.cdist(t[rows], p, compute_mode="donot_use_mm_for_euclid_dist").square()
        # the own distance from the same matrix, so a prediction never beats itself by rounding
        idx = torch.arange(start, min(start + chunk, n), device=p.device)
        d_own = d[torch.arange(idx.numel(), device=p.device), idx].unsqueeze(1)
        out[rows] = (d < d_own).sum(-1)
    return out


def ranking_metrics(predicted: Tensor, target: Tensor, ks: tuple[int, ...] = (1,)) -> dict[str, float]:
    """``{"hits_at_k": ..., "mrr": ...}`` of :func:`ranks`."""
    r = ranks(predicted, target)
    out = {f"hits_at_{k}": float((r < k).double().mean()) for k in ks}
    out["mrr"] = float((1.0 / (r.double() + 1)).mean())
    return out
