"""Priors: batched scoring vs a per-step and a Pyro replay evaluation, the Föllmer drift, SIR, guidance."""

import math

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro import poutine

from etude_diffusion_samplers.metrics import wasserstein2
from etude_diffusion_samplers.targets import GMM
from etude_rtb.guidance import Guidance
from etude_rtb.priors import BrownianPrior, FollmerPrior, fit_prior_mle, path_drift
from etude_rtb.rewards import ConstantReward, GaussianLikelihood, SigmoidQuadrantReward
from etude_rtb.sampler import RelativeTrajectoryBalance
from etude_rtb.sir import sir_reference


def _gmm():
    return GMM(layout="custom", means=[[3.0, 3.0], [3.0, -3.0], [-3.0, 3.0], [-3.0, -3.0]], weights=[1, 2, 3, 4], std=math.sqrt(0.2))


def _chain_model(path, n_steps, n):
    """A diffusion chain as a Pyro model with one site per step."""

    def model():
        x = torch.zeros(n, path.dim)
        grid = path.make_grid()
        with pyro.plate("chains", n):
            for k in range(n_steps):
                t = grid[k].expand(n)
                dt = float(grid[k + 1] - grid[k])
                mean = x + path_drift(path, x, t) * dt
                x = pyro.sample(f"x{k + 1}", dist.Normal(mean, math.sqrt(path.sigma2 * dt)).to_event(1))
        return x

    return model


def test_prior_scoring_matches_per_step_and_pyro_replay():
    n_steps, n = 5, 6
    prior = FollmerPrior(_gmm(), sigma2=4.0, n_steps=n_steps)
    reward = SigmoidQuadrantReward()
    s = RelativeTrajectoryBalance(parametrisation="residual", hidden_dim=16, harmonics=8, batch_size=8).fit(reward, prior=prior, steps=3)
    with torch.no_grad():
        s.path.policy.joint[-1].weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
    # posterior chains sampled by Pyro, then the prior model replayed on the posterior's trace
    pyro.set_rng_seed(1)
    with torch.no_grad():
        post_trace = poutine.trace(_chain_model(s.path, n_steps, n)).get_trace()
        replayed = poutine.trace(poutine.replay(_chain_model(prior, n_steps, n), trace=post_trace)).get_trace()
    states = torch.stack([torch.zeros(n, 2)] + [post_trace.nodes[f"x{k + 1}"]["value"] for k in range(n_steps)], 1)
    grid = s.path.make_grid()
    batched = s.prior_log_density(states, grid)
    assert float(replayed.log_prob_sum()) == pytest.approx(float(batched.sum()), abs=1e-4)
    with torch.no_grad():
        assert float(post_trace.log_prob_sum()) == pytest.approx(float(s.path.forward_log_density(states, grid).sum()), abs=1e-4)
    # and a fresh per-step evaluation of the prior's transition densities on RTB-sampled trajectories
    traj = s.trajectories(n, generator=torch.Generator().manual_seed(1))
    batched = s.prior_log_density(traj.states, traj.grid)
    for k in range(n_steps):
        x, t = traj.states[:, k], traj.grid[k].expand(n)
        dt = float(traj.grid[k + 1] - traj.grid[k])
        ref = dist.Normal(x + prior.follmer_drift(x, t) * dt, math.sqrt(4.0 * dt)).to_event(1).log_prob(traj.states[:, k + 1])
        torch.testing.assert_close(batched[:, k], ref, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(batched, traj.log_pf)  # the posterior differs from the prior: the check can fail


def test_follmer_drift_at_zero_is_the_mixture_mean_and_samples_match_the_gmm():
    gmm = _gmm()
    prior = FollmerPrior(gmm, sigma2=4.0, n_steps=100)
    mean = (gmm.weights[:, None] * gmm.modes).sum(0)
    torch.testing.assert_close(prior.follmer_drift(torch.zeros(3, 2), torch.zeros(3)), mean.expand(3, 2))
    n = 1500
    x = prior.sample_forward(n, ConstantReward(2), generator=torch.Generator().manual_seed(0), with_grad=False).terminal
    a = gmm.sample((n,), generator=torch.Generator().manual_seed(1))
    b = gmm.sample((n,), generator=torch.Generator().manual_seed(2))
    floor = wasserstein2(a, b)
    assert wasserstein2(x, a) <= 1.2 * floor, (wasserstein2(x, a), floor)


def test_sir_standard_error_and_gaussian_closed_form():
    sigma2 = 2.0
    reward = GaussianLikelihood(torch.tensor([1.0, -0.5]), std=1.0)
    prior = BrownianPrior(2, sigma2=sigma2, n_steps=1)
    ref = sir_reference(prior, reward, 200_000, generator=torch.Generator().manual_seed(0))
    assert ref["log_Z_se"] < 0.02
    exact = reward.log_Z_under_brownian(sigma2)
    assert abs(ref["log_Z"] - exact) < 3 * ref["log_Z_se"], (ref["log_Z"], exact, ref["log_Z_se"])
    m, v = reward.posterior_moments(sigma2)
    torch.testing.assert_close(ref["samples"].mean(0), m, atol=0.05, rtol=0)


@pytest.mark.parametrize("mode", ["noisy", "dps", "lgd-mc"])
def test_guidance_with_a_constant_reward_is_the_prior(mode):
    prior = FollmerPrior(_gmm(), sigma2=4.0, n_steps=10)
    g = Guidance(mode=mode).fit(ConstantReward(2, 2.0), prior=prior)
    a = g.sample(200, generator=torch.Generator().manual_seed(3))
    b = prior.sample_forward(200, ConstantReward(2), generator=torch.Generator().manual_seed(3), with_grad=False).terminal
    torch.testing.assert_close(a, b)
    tilted = Guidance(mode=mode).fit(SigmoidQuadrantReward(), prior=prior).sample(200, generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(tilted, b)


def test_fit_prior_mle_learns_the_data_mean():
    x = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0)) * 0.3 + torch.tensor([2.0, -1.0])
    prior = fit_prior_mle(x, sigma2=1.0, n_steps=10, steps=150, batch_size=128, hidden_dim=32, harmonics=8,
                          generator=torch.Generator().manual_seed(0))
    y = prior.sample_forward(2000, ConstantReward(2), generator=torch.Generator().manual_seed(1), with_grad=False).terminal
    torch.testing.assert_close(y.mean(0), torch.tensor([2.0, -1.0]), atol=0.25, rtol=0)
    with pytest.raises(ValueError, match="samples"):
        fit_prior_mle(torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]))
