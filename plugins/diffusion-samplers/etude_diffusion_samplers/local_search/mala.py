"""Parallel Metropolis-adjusted Langevin local search with an adaptive step size."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..targets import log_prob_and_grad


@dataclass
class MALAResult:
    """Accepted post-burn-in proposals, the final chain state, the final step size and per-step acceptance rates."""

    samples: Tensor
    log_r: Tensor
    final: Tensor
    step_size: float
    acceptance: list[float]


def mala(
    x: Tensor,
    target,
    *,
    n_steps: int = 200,
    burn_in: int = 100,
    step_size: float = 0.01,
    adaptive: bool = True,
    target_acceptance: float = 0.574,
    adapt_factor: float = 0.1,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
) -> MALAResult:
    """Run ``x.shape[0]`` MALA chains on ``R^beta`` in parallel.

    Proposal ``x* = x + eta beta grad log R(x) + sqrt(2 eta) xi``; accept with
    ``min(1, R(x*)^beta q(x | x*) / (R(x)^beta q(x* | x)))`` where
    ``q(x' | x) = N(x'; x + eta beta grad log R(x), 2 eta I)``. With ``adaptive``,
    ``eta`` is multiplied by ``1 + adapt_factor`` after a step whose acceptance
    rate exceeds ``target_acceptance`` and by ``1 - adapt_factor`` otherwise.
    Every accepted proposal after ``burn_in`` steps is returned (the LS buffer's input).
    One target evaluation (value and gradient) per chain and step.
    """
    if x.ndim != 2:
        raise ValueError(f"x must have shape (chains, d), got {tuple(x.shape)}")
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    if n_steps < 1 or not 0 <= burn_in < n_steps:
        raise ValueError(f"need n_steps >= 1 and 0 <= burn_in < n_steps, got n_steps={n_steps}, burn_in={burn_in}")
    eta = float(step_size)
    x = x.detach().clone()
    log_r, grad = log_prob_and_grad(target, x)
    kept_x, kept_r, rates = [], [], []
    for i in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        prop = x + eta * beta * grad + math.sqrt(2 * eta) * noise
        log_r_p, grad_p = log_prob_and_grad(target, prop)
        log_q_fwd = -((prop - x - eta * beta * grad) ** 2).sum(-1) / (4 * eta)
        log_q_bwd = -((x - prop - eta * beta * grad_p) ** 2).sum(-1) / (4 * eta)
        log_alpha = beta * (log_r_p - log_r) + log_q_bwd - log_q_fwd
        u = torch.rand(x.shape[0], generator=generator, dtype=x.dtype).to(x.device)
        accept = (torch.log(u) < log_alpha) & torch.isfinite(log_r_p)
        x = torch.where(accept[:, None], prop, x)
        log_r = torch.where(accept, log_r_p, log_r)
        grad = torch.where(accept[:, None], grad_p, grad)
        rate = float(accept.float().mean())
        rates.append(rate)
        if i >= burn_in:
            kept_x.append(prop[accept])
            kept_r.append(log_r_p[accept])
        if adaptive:
            eta *= (1 + adapt_factor) if rate > target_acceptance else (1 - adapt_factor)
    samples = torch.cat(kept_x) if kept_x else x.new_zeros(0, x.shape[1])
    return MALAResult(samples, torch.cat(kept_r) if kept_r else x.new_zeros(0), x, eta, rates)
