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


def mode_weights(samples: Tensor, modes: Tensor, radius: float | None = None) -> Tensor:
    """Fraction of samples whose nearest mode is each of ``modes`` (K,).

    With ``radius``, a sample farther than ``radius`` from its nearest mode is
    off-mode and counts for no mode, so the fractions sum to 1 minus the
    off-mode fraction (:func:`off_mode_fraction`). ``radius=None`` assigns
    every sample to its nearest mode.
    """
    if radius is not None and not radius > 0:
        raise ValueError(f"radius must be > 0 or None, got {radius!r}")
    dist = torch.cdist(samples.detach().to(modes), modes)
    nearest, idx = dist.min(1)
    counts = torch.zeros(modes.shape[0], dtype=modes.dtype, device=modes.device)
    keep = torch.ones_like(nearest, dtype=torch.bool) if radius is None else nearest <= radius
    counts.index_add_(0, idx[keep], torch.ones_like(nearest[keep]))
    return counts / samples.shape[0]


def off_mode_fraction(samples: Tensor, modes: Tensor, radius: float | None = None) -> float:
    """Fraction of samples farther than ``radius`` from every mode (0 when ``radius`` is None)."""
    return float(1.0 - mode_weights(samples, modes, radius).sum())


def modes_covered(samples: Tensor, modes: Tensor, threshold: float = 0.02, radius: float | None = None) -> int:
    """Number of modes holding more than ``threshold`` of the samples (within ``radius`` of the mode, if given)."""
    return int((mode_weights(samples, modes, radius) > threshold).sum())


def mode_tv(samples: Tensor, modes: Tensor, weights: Tensor | None = None, radius: float | None = None) -> float:
    """Total variation between sample mode weights and the target's, with an off-mode bin when ``radius`` is given.

    ``0.5 (sum_k |p_hat_k - w_k| + p_off)``: the off-mode fraction ``p_off``
    (samples beyond ``radius`` of every mode) is its own bin, of target weight 0.
    """
    w = torch.full((modes.shape[0],), 1.0 / modes.shape[0]) if weights is None else weights
    p = mode_weights(samples, modes, radius)
    off = (1.0 - p.sum()).clamp(min=0.0)
    return float(0.5 * ((p - w.to(modes)).abs().sum() + off))
