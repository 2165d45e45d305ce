"""Path identities: zero-drift exactness, bridge moments, bounds, objective equivalences, gradient paths, Pyro cross-check."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from etude_diffusion_samplers.estimators import elbo, importance_weighted, logmeanexp
from etude_diffusion_samplers.objectives import pis_loss, subtb_weights, trajectory_balance, vargrad
from etude_diffusion_samplers.path import (
    DiffusionPath,
    DiffusionPolicy,
    bridge_log_prob,
    bridge_params,
    random_grid,
    sample_bridge_path,
)
from etude_diffusion_samplers.targets import Gaussian


def small_path(dim=2, sigma2=2.0, n_steps=6, grid="uniform", **kw):
    torch.manual_seed(0)
    policy = DiffusionPolicy(dim, hidden_dim=16, s_emb_dim=16, t_emb_dim=16, harmonics=8, **kw)
    return DiffusionPath(policy, sigma2=sigma2, n_steps=n_steps, grid=grid)


def perturb(path, scale=0.3):
    with torch.no_grad():
        last = path.policy.joint[-1]
        last.weight.normal_(0, scale, generator=torch.Generator().manual_seed(3))
        last.bias.normal_(0, scale, generator=torch.Generator().manual_seed(4))


@settings(max_examples=15, deadline=None)
@given(
    n_steps=st.integers(1, 25),
    dim=st.integers(1, 4),
    sigma2=st.floats(0.2, 6.0),
    log_c=st.floats(-5, 5),
    grid=st.sampled_from(["uniform", "random"]),
)
def test_zero_drift_identity(n_steps, dim, sigma2, log_c, grid):
    path = small_path(dim, sigma2, n_steps, grid).double()
    target = Gaussian(dim=dim, std=math.sqrt(sigma2), log_Z=log_c)
    traj = path.sample_forward(64, target, generator=torch.Generator().manual_seed(n_steps))
    w = traj.log_weight.detach()
    assert torch.allclose(w, torch.full_like(w, log_c), atol=1e-4)
    assert abs(elbo(traj) - log_c) < 1e-4 and abs(importance_weighted(traj) - log_c) < 1e-4
    assert float(trajectory_balance(traj, torch.tensor(log_c, dtype=torch.float64))) < 1e-8
    back = path.sample_backward(target.sample((32,)).double(), target)
    assert torch.allclose(back.log_weight.detach(), torch.full((32,), log_c, dtype=torch.float64), atol=1e-4)


def test_random_grid_is_valid():
    g = random_grid(50, max_ratio=10.0, generator=torch.Generator().manual_seed(0))
    steps = g[1:] - g[:-1]
    assert g[0] == 0 and g[-1] == 1 and (steps > 0).all()
    assert float(steps.max() / steps.min()) <= 10.0 + 1e-4


def test_bridge_matches_brownian_conditional():
    sigma2, s, t = 1.7, 0.3, 0.8
    cov = sigma2 * torch.tensor([[s, s], [s, t]], dtype=torch.float64)
    x_t = torch.tensor([[1.3, -0.4]], dtype=torch.float64)
    mean, var = bridge_params(x_t, t, s, sigma2)
    torch.testing.assert_close(mean, cov[0, 1] / cov[1, 1] * x_t)
    torch.testing.assert_close(var, cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1])
    # uniform-grid form: mean x - x dt / t, variance sigma^2 dt (t - dt) / t
    dt = t - s
    torch.testing.assert_close(mean, x_t - x_t * dt / t)
    assert abs(float(var) - sigma2 * dt * (t - dt) / t) < 1e-12
    # the step to t = 0 is a point mass that contributes 0
    assert float(bridge_log_prob(torch.zeros(1, 2), x_t.float(), 0.1, 0.0, sigma2)) == 0.0


def test_bridge_path_marginals():
    sigma2, n = 2.0, 20000
    grid = torch.linspace(0, 1, 5, dtype=torch.float64)
    x1 = torch.full((n, 1), 1.5, dtype=torch.float64)
    states = sample_bridge_path(x1, grid, sigma2, torch.Generator().manual_seed(0))
    assert (states[:, 0] == 0).all()
    for k in (1, 2, 3):
        s = float(grid[k])
        assert abs(float(states[:, k].mean()) - s * 1.5) < 0.03
        assert abs(float(states[:, k].var()) - sigma2 * s * (1 - s)) < 0.03


def test_lower_bounds_and_iw_monotone():
    path = small_path(2, 1.0, 8).double()
    perturb(path, 0.5)
    target = Gaussian(dim=2, std=1.0, log_Z=0.7)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        w = path.sample_forward(20000, target, generator=g, with_grad=False).log_weight.reshape(200, 100)
    elbo_mean = float(w.mean())
    iw = {k: float(logmeanexp(w[:, :k], 1).mean()) for k in (1, 10, 100)}
    assert elbo_mean < 0.7 - 0.05  # a wrong drift gives a strict gap
    assert iw[1] <= iw[10] + 0.02 <= iw[100] + 0.04
    assert iw[100] <= 0.7 + 0.02
    assert iw[100] > elbo_mean


def test_vargrad_equals_tb_at_optimal_log_z():
    path = small_path()
    perturb(path)
    target = Gaussian(dim=2, std=1.0)
    traj = path.sample_forward(32, target, generator=torch.Generator().manual_seed(1))
    log_z = (traj.log_r + traj.log_pb.sum(-1) - traj.log_pf.sum(-1)).mean().detach()
    params = [p for p in path.parameters() if p.requires_grad]
    tb = trajectory_balance(traj, log_z)
    g_tb = torch.autograd.grad(tb, params, retain_graph=True, allow_unused=True)
    vg = vargrad(traj)
    g_vg = torch.autograd.grad(vg, params, allow_unused=True)
    torch.testing.assert_close(tb, vg)
    for a, b in zip(g_tb, g_vg, strict=True):
        if a is None:
            assert b is None or float(b.abs().max()) == 0
        else:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_gradient_paths_pis_vs_off_policy():
    path = small_path()
    perturb(path)
    target = Gaussian(dim=2, std=1.0)
    off = path.sample_forward(16, target, generator=torch.Generator().manual_seed(0))
    assert not off.states.requires_grad and not off.log_r.requires_grad
    assert off.log_pf.requires_grad
    pis = path.sample_forward(16, target, reparam=True, generator=torch.Generator().manual_seed(0))
    assert pis.states.requires_grad and pis.log_r.requires_grad
    # the reward's gradient reaches the policy only through the samples
    w = path.policy.joint[-1].weight
    (g,) = torch.autograd.grad(pis.log_r.sum(), w, retain_graph=True)
    assert float(g.abs().sum()) > 0
    pis_loss(pis).backward()
    with pytest.raises(ValueError, match="reparametrised"):
        pis_loss(off)


def test_exploration_does_not_enter_log_pf():
    path = small_path()
    perturb(path)
    target = Gaussian(dim=2, std=1.0)
    for expl in (0.0, 1.5):
        traj = path.sample_forward(256, target, exploration=expl, generator=torch.Generator().manual_seed(0), with_grad=False)
        recomputed = path.forward_log_density(traj.states, traj.grid)
        torch.testing.assert_close(traj.log_pf, recomputed.detach(), atol=1e-5, rtol=1e-5)
    spread0 = path.sample_forward(2000, target, generator=torch.Generator().manual_seed(1), with_grad=False).terminal.var()
    spread1 = path.sample_forward(2000, target, exploration=1.5, generator=torch.Generator().manual_seed(1), with_grad=False).terminal.var()
    assert spread1 > spread0 * 1.5


def test_subtb_weights_hand_values():
    w = subtb_weights(2, 2.0, dtype=torch.float64)
    expected = torch.tensor([[0, 0.25, 0.5], [0, 0, 0.25], [0, 0, 0]], dtype=torch.float64)
    torch.testing.assert_close(w, expected)


def test_pis_loss_matches_pyro_trace_elbo():
    import pyro
    import pyro.distributions as dist
    from pyro import poutine
    from pyro.infer import Trace_ELBO

    sigma2, n_steps, dim, batch = 1.5, 4, 2, 8
    path = small_path(dim, sigma2, n_steps).double()
    perturb(path)
    target = Gaussian(dim=dim, std=1.0, mean=0.5, log_Z=0.3).to(dtype=torch.float64)
    grid = path.make_grid()
    emb, _ = path.policy.embed_times(grid[:-1])

    def guide():
        x = torch.zeros(batch, dim, dtype=torch.float64)
        with pyro.plate("batch", batch):
            for k in range(n_steps):
                dt = grid[k + 1] - grid[k]
                drift, h = path.policy(x, emb[k : k + 1])
                std = torch.sqrt(sigma2 * dt * torch.exp(h))
                x = pyro.sample(f"x{k + 1}", dist.Normal(x + drift * dt, std).to_event(1))

    def model():
        with pyro.plate("batch", batch):
            x = pyro.sample(f"x{n_steps}", dist.ImproperUniform(dist.constraints.real, (batch,), (dim,)))
            pyro.factor("log_r", target.log_prob(x))
            for k in range(n_steps - 1, 0, -1):
                t, s = grid[k + 1], grid[k]
                x = pyro.sample(f"x{k}", dist.Normal(s / t * x, torch.sqrt(sigma2 * s * (t - s) / t)).to_event(1))

    pyro.set_rng_seed(7)
    loss = Trace_ELBO().differentiable_loss(model, guide)
    pyro.set_rng_seed(7)
    trace = poutine.trace(guide).get_trace()
    states = torch.stack([torch.zeros(batch, dim, dtype=torch.float64)] + [trace.nodes[f"x{k}"]["value"] for k in range(1, n_steps + 1)], 1)
    from etude_diffusion_samplers.path import Trajectory

    ours = Trajectory(states, grid, path.forward_log_density(states, grid), path.backward_log_density(states, grid), target.log_prob(states[:, -1]))
    log_z_hat = ours.log_weight.mean()
    torch.testing.assert_close(-loss / batch, log_z_hat, atol=1e-8, rtol=1e-8)
    # and the PIS loss is -ELBO / d with the same gradient
    ours.states.requires_grad_(True)
    w = path.policy.joint[-1].weight
    (g_pyro,) = torch.autograd.grad(loss / (batch * dim), w)
    ours_pis = (ours.log_pf.sum(-1) - ours.log_pb.sum(-1) - ours.log_r).mean() / dim
    (g_ours,) = torch.autograd.grad(ours_pis, w)
    torch.testing.assert_close(g_pyro, g_ours)
