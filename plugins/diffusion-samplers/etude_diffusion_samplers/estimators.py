"""Estimators of log Z from trajectories of a diffusion sampler.

With ``w(tau) = log R(x_T) + sum log p_B(tau | x_T) - sum log p_F(tau)``:

* ``elbo``: ``mean_k w(tau_k)`` over forward trajectories, a lower bound on log Z (log Ẑ);
* ``iw``: ``logmeanexp_k w(tau_k)``, the importance-weighted bound log Ẑ_RW (tends to log Z as K grows);
* ``learned``: the TB parameter log Z_theta (or the flow at the origin for SubTB);
* ``eubo``: ``mean w`` over *backward* trajectories from exact target samples, an upper bound;
* ``mean_log_likelihood``: ``mean_x logmeanexp_k (sum log p_F - sum log p_B)`` over backward
  trajectories from test points, a lower bound on the sampler's log-density of x.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .path import DiffusionPath, Trajectory


def logmeanexp(x: Tensor, dim: int = 0) -> Tensor:
    return torch.logsumexp(x, dim) - math.log(x.shape[dim])


def elbo(traj: Trajectory) -> float:
    return float(traj.log_weight.detach().mean())


def importance_weighted(traj: Trajectory) -> float:
    return float(logmeanexp(traj.log_weight.detach().double()))


@torch.no_grad()
def estimate_log_z(path: DiffusionPath, target, n: int, *, generator: torch.Generator | None = None) -> dict[str, float]:
    """``{"elbo", "iw"}`` from ``n`` fresh on-policy trajectories."""
    traj = path.sample_forward(n, target, generator=generator, with_grad=False)
    return {"elbo": elbo(traj), "iw": importance_weighted(traj)}


@torch.no_grad()
def eubo(path: DiffusionPath, target, x: Tensor, *, generator: torch.Generator | None = None) -> float:
    """Evidence upper bound from target samples ``x`` (N, d) and one backward trajectory each."""
    traj = path.sample_backward(x, target, generator=generator, with_grad=False)
    return float(traj.log_weight.detach().mean())


@torch.no_grad()
def mean_log_likelihood(
    path: DiffusionPath, target, x: Tensor, *, n_traj: int = 10, generator: torch.Generator | None = None
) -> float:
    """``mean_x logmeanexp_k (sum log p_F - sum log p_B)`` with ``n_traj`` backward trajectories per point."""
    b = x.shape[0]
    rep = x.repeat_interleave(n_traj, 0)
    traj = path.sample_backward(rep, target, generator=generator, with_grad=False, log_r=torch.zeros(rep.shape[0]))
    lw = (traj.log_pf.sum(-1) - traj.log_pb.sum(-1)).reshape(b, n_traj)
    return float(logmeanexp(lw, 1).mean())
