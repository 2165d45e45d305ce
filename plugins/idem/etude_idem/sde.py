"""Reverse-time VE SDE integration (Euler-Maruyama) with centre-of-mass removal and negative-time descent.

The forward noising ``dx = g(t) dW`` has the reverse ``dx = -g(t)^2 grad log p_t(x) dt + g(t) dW̄``;
stepping t from 1 to 0 with a positive step ``dt = 1/N``:

    x <- x + g(t)^2 s(x, t) dt + diffusion_scale * g(t) sqrt(dt) xi,   xi ~ N(0, I),

starting from ``x_1 ~ N(0, h(1) I)`` (mean-free for particles, whose states are
re-centred after every step). ``diffusion_scale < 1`` lowers the sampling
temperature (DEM: 0.9 for LJ-13, 0.5 for LJ-55). Optional "negative time":
after t = 0, ``x <- x + 1e-4 clip(grad log R(x))`` for a few steps (gradient
descent on the energy; DEM's LJ-55 setting, 10 steps).

References:
    T. Akhound-Sadegh et al., ICML 2024, arXiv:2402.06121 (Sec. 3.3, App. C).
    Y. Song et al., ICLR 2021, arXiv:2011.13456.

Examples:
    >>> import torch
    >>> from etude_idem.schedules import NoiseSchedule
    >>> sch = NoiseSchedule(sigma_min=0.01, sigma_max=1.0)
    >>> x = reverse_sde(lambda x, t: -x / (1.0 + sch.h(t))[:, None], torch.randn(4, 2), sch, n_steps=50)
    >>> x.shape
    torch.Size([4, 2])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .particles import Layout, mean_free_randn, remove_mean
from .schedules import NoiseSchedule
from .score import clip_score


def prior_sample(n: int, dim: int, schedule: NoiseSchedule, *, layout: Layout | None = None, generator=None, dtype=None, device=None) -> Tensor:
    """``x_1 ~ N(0, h(1) I)``, mean-free for particles: (n, dim)."""
    if layout is not None:
        eps = mean_free_randn((n,), layout, generator=generator, dtype=dtype)
    else:
        eps = torch.randn(n, dim, generator=generator, dtype=dtype or torch.get_default_dtype())
    return (schedule.prior_std * eps).to(device) if device is not None else schedule.prior_std * eps


@torch.no_grad()
def reverse_sde(
    score: Callable[[Tensor, Tensor], Tensor],
    x1: Tensor,
    schedule: NoiseSchedule,
    *,
    n_steps: int = 1000,
    diffusion_scale: float = 1.0,
    layout: Layout | None = None,
    target=None,
    negative_time_steps: int = 0,
    negative_time_lr: float = 1e-4,
    max_norm: float | None = None,
    generator: torch.Generator | None = None,
    on_step: Callable[[int, Tensor], None] | None = None,
) -> Tensor:
    """Integrate the reverse SDE from ``x1`` (B, D) at t = 1 to t = 0 (module docstring); returns x_0.

    ``score(x, t)`` gets (B, D) states and (B,) times. ``on_step(k, x)`` is
    called after every step (tests use it to check the centre of mass).
    Negative-time descent needs ``target``; its gradient is clipped to ``max_norm``.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    if not diffusion_scale >= 0:
        raise ValueError(f"diffusion_scale must be >= 0, got {diffusion_scale}")
    if negative_time_steps and target is None:
        raise ValueError("negative_time_steps > 0 needs the target (its energy gradient)")
    dt = 1.0 / n_steps
    x = remove_mean(x1, layout) if layout is not None else x1.clone()
    b = x.shape[0]
    times = torch.linspace(1.0, 0.0, n_steps + 1, dtype=x.dtype, device=x.device)
    for k in range(n_steps):
        t = times[k].expand(b)
        g = schedule.g(t)[:, None]
        if layout is not None:
            xi = mean_free_randn((b,), layout, generator=generator, dtype=x.dtype).to(x.device)
        else:
            xi = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        x = x + g**2 * score(x, t) * dt + diffusion_scale * g * math.sqrt(dt) * xi
        if layout is not None:
            x = remove_mean(x, layout)
        if on_step is not None:
            on_step(k, x)
    if negative_time_steps:
        from etude_diffusion_samplers.targets import log_prob_and_grad  # noqa: PLC0415

        for _ in range(negative_time_steps):
            _, grad = log_prob_and_grad(target, x)
            x = x + negative_time_lr * clip_score(torch.nan_to_num(grad), max_norm, layout)
            if layout is not None:
                x = remove_mean(x, layout)
    return x
