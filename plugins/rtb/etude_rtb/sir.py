"""Sampling-importance-resampling (SIR) reference for a prior and a reward: the ground truth of the claims.

From ``n`` prior trajectories with terminal points ``x_i`` and weights ``w_i = r(x_i)^beta``:
``log Z = log mean_i w_i`` (its standard error by the delta method,
``se = std(w) / (sqrt(n) mean(w))``), the posterior's mode weights
``sum_i w_i 1[x_i -> mode k] / sum_i w_i`` and a resampled posterior (multinomial on ``w``).
Asymptotically exact for any prior and reward; the error is small when ``r`` is not too peaked
relative to the prior.

References:
    S. Venkatraman et al., "Amortizing intractable inference in diffusion models for vision, language,
    and control", NeurIPS 2024, arXiv:2405.20971 (the posterior it targets, Prop. 1).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from etude_diffusion_samplers.metrics import mode_weights


@torch.no_grad()
def sir_reference(prior, reward, n: int = 200_000, *, beta: float = 1.0, modes: Tensor | None = None,
                  radius: float | None = None, n_resample: int = 5000, chunk: int = 50_000,
                  generator: torch.Generator | None = None) -> dict:
    """``{"log_Z", "log_Z_se", "ess", "mode_weights" (K,) or None, "samples" (n_resample, d), "log_r_mean"}``.

    ``prior`` is a ``DiffusionPath``; ``reward`` an etude Target with ``log_prob = log r``.
    ``log_r_mean`` is ``E_post[log r]`` (self-normalised).

    Examples:
        >>> import torch
        >>> from etude_rtb.priors import BrownianPrior
        >>> from etude_rtb.rewards import ConstantReward
        >>> ref = sir_reference(BrownianPrior(2, sigma2=1.0, n_steps=2), ConstantReward(2, 0.5), n=100)
        >>> round(ref["log_Z"], 4), ref["log_Z_se"]
        (0.5, 0.0)
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    xs, lrs = [], []
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        traj = prior.sample_forward(m, reward, generator=generator, with_grad=False)
        xs.append(traj.terminal)
        lrs.append(traj.log_r)
    x, log_r = torch.cat(xs), torch.cat(lrs).double()
    if not bool(torch.isfinite(log_r).all()):
        raise ValueError("sir_reference: the reward returned NaN or inf on prior samples; clip log r")
    lw = beta * log_r
    log_z = float(torch.logsumexp(lw, 0) - math.log(n))
    w = torch.exp(lw - lw.max())
    se = float(w.std() / (math.sqrt(n) * w.mean()))
    p = w / w.sum()
    out = {"log_Z": log_z, "log_Z_se": se, "ess": float(1.0 / (p**2).sum()), "log_r_mean": float((p * log_r).sum())}
    idx = torch.multinomial(p.float().cpu(), n_resample, replacement=True, generator=generator)
    out["samples"] = x[idx.to(x.device)]
    if modes is None:
        out["mode_weights"] = None
    else:
        modes = modes.to(x)
        dist = torch.cdist(x, modes)
        nearest, k = dist.min(1)
        keep = torch.ones_like(nearest, dtype=torch.bool) if radius is None else nearest <= radius
        mw = torch.zeros(modes.shape[0], dtype=torch.float64, device=x.device)
        mw.index_add_(0, k[keep], p[keep].to(mw))
        out["mode_weights"] = mw.float()
    return out


def mode_tv_to(samples: Tensor, modes: Tensor, reference: Tensor, radius: float | None = None) -> float:
    """``0.5 sum_k |p_hat_k - q_k|`` (+ the off-mode bin with ``radius``) of samples against reference weights."""
    p = mode_weights(samples, modes.to(samples), radius)
    off = (1.0 - p.sum()).clamp(min=0.0) - (1.0 - reference.sum()).clamp(min=0.0)
    return float(0.5 * ((p - reference.to(p)).abs().sum() + off.abs()))
