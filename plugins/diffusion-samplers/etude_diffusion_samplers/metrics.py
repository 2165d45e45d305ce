"""Sample-quality metrics: W2 (POT), MMD, modes covered, total variation of mode weights."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor


def _check_pair(x: Tensor, y: Tensor, who: str) -> None:
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"{who}: x and y must be (n, d) and (m, d) with the same d, got {tuple(x.shape)}, {tuple(y.shape)}")


def wasserstein2(x: Tensor, y: Tensor) -> float:
    """Exact 2-Wasserstein distance between two empirical measures (``ot.emd2`` on squared distances, then sqrt)."""
    import ot  # noqa: PLC0415

    _check_pair(x, y, "wasserstein2")
    a = x.detach().double().cpu().numpy()
    b = y.detach().double().cpu().numpy()
    cost = ot.dist(a, b, metric="sqeuclidean")
    value = ot.emd2(np.full(len(a), 1 / len(a)), np.full(len(b), 1 / len(b)), cost, numItermax=1_000_000)
    return math.sqrt(max(float(value), 0.0))


def mmd(x: Tensor, y: Tensor, bandwidth: float | None = None) -> float:
    """Unbiased squared MMD with a Gaussian kernel (median-heuristic bandwidth by default)."""
    _check_pair(x, y, "mmd")
    x, y = x.detach().double(), y.detach().double()
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z) ** 2
    if bandwidth is None:
        bandwidth = float(torch.sqrt(0.5 * d2[d2 > 0].median()))
    k = torch.exp(-d2 / (2 * bandwidth**2))
    n, m = len(x), len(y)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    term_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    term_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(term_x + term_y - 2 * kxy.mean())


def mode_weights(samples: Tensor, modes: Tensor) -> Tensor:
    """Fraction of samples whose nearest mode is each of ``modes`` (K,)."""
    idx = torch.cdist(samples.detach().to(modes), modes).argmin(1)
    return torch.bincount(idx, minlength=modes.shape[0]).to(modes.dtype) / samples.shape[0]


def modes_covered(samples: Tensor, modes: Tensor, threshold: float = 0.02) -> int:
    """Number of modes holding more than ``threshold`` of the samples."""
    return int((mode_weights(samples, modes) > threshold).sum())


def mode_tv(samples: Tensor, modes: Tensor, weights: Tensor | None = None) -> float:
    """Total variation ``0.5 sum_k |p_hat_k - w_k|`` between sample mode weights and the target's."""
    w = torch.full((modes.shape[0],), 1.0 / modes.shape[0]) if weights is None else weights
    return float(0.5 * (mode_weights(samples, modes) - w.to(modes)).abs().sum())
