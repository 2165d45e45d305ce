"""RTB loss identities: constant reward, RTB = TB under a Brownian prior, log r shift invariance, subset gradients."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from etude_diffusion_samplers.objectives import trajectory_balance, vargrad
from etude_diffusion_samplers.path import DiffusionPath, DiffusionPolicy, Trajectory
from etude_diffusion_samplers.targets import GMM, Gaussian
from etude_rtb.priors import BrownianPrior, FollmerPrior, PathPrior
from etude_rtb.rewards import ConstantReward, SigmoidQuadrantReward
from etude_rtb.sampler import RelativeTrajectoryBalance, RTBVarGrad

SMALL = {"hidden_dim": 16, "harmonics": 8, "batch_size": 32}


def _trained_prior(n_steps, sigma2):
    torch.manual_seed(1)
    pol = DiffusionPolicy(2, hidden_dim=16, s_emb_dim=16, t_emb_dim=16, harmonics=8)
    with torch.no_grad():
        pol.joint[-1].weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(2))
        pol.joint[-1].bias.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    return PathPrior(DiffusionPath(pol, sigma2=sigma2, n_steps=n_steps))


def _prior(kind, n_steps, sigma2):
    if kind == "brownian":
        return BrownianPrior(2, sigma2=sigma2, n_steps=n_steps)
    if kind == "follmer":
        return FollmerPrior(GMM(layout="custom", means=[[2.0, 2.0], [-2.0, 1.0]], weights=[1, 2], std=0.5), sigma2=sigma2, n_steps=n_steps)
    return _trained_prior(n_steps, sigma2)


@settings(max_examples=12, deadline=None)
@given(n_steps=st.integers(1, 12), sigma2=st.floats(0.3, 6.0), log_c=st.floats(-4, 4),
       kind=st.sampled_from(["brownian", "follmer", "trained"]), param=st.sampled_from(["copy", "residual"]))
def test_constant_reward_optimum_has_zero_loss_and_zero_gradient(n_steps, sigma2, log_c, kind, param):
    prior = _prior(kind, n_steps, sigma2)
    s = RelativeTrajectoryBalance(parametrisation=param, exploration=0.3, **SMALL)
    reward = ConstantReward(2, log_c)
    s.fit(reward, prior=prior, steps=0)
    with torch.no_grad():
        s.log_z.fill_(log_c)
    traj = s.path.sample_forward(32, reward, exploration=0.3, generator=torch.Generator().manual_seed(0), with_grad=False)
    per = s.losses(s.relative_trajectory(traj))
    assert torch.equal(per, torch.zeros_like(per)) or float(per.abs().max()) < 1e-8
    loss = s.loss(s.relative_trajectory(traj))
    loss.backward()
    for p in s.path.policy.parameters():
        assert p.grad is None or float(p.grad.abs().max()) < 1e-6


def test_rtb_equals_tb_with_a_brownian_prior():
    sigma2, n_steps = 2.0, 8
    reward = SigmoidQuadrantReward()
    s = RelativeTrajectoryBalance(n_steps=n_steps, t_scale=sigma2, parametrisation="residual", **SMALL)
    s.fit(reward, steps=0)
    with torch.no_grad():
        s.path.policy.joint[-1].weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(5))
        s.log_z.fill_(0.7)
    traj = s.path.sample_forward(64, reward, exploration=0.2, generator=torch.Generator().manual_seed(1), with_grad=False)
    rtb = s.loss(s.relative_trajectory(traj))
    g_rtb = torch.autograd.grad(rtb, [s.log_z, *s.path.policy.parameters()], allow_unused=True)
    # TB with R = r N(x; 0, sigma^2 I) and the Brownian bridge backward process
    ref = Gaussian(dim=2, std=math.sqrt(sigma2))
    log_pf = s.path.forward_log_density(traj.states, traj.grid)
    tb_traj = Trajectory(traj.states, traj.grid, log_pf, s.path.backward_log_density(traj.states, traj.grid),
                         reward.log_prob(traj.terminal) + ref.log_prob(traj.terminal))
    tb = trajectory_balance(tb_traj, s.log_z)
    g_tb = torch.autograd.grad(tb, [s.log_z, *s.path.policy.parameters()], allow_unused=True)
    torch.testing.assert_close(rtb, tb, rtol=1e-5, atol=1e-5)
    for a, b in zip(g_rtb, g_tb):
        if a is None:
            assert b is None or float(b.abs().max()) == 0
        else:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_log_reward_shift_moves_log_z_by_beta_c_and_leaves_vargrad_unchanged():
    beta, c = 0.5, 3.0
    prior = _prior("follmer", 6, 2.0)
    r0 = SigmoidQuadrantReward()

    class Shifted(SigmoidQuadrantReward):
        def unnormalized_log_prob(self, x):
            return super().unnormalized_log_prob(x) + c

    s = RTBVarGrad(beta=beta, parametrisation="residual", **SMALL).fit(r0, prior=prior, steps=0)
    with torch.no_grad():
        s.path.policy.joint[-1].weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(5))
    traj = s.path.sample_forward(64, r0, generator=torch.Generator().manual_seed(2), with_grad=False)
    shifted = Trajectory(traj.states, traj.grid, traj.log_pf, traj.log_pb, Shifted().log_prob(traj.terminal))
    l0 = s.loss(s.relative_trajectory(traj))
    g0 = torch.autograd.grad(l0, list(s.path.policy.parameters()), allow_unused=True)
    l1 = s.loss(s.relative_trajectory(shifted))
    g1 = torch.autograd.grad(l1, list(s.path.policy.parameters()), allow_unused=True)
    torch.testing.assert_close(l0, l1, rtol=1e-5, atol=1e-5)
    for a, b in zip(g0, g1):
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    # the optimal log Z_phi (the batch mean of beta log r + log p_theta - log p_phi) moves by beta c
    rel0, rel1 = s.relative_trajectory(traj), s.relative_trajectory(shifted)
    z0 = (rel0.log_r + rel0.log_pb.sum(-1) - rel0.log_pf.sum(-1)).mean()
    z1 = (rel1.log_r + rel1.log_pb.sum(-1) - rel1.log_pf.sum(-1)).mean()
    assert float((z1 - z0).detach()) == pytest.approx(beta * c, abs=1e-4)


def test_gradient_on_a_subset_of_steps_keeps_the_value():
    prior = _prior("follmer", 10, 2.0)
    reward = SigmoidQuadrantReward()
    full = RelativeTrajectoryBalance(parametrisation="residual", **SMALL).fit(reward, prior=prior, steps=0)
    sub = RelativeTrajectoryBalance(parametrisation="residual", grad_fraction=0.3, **SMALL).fit(reward, prior=prior, steps=0)
    sub.path.policy.load_state_dict(full.path.policy.state_dict())
    traj = full.path.sample_forward(16, reward, generator=torch.Generator().manual_seed(0), with_grad=False)
    a = full.posterior_log_density(traj.states, traj.grid)
    b = sub.posterior_log_density(traj.states, traj.grid, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    b.sum().backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in sub.path.policy.parameters())


def test_exploration_records_the_uninflated_density_and_buffer_trajectories_are_valid():
    prior = _prior("follmer", 8, 2.0)
    reward = ConstantReward(2, 1.3)
    s = RelativeTrajectoryBalance(parametrisation="residual", exploration=1.0, buffer_every=2, **SMALL).fit(reward, prior=prior, steps=0)
    traj = s.path.sample_forward(32, reward, exploration=1.0, generator=torch.Generator().manual_seed(0), with_grad=False)
    torch.testing.assert_close(traj.log_pf, s.path.forward_log_density(traj.states, traj.grid), rtol=1e-5, atol=1e-5)
    # bridge-noised trajectories from stored points: finite, and 0 at the constant-reward optimum
    with torch.no_grad():
        s.log_z.fill_(1.3)
    back = s.path.sample_backward(torch.randn(32, 2) * 3, reward, generator=torch.Generator().manual_seed(1), with_grad=False)
    per = s.losses(s.relative_trajectory(back))
    assert bool(torch.isfinite(per).all()) and float(per.abs().max()) < 1e-8
    s.fit(reward, steps=4)  # buffer iterations run
    assert len(s.buffer) > 0 and all(math.isfinite(v) for v in s.history["loss"])


def test_bad_inputs():
    with pytest.raises(Exception, match="parametrisation"):
        RelativeTrajectoryBalance(parametrisation="lora")
    with pytest.raises(Exception, match="buffer_every"):
        RelativeTrajectoryBalance(objective="reinforce", buffer_every=2)
    s = RelativeTrajectoryBalance(**SMALL)
    with pytest.raises(RuntimeError, match="fit"):
        s.sample(3)
    with pytest.raises(TypeError, match="reward"):
        s.fit(object())
    with pytest.raises(ValueError, match="prior.dim"):
        s.fit(SigmoidQuadrantReward(), prior=BrownianPrior(3, sigma2=1.0, n_steps=3), steps=0)
    with pytest.raises(TypeError, match="DiffusionPath"):
        s.fit(SigmoidQuadrantReward(), prior="brownian", steps=0)
