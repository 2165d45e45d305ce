"""Sample metrics of the iDEM evaluation: sample W2, and for particles the energy and interatomic-distance W2.

Sample W2 is ``etude_diffusion_samplers.metrics.wasserstein2`` (POT exact EMD,
1000 vs 1000 in the paper). For particle systems the paper adds two 1-D
distances: W2 between the energy histograms (the empirical distributions of
``E(x)``) and between the pooled interatomic distances; both are the exact 1-D
optimal-transport W2 (``ot.wasserstein_1d`` with p = 2, square-rooted).

Examples:
    >>> import torch
    >>> round(w2_1d(torch.zeros(100), torch.ones(100)), 6)
    1.0
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .particles import Layout, pairwise_distances


def w2_1d(u: Tensor, v: Tensor) -> float:
    """Exact 2-Wasserstein distance between two 1-D empirical distributions (non-finite values dropped)."""
    import ot  # noqa: PLC0415

    a, b = u.detach().double().reshape(-1), v.detach().double().reshape(-1)
    a, b = a[torch.isfinite(a)], b[torch.isfinite(b)]
    if a.numel() == 0 or b.numel() == 0:
        return math.inf
    return math.sqrt(max(float(ot.wasserstein_1d(a.cpu().numpy(), b.cpu().numpy(), p=2)), 0.0))


def energy_w2(x: Tensor, y: Tensor, target) -> float:
    """W2 between the energy distributions of samples ``x`` and reference ``y`` (energy calls not counted)."""
    calls = target.energy_calls
    with torch.no_grad():
        e = w2_1d(target.energy(x.to(torch.get_default_dtype())), target.energy(y.to(torch.get_default_dtype())))
    target.energy_calls = calls
    return e


def distance_w2(x: Tensor, y: Tensor, layout: Layout) -> float:
    """W2 between the pooled interatomic-distance distributions of ``x`` and ``y``."""
    return w2_1d(pairwise_distances(x, layout), pairwise_distances(y, layout))


def evaluate_samples(x: Tensor, target, reference: Tensor, *, radius: float | None = 1.0) -> dict[str, float]:
    """``{"w2"}`` plus mode metrics for targets with ``modes`` or energy / distance W2 for particle targets.

    A sample set with any non-finite entry (a diverged run) scores ``inf``.
    """
    from etude_diffusion_samplers import metrics  # noqa: PLC0415

    from .particles import particle_layout  # noqa: PLC0415

    x = x.detach().float().cpu()
    reference = reference.detach().float().cpu()
    if not bool(torch.isfinite(x).all()):
        out = {"w2": math.inf, "finite": False}
        if particle_layout(target) is not None:
            out.update(energy_w2=math.inf, distance_w2=math.inf)
        return out
    out: dict[str, float] = {"w2": metrics.wasserstein2(x, reference), "finite": True}
    modes = getattr(target, "modes", None)
    if modes is not None:
        m = modes.float().cpu()
        w = target.weights.float().cpu()
        out["modes"] = metrics.modes_covered(x, m, radius=radius)
        out["mode_tv"] = metrics.mode_tv(x, m, w, radius=radius)
    layout = particle_layout(target)
    if layout is not None:
        out["energy_w2"] = energy_w2(x, reference, target)
        out["distance_w2"] = distance_w2(x, reference, layout)
    return out
