"""DiffusionPath(base_drift=...): None is bit-identical to no argument; a given drift enters every forward kernel."""

import math

import pytest
import torch

from etude_diffusion_samplers.path import DiffusionPath, DiffusionPolicy
from etude_diffusion_samplers.targets import Gaussian


def _paths(base_drift, n_steps=8, sigma2=2.0):
    torch.manual_seed(0)
    policy = DiffusionPolicy(2, hidden_dim=16, s_emb_dim=16, t_emb_dim=16, harmonics=8)
    with torch.no_grad():
        policy.joint[-1].weight.normal_(0, 0.3, generator=torch.Generator().manual_seed(3))
    plain = DiffusionPath(policy, sigma2=sigma2, n_steps=n_steps)
    based = DiffusionPath(policy, sigma2=sigma2, n_steps=n_steps, base_drift=base_drift)
    return plain, based


def test_none_is_bit_identical():
    plain, based = _paths(None)
    target = Gaussian(dim=2)
    a = plain.sample_forward(32, target, generator=torch.Generator().manual_seed(1), exploration=0.2)
    b = based.sample_forward(32, target, generator=torch.Generator().manual_seed(1), exploration=0.2)
    assert torch.equal(a.states, b.states) and torch.equal(a.log_pf, b.log_pf)
    ra = plain.sample_forward(8, target, generator=torch.Generator().manual_seed(2), reparam=True)
    rb = based.sample_forward(8, target, generator=torch.Generator().manual_seed(2), reparam=True)
    assert torch.equal(ra.states, rb.states) and torch.equal(ra.log_pf, rb.log_pf)


def _drift(x, t):
    return torch.stack([torch.sin(x[:, 0]) + t, -x[:, 1] * t], -1)


def test_base_drift_enters_sampling_and_batched_scoring_alike():
    plain, based = _paths(_drift)
    target = Gaussian(dim=2)
    traj = based.sample_forward(64, target, generator=torch.Generator().manual_seed(1), with_grad=False)
    batched = based.forward_log_density(traj.states, traj.grid)
    torch.testing.assert_close(batched, traj.log_pf, rtol=1e-5, atol=1e-5)
    # an independent per-step evaluation from the kernel's formula
    grid, k = traj.grid, 3
    x, t = traj.states[:, k], grid[k].expand(64)
    emb, _ = plain.policy.embed_times(grid[k : k + 1])
    nn_drift, _ = plain.policy(x, emb)
    dt = float(grid[k + 1] - grid[k])
    mean = x + (nn_drift + _drift(x, t)) * dt
    ref = torch.distributions.Normal(mean, math.sqrt(2.0 * dt)).log_prob(traj.states[:, k + 1]).sum(-1)
    torch.testing.assert_close(traj.log_pf[:, k], ref, rtol=1e-5, atol=1e-5)
    # the reparametrised path uses the same drift: same noise, same states
    r = based.sample_forward(64, target, generator=torch.Generator().manual_seed(1), reparam=True)
    torch.testing.assert_close(r.states, traj.states, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(plain.forward_log_density(traj.states, traj.grid), batched)


def test_constant_base_drift_shifts_the_zero_policy_terminal_mean():
    torch.manual_seed(0)
    policy = DiffusionPolicy(2, hidden_dim=8, s_emb_dim=8, t_emb_dim=8, harmonics=4)
    c = torch.tensor([1.5, -2.0])
    path = DiffusionPath(policy, sigma2=1.0, n_steps=10, base_drift=lambda x, t: c.expand_as(x))
    x1 = path.sample_forward(20000, Gaussian(dim=2), generator=torch.Generator().manual_seed(0), with_grad=False).terminal
    torch.testing.assert_close(x1.mean(0), c, atol=0.03, rtol=0)
    torch.testing.assert_close(x1.var(0), torch.ones(2), atol=0.05, rtol=0)


def test_bad_base_drift():
    policy = DiffusionPolicy(2, hidden_dim=8, s_emb_dim=8, t_emb_dim=8, harmonics=4)
    with pytest.raises(TypeError, match="base_drift"):
        DiffusionPath(policy, sigma2=1.0, n_steps=3, base_drift=3.0)
