"""The PIS objective: reverse KL by reparametrisation (on-policy only)."""

from __future__ import annotations

from torch import Tensor

from ..path import Trajectory


def pis_loss(traj: Trajectory) -> Tensor:
    """``mean(sum log p_F - sum log p_B - log R(x_T)) / d`` on reparametrised trajectories.

    This is ``-ELBO / d``: ``KL(p_F(tau) || R(x_T) p_B(tau | x_T) / Z) - log Z`` per
    dimension. Gradients must flow through the sampled states (sample with
    ``reparam=True``); a trajectory whose states do not require grad is refused.
    """
    if not traj.states.requires_grad:
        raise ValueError(
            "pis_loss needs reparametrised trajectories (DiffusionPath.sample_forward(..., reparam=True)); "
            "these states are detached"
        )
    d = traj.states.shape[-1]
    return (traj.log_pf.sum(-1) - traj.log_pb.sum(-1) - traj.log_r).mean() / d
