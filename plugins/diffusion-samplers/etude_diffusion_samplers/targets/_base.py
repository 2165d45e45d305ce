"""Shared helpers of the targets: input checks and the energy gradient."""

from __future__ import annotations

import torch
from torch import Tensor


def check_points(x: Tensor, dim: int, who: str) -> Tensor:
    """Raise a clear error unless ``x`` is a floating tensor of shape (..., dim)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: x must be a torch.Tensor of shape (..., {dim}), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{who}: x must be a floating-point tensor, got dtype {x.dtype}; call x.float()")
    if x.ndim == 0 or x.shape[-1] != dim:
        raise ValueError(f"{who}: x must have shape (..., {dim}), got {tuple(x.shape)}")
    return x


def log_prob_and_grad(target, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(log R(x), grad_x log R(x))`` for a batch of points, both detached.

    ``x`` itself is detached first, so this never builds a graph through the
    caller's computation. Each call costs ``x.shape[0]`` energy evaluations.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        log_r = target.log_prob(x)
        (grad,) = torch.autograd.grad(log_r.sum(), x)
    return log_r.detach(), grad.detach()


def sample_shape_of(sample_shape) -> torch.Size:
    if isinstance(sample_shape, int):
        return torch.Size([sample_shape])
    return torch.Size(sample_shape)
