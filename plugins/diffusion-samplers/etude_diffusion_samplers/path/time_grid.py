"""Time grids 0 = t_0 < t_1 < ... < t_T = 1 for the Euler-Maruyama discretisation."""

from __future__ import annotations

import torch
from torch import Tensor


def uniform_grid(n_steps: int, *, dtype: torch.dtype = torch.float32, device=None) -> Tensor:
    """``t_k = k / T`` for ``k = 0..T`` (the paper's grid, Δt = 1/T)."""
    _check_steps(n_steps)
    return torch.linspace(0.0, 1.0, n_steps + 1, dtype=dtype, device=device)


def random_grid(
    n_steps: int,
    *,
    max_ratio: float = 10.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device=None,
) -> Tensor:
    """A random grid whose step sizes differ by at most ``max_ratio`` (the later code's discretiser).

    Step sizes are drawn uniformly in ``[1, max_ratio]`` and normalised to sum to 1.
    """
    _check_steps(n_steps)
    if not max_ratio >= 1.0:
        raise ValueError(f"max_ratio must be >= 1, got {max_ratio}")
    steps = 1.0 + (max_ratio - 1.0) * torch.rand(n_steps, generator=generator, dtype=torch.float64)
    grid = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(steps / steps.sum(), 0)])
    grid[-1] = 1.0
    return grid.to(dtype=dtype, device=device)


def check_grid(grid: Tensor) -> Tensor:
    """Raise unless ``grid`` is 1-D, starts at 0, ends at 1 and is strictly increasing."""
    if not isinstance(grid, Tensor) or grid.ndim != 1 or grid.numel() < 2:
        raise ValueError(f"time grid must be a 1-D tensor with at least 2 points, got {getattr(grid, 'shape', grid)}")
    if abs(float(grid[0])) > 1e-7 or abs(float(grid[-1]) - 1.0) > 1e-6 or not bool((grid[1:] > grid[:-1]).all()):
        raise ValueError("time grid must be strictly increasing from 0 to 1")
    return grid


def _check_steps(n_steps: int) -> None:
    if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
