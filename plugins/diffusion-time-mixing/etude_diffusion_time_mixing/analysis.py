"""Measurements of the paper's analysis: divergence of attention profiles over t, normalised mutual information.

References:
    S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points to Functions", preprint 2022,
    arXiv:2210.13774 (unverified), qualitative analysis (which noise levels each task attends to).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["js_divergence", "normalized_mutual_information"]


def js_divergence(p: Sequence[float] | Tensor, q: Sequence[float] | Tensor) -> float:
    """Jensen-Shannon divergence (nats, in [0, log 2]) of two distributions over the same T points (renormalised).

    Examples:
        >>> round(js_divergence([1.0, 0.0], [0.0, 1.0]), 4) == round(math.log(2), 4)
        True
        >>> js_divergence([0.2, 0.8], [0.2, 0.8])
        0.0
    """
    p = torch.as_tensor(p, dtype=torch.float64).flatten()
    q = torch.as_tensor(q, dtype=torch.float64).flatten()
    if p.shape != q.shape or p.numel() == 0:
        raise ValueError(f"p and q must be non-empty and of one shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    if (p < 0).any() or (q < 0).any() or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("p and q must be non-negative with a positive sum")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: Tensor, b: Tensor) -> Tensor:
        mask = a > 0
        return (a[mask] * (a[mask] / b[mask]).log()).sum()

    return float(0.5 * kl(p, m) + 0.5 * kl(q, m))


def normalized_mutual_information(a: Sequence[int] | Tensor, b: Sequence[int] | Tensor) -> float:
    """``I(A; B) / sqrt(H(A) H(B))`` of two discrete label vectors (plug-in estimate; 0 when either is constant).

    Examples:
        >>> normalized_mutual_information([0, 0, 1, 1], [1, 1, 0, 0])
        1.0
        >>> normalized_mutual_information([0, 1, 0, 1], [0, 0, 1, 1])
        0.0
    """
    a = torch.as_tensor(a, dtype=torch.int64).flatten()
    b = torch.as_tensor(b, dtype=torch.int64).flatten()
    if a.shape != b.shape or a.numel() == 0:
        raise ValueError(f"a and b must be non-empty and of one length, got {a.numel()} and {b.numel()}")
    _, ai = a.unique(return_inverse=True)
    _, bi = b.unique(return_inverse=True)
    joint = torch.zeros(int(ai.max()) + 1, int(bi.max()) + 1, dtype=torch.float64)
    joint.index_put_((ai, bi), torch.ones(a.numel(), dtype=torch.float64), accumulate=True)
    joint /= joint.sum()
    pa, pb = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = float((joint[nz] * (joint[nz] / (pa[:, None] * pb[None, :])[nz]).log()).sum())
    ha = float(-(pa[pa > 0] * pa[pa > 0].log()).sum())
    hb = float(-(pb[pb > 0] * pb[pb > 0].log()).sum())
    if ha <= 0 or hb <= 0:
        return 0.0
    return max(0.0, min(1.0, mi / math.sqrt(ha * hb)))
