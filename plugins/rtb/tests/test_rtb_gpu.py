"""The CUDA path: RTB over a Föllmer prior trains and samples on the GPU, and matches the CPU loss on the same states."""

import math

import pytest
import torch

from etude_diffusion_samplers.targets import GMM
from etude_rtb.priors import FollmerPrior
from etude_rtb.rewards import SigmoidQuadrantReward
from etude_rtb.sampler import RelativeTrajectoryBalance

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rtb_on_cuda():
    gmm = GMM(layout="custom", means=[[3.0, 3.0], [-3.0, -3.0]], std=math.sqrt(0.2))
    prior = FollmerPrior(gmm, sigma2=4.0, n_steps=10)
    reward = SigmoidQuadrantReward()
    s = RelativeTrajectoryBalance(parametrisation="residual", hidden_dim=32, harmonics=8, batch_size=64).to("cuda")
    s.fit(reward, prior=prior, steps=5)
    x = s.sample(128)
    assert x.device.type == "cuda" and bool(torch.isfinite(x).all())
    traj = s.trajectories(32)
    loss_gpu = s.losses(s.relative_trajectory(traj)).detach().cpu()
    s_cpu = s.to("cpu")
    s_cpu.prior.to("cpu")
    traj_cpu = type(traj)(traj.states.cpu(), traj.grid.cpu(), traj.log_pf.cpu(), traj.log_pb.cpu(), traj.log_r.cpu())
    torch.testing.assert_close(s_cpu.losses(s_cpu.relative_trajectory(traj_cpu)).detach(), loss_gpu, rtol=1e-3, atol=1e-3)
