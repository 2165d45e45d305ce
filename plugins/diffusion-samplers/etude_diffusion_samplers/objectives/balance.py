"""Trajectory-level objectives of GFlowNet-style diffusion samplers, in plain torch.

With ``delta(tau) = sum_k log p_F - sum_k log p_B - log R(x_T)`` (per trajectory):

* trajectory balance: ``L_TB = mean (log Z_theta + delta)^2``;
* VarGrad ("TB-avg"): ``L_VG = mean (delta - mean delta)^2``, i.e. TB with
  log Z replaced by the batch estimate ``mean(log R + log p_B - log p_F)``;
* sub-trajectory balance:
  ``L_SubTB = sum_{i<j} w_ij (log f_i + sum_{k=i}^{j-1} (log p_F - log p_B)_k - log f_j)^2``
  with ``w_ij = lambda^(j-i) / sum_{i<j} lambda^(j-i)`` and ``log f_T = log R``;
* detailed balance: ``L_DB = sum_k (log f_k + log p_F,k - log p_B,k - log f_{k+1})^2``;
* backward maximum likelihood: ``L_MLE = -mean sum_k log p_F`` on backward trajectories.

All losses average over the batch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..path import Trajectory


def log_ratio(traj: Trajectory) -> Tensor:
    """``delta = sum log p_F - sum log p_B - log R`` (B,)."""
    return traj.log_pf.sum(-1) - traj.log_pb.sum(-1) - traj.log_r.detach()


def trajectory_balance(traj: Trajectory, log_z: Tensor) -> Tensor:
    """``mean (log Z + sum log p_F - sum log p_B - log R)^2``."""
    return ((log_z + log_ratio(traj)) ** 2).mean()


def vargrad(traj: Trajectory) -> Tensor:
    """Batch variance of the log-ratio (VarGrad / TB-avg); no log Z parameter."""
    delta = log_ratio(traj)
    return ((delta - delta.mean()) ** 2).mean()


def subtb_weights(n_steps: int, lam: float, *, device=None, dtype=torch.float32) -> Tensor:
    """(T+1, T+1) matrix ``w_ij = lambda^(j-i) / sum_{i<j} lambda^(j-i)`` for ``i < j``, else 0."""
    if not lam > 0:
        raise ValueError(f"lambda must be > 0, got {lam}")
    idx = torch.arange(n_steps + 1, dtype=torch.float64)
    diff = idx[None, :] - idx[:, None]
    logw = torch.where(diff > 0, diff * math.log(lam), torch.full_like(diff, -math.inf))
    return torch.exp(logw - torch.logsumexp(logw.flatten(), 0)).to(device=device, dtype=dtype)


def subtrajectory_balance(traj: Trajectory, lam: float = 2.0) -> Tensor:
    """Sub-trajectory balance over all pairs i < j with geometric weights (needs ``traj.log_f``)."""
    if traj.log_f is None:
        raise ValueError("subtrajectory_balance needs a trajectory with log flows (sample with flows=True)")
    log_f = torch.cat([traj.log_f[:, :-1], traj.log_r.detach()[:, None]], 1)
    cum = torch.cat([log_f.new_zeros(log_f.shape[0], 1), (traj.log_pf - traj.log_pb).cumsum(-1)], 1)
    # residual[b, i, j] = log f_i + (cum_j - cum_i) - log f_j
    resid = log_f[:, :, None] - log_f[:, None, :] + cum[:, None, :] - cum[:, :, None]
    w = subtb_weights(traj.log_pf.shape[1], lam, device=resid.device, dtype=resid.dtype)
    return (resid**2 * w).sum((-1, -2)).mean()


def detailed_balance(traj: Trajectory) -> Tensor:
    """Sum over steps of the squared detailed-balance residual (needs ``traj.log_f``)."""
    if traj.log_f is None:
        raise ValueError("detailed_balance needs a trajectory with log flows (sample with flows=True)")
    log_f = torch.cat([traj.log_f[:, :-1], traj.log_r.detach()[:, None]], 1)
    resid = log_f[:, :-1] + traj.log_pf - traj.log_pb - log_f[:, 1:]
    return (resid**2).sum(-1).mean()


def backward_mle(traj: Trajectory) -> Tensor:
    """``-mean sum log p_F`` of (backward) trajectories."""
    return -traj.log_pf.sum(-1).mean()
