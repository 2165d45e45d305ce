"""The DEM Monte Carlo score estimator ``S_K``, its vmap reference, Richardson extrapolation and clipping.

For a VE-noised Boltzmann density ``p_t = mu * N(0, sigma_t^2 I)`` with
``mu ∝ exp(-E)``, the score is ``grad log p_t(x) = grad_x log E_eps[exp(-E(x + sigma_t eps))]``.
DEM's regression target replaces the expectation by K fixed samples,

    S_K(x, t) = grad_x log sum_i exp(-E(x + sigma_t eps_i))
              = sum_i softmax_i(-E(z_i)) (-grad E(z_i)),   z_i = x + sigma_t eps_i,

a self-normalised estimate: biased for finite K, consistent as K grows.
:func:`dem_score` evaluates it as the softmax-weighted mean of ``-grad E`` over
all (B, K) points in **one** batched autograd call (B·K energy evaluations);
:func:`dem_score_vmap` is the official shape (``torch.func.grad`` of the
log-sum-exp, ``vmap`` over the batch with ``randomness="different"``), kept as
the test reference. Richardson extrapolation ``2 S_K - S_{K/2}`` reduces the
bias; here ``S_{K/2}`` reuses the first K/2 of the same samples (no extra
energy calls; the official code draws a fresh set). :func:`clip_score` bounds
the norm globally or per particle (pitfall 1 of the paper).

References:
    T. Akhound-Sadegh et al., "Iterated Denoising Energy Matching for Sampling from
    Boltzmann Densities", ICML 2024, arXiv:2402.06121 (Eq. 8-10, Prop. 3.1).

Examples:
    >>> import torch
    >>> from etude_diffusion_samplers.targets import Gaussian
    >>> from etude_idem.schedules import NoiseSchedule
    >>> s = dem_score(Gaussian(dim=2), torch.zeros(4, 2), torch.full((4,), 0.5), 100, NoiseSchedule(sigma_max=2.0))
    >>> s.shape
    torch.Size([4, 2])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .particles import Layout, mean_free_randn, remove_mean
from .schedules import NoiseSchedule

_EPS = 1e-6


def _check(x: Tensor, t: Tensor, k: int, target) -> Tensor:
    if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != target.dim:
        raise ValueError(f"x must have shape (B, {target.dim}), got {tuple(getattr(x, 'shape', ()))}")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"K (num_mc) must be a positive integer, got {k!r}")
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"t must be a scalar or have shape ({x.shape[0]},), got {tuple(t.shape)}")
    if bool(((t < 0) | (t > 1)).any()):
        raise ValueError("t must lie in [0, 1]")
    return t


def draw_noise(b: int, k: int, dim: int, *, layout: Layout | None = None, generator=None, dtype=None, device=None) -> Tensor:
    """The K reparametrisation samples per point, (B, K, dim); mean-free for particles."""
    if layout is not None:
        return mean_free_randn((b, k), layout, generator=generator, dtype=dtype, device=device)
    eps = torch.randn(b, k, dim, generator=generator, dtype=dtype or torch.get_default_dtype())
    return eps.to(device) if device is not None else eps


def clip_score(s: Tensor, max_norm: float | None, layout: Layout | None = None) -> Tensor:
    """Scale ``s`` (..., D) so its norm (or, with a particle ``layout``, each particle's norm) is at most ``max_norm``.

    ``s * min(1, max_norm / (|s| + 1e-6))``; ``max_norm=None`` or ``0`` returns ``s`` unchanged.
    """
    if not max_norm:
        return s
    if layout is None:
        norm = torch.linalg.vector_norm(s, dim=-1, keepdim=True)
        return s * torch.clamp(max_norm / (norm + _EPS), max=1.0)
    n, d = layout
    y = s.reshape(*s.shape[:-1], n, d)
    norm = torch.linalg.vector_norm(y, dim=-1, keepdim=True)
    return (y * torch.clamp(max_norm / (norm + _EPS), max=1.0)).reshape(s.shape)


def _weighted_scores(target, z: Tensor) -> tuple[Tensor, Tensor]:
    """``(log R(z) (B, K), grad log R(z) (B, K, D))`` in one autograd call over all B·K points."""
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        log_r = target.log_prob(z)
        (grad,) = torch.autograd.grad(log_r.sum(), z)
    return log_r.detach(), grad.detach()


def _softmax_mean(log_r: Tensor, grad: Tensor) -> Tensor:
    w = torch.softmax(torch.nan_to_num(log_r, nan=-math.inf), dim=1)
    return (w.unsqueeze(-1) * torch.nan_to_num(grad)).sum(1)


def dem_score(
    target,
    x: Tensor,
    t: Tensor | float,
    num_mc: int,
    schedule: NoiseSchedule,
    *,
    noise: Tensor | None = None,
    generator: torch.Generator | None = None,
    richardson: bool = False,
    max_norm: float | None = None,
    layout: Layout | None = None,
    per_particle: bool = True,
) -> Tensor:
    """``S_K(x, t)`` (B, D) by one batched autograd call over (B, K) points (module docstring).

    Args:
        target: an etude Target (``log_prob = -E``), energy calls counted (B·K per call).
        x: (B, D) noisy points; t: scalar or (B,) times in [0, 1].
        num_mc: K; noise: optional fixed (B, K, D) samples (else drawn, mean-free for particles).
        richardson: return ``2 S_K - S_{K/2}`` with ``S_{K/2}`` from the first K/2 samples (K >= 2).
        max_norm: clip the result's norm; None = no clip.
        layout: ``(n_particles, spatial_dim)`` for particle systems: mean-free noise and result.
        per_particle: with a ``layout``, clip each particle's vector (else the whole vector).
    """
    t = _check(x, t, num_mc, target)
    b, dim = x.shape
    if noise is None:
        noise = draw_noise(b, num_mc, dim, layout=layout, generator=generator, dtype=x.dtype, device=x.device)
    elif noise.shape != (b, num_mc, dim):
        raise ValueError(f"noise must have shape ({b}, {num_mc}, {dim}), got {tuple(noise.shape)}")
    sigma = schedule.sigma(t).to(x)
    z = x.detach().unsqueeze(1) + sigma[:, None, None] * noise
    log_r, grad = _weighted_scores(target, z)
    s = _softmax_mean(log_r, grad)
    if richardson:
        if num_mc < 2:
            raise ValueError("richardson=True needs num_mc >= 2")
        half = num_mc // 2
        s = 2 * s - _softmax_mean(log_r[:, :half], grad[:, :half])
    if layout is not None:
        s = remove_mean(s, layout)
    return clip_score(s, max_norm, layout if per_particle else None)


def dem_score_vmap(
    target,
    x: Tensor,
    t: Tensor | float,
    num_mc: int,
    schedule: NoiseSchedule,
    *,
    noise: Tensor | None = None,
    layout: Layout | None = None,
) -> Tensor:
    """The reference ``S_K``: ``vmap(grad(log-sum-exp), randomness="different")`` over the batch (the official shape).

    With ``noise`` (B, K, D) it uses those samples (then it must equal :func:`dem_score`);
    without, each row draws its own inside ``vmap`` (``randomness="different"``).
    No clipping or Richardson: those wrap the estimator.
    """
    t = _check(x, t, num_mc, target)
    sigma = schedule.sigma(t).to(x)

    def log_expectation(xi: Tensor, si: Tensor, ei: Tensor) -> Tensor:
        return torch.logsumexp(target.log_prob(xi + si * ei), dim=0) - math.log(num_mc)

    def log_expectation_fresh(xi: Tensor, si: Tensor) -> Tensor:
        ei = torch.randn(num_mc, xi.shape[-1], dtype=xi.dtype, device=xi.device)
        if layout is not None:
            ei = remove_mean(ei, layout)
        return log_expectation(xi, si, ei)

    if noise is not None:
        if noise.shape != (x.shape[0], num_mc, x.shape[1]):
            raise ValueError(f"noise must have shape ({x.shape[0]}, {num_mc}, {x.shape[1]}), got {tuple(noise.shape)}")
        s = torch.vmap(torch.func.grad(log_expectation), in_dims=(0, 0, 0))(x.detach(), sigma, noise)
    else:
        s = torch.vmap(torch.func.grad(log_expectation_fresh), in_dims=(0, 0), randomness="different")(x.detach(), sigma)
    return remove_mean(s, layout) if layout is not None else s
