"""Context normalisation (Webb et al., 2020): standardise each feature over the objects of one example.

    z_i <- gamma * (z_i - mean_j z_j) / sqrt(var_j z_j + eps) + beta,

statistics over the object axis of one example (unbiased variance, eps = 1e-8,
as in the CoRelNet reference), per feature. Identical objects give
``(z - mean) = 0`` exactly, so they map to ``beta`` (0 before the affine part),
never NaN. The "segmented" form (ESBN's task-segmented context norm) normalises
each listed group of object slots on its own.

References:
    T. W. Webb, Z. Dulberg, S. M. Frankland, A. A. Petrov, R. C. O'Reilly, J. D. Cohen,
    "Learning Representations that Support Extrapolation", ICML 2020, arXiv:2007.05059;
    G. Kerg et al., "On Neural Architecture Inductive Biases for Relational Tasks", 2022, arXiv:2206.05056.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

EPS = 1e-8


def context_normalise(z: Tensor, eps: float = EPS) -> Tensor:
    """``(z - mean) / sqrt(var + eps)`` over the object axis (dim 1) of ``z`` (B, N, D); unbiased variance.

    Examples:
        >>> import torch
        >>> z = context_normalise(torch.randn(2, 5, 3))
        >>> bool(torch.allclose(z.mean(1), torch.zeros(2, 3), atol=1e-6))
        True
        >>> context_normalise(torch.ones(1, 2, 3)).abs().max().item()   # identical objects: zeros, not NaN
        0.0
    """
    if z.dim() != 3:
        raise ValueError(f"context norm expects encodings (B, N, D), got shape {tuple(z.shape)}")
    if z.shape[1] < 2:
        raise ValueError(f"context norm needs at least 2 objects per example (unbiased variance), got N={z.shape[1]}")
    mean = z.mean(1, keepdim=True)
    var = z.var(1, keepdim=True, unbiased=True)
    return (z - mean) / (var + eps).sqrt()


class ContextNorm(nn.Module):
    """Context normalisation with a learned per-feature affine map (gamma = 1, beta = 0 at start).

    ``segments`` (optional): groups of object slots normalised separately
    (the repository's ``tasksegmented_contextnorm``); they must cover the
    slots in order, e.g. ``((0, 1), (2, 3), (4, 5))`` for RMTS.

    Examples:
        >>> import torch
        >>> norm = ContextNorm(4)
        >>> norm(torch.randn(3, 6, 4)).shape
        torch.Size([3, 6, 4])
    """

    def __init__(self, features: int, segments: Sequence[Sequence[int]] = (), eps: float = EPS) -> None:
        super().__init__()
        self.features, self.eps = int(features), float(eps)
        self.segments = tuple(tuple(int(i) for i in s) for s in segments)
        self.gamma = nn.Parameter(torch.ones(self.features))
        self.beta = nn.Parameter(torch.zeros(self.features))

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 3 or z.shape[-1] != self.features:
            raise ValueError(f"ContextNorm({self.features}) expects (B, N, {self.features}), got {tuple(z.shape)}")
        if not self.segments:
            normed = context_normalise(z, self.eps)
        else:
            flat = [i for s in self.segments for i in s]
            if flat != list(range(z.shape[1])):
                raise ValueError(f"segments {self.segments} must list the object slots 0..{z.shape[1] - 1} in order")
            normed = torch.cat([context_normalise(z[:, list(s)], self.eps) for s in self.segments], dim=1)
        return normed * self.gamma + self.beta

    def extra_repr(self) -> str:
        return f"{self.features}, segments={self.segments}" if self.segments else str(self.features)


__all__ = ["EPS", "ContextNorm", "context_normalise"]
