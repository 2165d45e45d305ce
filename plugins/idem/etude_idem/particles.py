"""Particle-system helpers: centre-of-mass removal, mean-free Gaussians, pairwise distances.

A configuration of ``n`` particles in ``d`` dimensions is stored flat, (..., n*d).
The energies of :mod:`.targets` are invariant under E(d) x S_n, so the samplers
work in the zero-centre-of-mass subspace: noise, prior samples and SDE states
are projected onto it, and the mean-free Gaussian prior has ``(n - 1) d``
degrees of freedom in its normaliser.

References:
    T. Akhound-Sadegh et al., "Iterated Denoising Energy Matching for Sampling from
    Boltzmann Densities", ICML 2024, arXiv:2402.06121 (Sec. 4, equivariance).
    J. Köhler, L. Klein, F. Noé, "Equivariant Flows", ICML 2020, arXiv:2006.02425.

Examples:
    >>> import torch
    >>> x = remove_mean(torch.randn(5, 8), (4, 2))
    >>> bool(x.reshape(5, 4, 2).mean(1).abs().max() < 1e-6)
    True
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

Layout = tuple[int, int]


def check_layout(x: Tensor, layout: Layout, who: str) -> tuple[int, int]:
    n, d = layout
    if x.shape[-1] != n * d:
        raise ValueError(f"{who}: x must have shape (..., {n * d}) for {n} particles in {d}-D, got {tuple(x.shape)}")
    return n, d


def remove_mean(x: Tensor, layout: Layout) -> Tensor:
    """Subtract each configuration's centre of mass: (..., n*d) -> (..., n*d)."""
    n, d = check_layout(x, layout, "remove_mean")
    y = x.reshape(*x.shape[:-1], n, d)
    return (y - y.mean(-2, keepdim=True)).reshape(x.shape)


def mean_free_randn(shape: tuple[int, ...], layout: Layout, *, generator=None, dtype=None, device=None) -> Tensor:
    """Standard normal noise projected onto the zero-centre-of-mass subspace, shape (*shape, n*d)."""
    n, d = layout
    eps = torch.randn(*shape, n * d, generator=generator, dtype=dtype or torch.get_default_dtype())
    return remove_mean(eps.to(device) if device is not None else eps, layout)


def mean_free_normal_log_prob(x: Tensor, std: float, layout: Layout) -> Tensor:
    """Log density of the mean-free Gaussian ``N(0, std^2 I)`` restricted to the subspace: ``(n-1) d`` degrees of freedom.

    ``x`` must already be mean-free; the normaliser is ``-(n-1) d / 2 log(2 pi std^2)``.
    """
    n, d = check_layout(x, layout, "mean_free_normal_log_prob")
    dof = (n - 1) * d
    return -0.5 * (x**2).sum(-1) / std**2 - 0.5 * dof * math.log(2 * math.pi * std**2)


def pairwise_distances(x: Tensor, layout: Layout) -> Tensor:
    """Distances of the ``n (n-1) / 2`` unique pairs ``i < j``: (..., n*d) -> (..., n(n-1)/2)."""
    n, d = check_layout(x, layout, "pairwise_distances")
    y = x.reshape(*x.shape[:-1], n, d)
    i, j = torch.triu_indices(n, n, offset=1, device=x.device)
    return torch.linalg.vector_norm(y[..., i, :] - y[..., j, :], dim=-1)


def particle_layout(target) -> Layout | None:
    """``(n_particles, spatial_dim)`` of a particle target, or None for a plain vector target."""
    n = getattr(target, "n_particles", None)
    return None if n is None else (int(n), int(target.spatial_dim))
