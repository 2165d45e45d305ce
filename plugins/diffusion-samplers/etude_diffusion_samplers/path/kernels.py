"""Gaussian transition kernels of the diffusion path: the Euler-Maruyama forward step and the Brownian bridge.

Forward (policy) kernel over a step ``t -> t + dt``::

    p_F(x' | x) = N(x'; x + u(x, t) dt, sigma^2 dt exp(h(x, t)) I)

Backward kernel, the Brownian bridge of ``W_t ~ N(0, sigma^2 t I)`` pinned at 0::

    p_B(x_s | x_t) = N(x_s; (s/t) x_t, sigma^2 s (t - s) / t I),   s < t

For the uniform grid this is mean ``x - x dt / t`` and variance ``sigma^2 dt (t - dt) / t``.
At ``s = 0`` the bridge is a point mass at 0 and contributes 0 to log p_B.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(x: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """Diagonal Gaussian log density summed over the last axis (``log_var`` broadcasts)."""
    log_var = torch.as_tensor(log_var, dtype=x.dtype, device=x.device).expand_as(x)
    return -0.5 * (((x - mean) ** 2) * torch.exp(-log_var) + log_var + LOG_2PI).sum(-1)


def bridge_params(x_t: Tensor, t: Tensor | float, s: Tensor | float, sigma2: float) -> tuple[Tensor, Tensor]:
    """Mean and variance of the Brownian bridge step ``x_t -> x_s`` (``0 <= s < t``)."""
    t = torch.as_tensor(t, dtype=x_t.dtype, device=x_t.device)
    s = torch.as_tensor(s, dtype=x_t.dtype, device=x_t.device)
    ratio = s / t
    mean = ratio.unsqueeze(-1) * x_t if ratio.ndim else ratio * x_t
    var = sigma2 * s * (t - s) / t
    return mean, var


def bridge_log_prob(x_s: Tensor, x_t: Tensor, t, s, sigma2: float) -> Tensor:
    """``log p_B(x_s | x_t)``; 0 where ``s == 0`` (the point mass at the origin)."""
    mean, var = bridge_params(x_t, t, s, sigma2)
    s_t = torch.as_tensor(s, dtype=x_t.dtype, device=x_t.device)
    safe_var = torch.where(s_t > 0, var, torch.ones_like(var))
    if safe_var.ndim:
        safe_var = safe_var.unsqueeze(-1)
    lp = gaussian_log_prob(x_s, mean, torch.log(safe_var))
    return torch.where(s_t > 0, lp, torch.zeros_like(lp))


def backward_log_density(states: Tensor, grid: Tensor, sigma2: float) -> Tensor:
    """Per-step ``log p_B(x_k | x_{k+1})`` of whole trajectories: (B, T+1, d) -> (B, T), batched."""
    t_next, t_now = grid[1:].to(states), grid[:-1].to(states)
    ratio = (t_now / t_next)[:, None]  # (T, 1)
    mean = ratio * states[:, 1:]
    var = sigma2 * t_now * (t_next - t_now) / t_next  # (T,)
    safe = torch.where(t_now > 0, var, torch.ones_like(var))
    lp = -0.5 * ((states[:, :-1] - mean) ** 2 / safe[:, None] + torch.log(safe)[:, None] + LOG_2PI).sum(-1)
    return torch.where(t_now > 0, lp, torch.zeros_like(lp))


def sample_bridge_path(x1: Tensor, grid: Tensor, sigma2: float, generator: torch.Generator | None = None) -> Tensor:
    """States (B, T+1, d) of backward trajectories from ``x1`` to 0 under the bridge (no network)."""
    n_steps = grid.numel() - 1
    b, d = x1.shape
    states = x1.new_zeros(b, n_steps + 1, d)
    states[:, -1] = x1
    noise = torch.randn(b, n_steps, d, generator=generator, dtype=x1.dtype).to(x1.device)
    x = x1
    for k in range(n_steps - 1, 0, -1):
        t, s = float(grid[k + 1]), float(grid[k])
        mean = (s / t) * x
        x = mean + math.sqrt(sigma2 * s * (t - s) / t) * noise[:, k]
        states[:, k] = x
    return states
