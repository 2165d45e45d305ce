"""DRL: the loss with z = 0 is plain DSM, the KL term, the trajectory, determinism, errors, conformance."""

from __future__ import annotations

import pytest
import torch

from etude.testing.conformance import EstimatorConformance
from etude_diffusion_time_mixing.drl import DRL, time_grid
from etude_diffusion_time_mixing.sde import VESDE


def _drl(**kw):
    torch.manual_seed(0)
    return DRL(in_features=6, latent_dim=3, width=16, steps=5, **kw)


class TestDRLConformance(EstimatorConformance):
    component = ("estimator", "drl")
    fit_steps = 5

    def make_estimator(self):
        return self.create(in_features=6, latent_dim=3, width=16, batch_size=16)

    def make_data(self, seed):
        return (torch.randn(40, 6, generator=torch.Generator().manual_seed(seed)),)


def test_zero_latent_loss_is_plain_dsm():
    drl = _drl(lambda_z=0.0)
    g = torch.Generator().manual_seed(0)
    x0, t, eps = torch.randn(8, 6, generator=g), torch.rand(8, generator=g), torch.randn(8, 6, generator=g)
    terms = drl.losses(x0, t, eps, zero_latent=True)
    sde = VESDE(0.01, 10.0)
    sigma = sde.sigma(t)[:, None]
    xt = x0 + sigma * eps
    score = drl.score.net(torch.cat([xt, drl.score.time_features(t), torch.zeros(8, 3)], -1)) / sigma
    plain = 0.5 * ((sigma * score + eps) ** 2).sum(1)  # the official 0.5 * sum (traj_drl losses.py:72)
    torch.testing.assert_close(terms["dsm"], plain)
    torch.testing.assert_close(terms["loss"], plain.mean())


@pytest.mark.parametrize("reduction, factor", [("half-sum", 1.0), ("sum", 2.0), ("mean", 2.0 / 6)])
def test_reduction_scales_the_dsm_term_only(reduction, factor):
    g = torch.Generator().manual_seed(2)
    x0, t, eps, noise = (torch.randn(8, 6, generator=g), torch.rand(8, generator=g), torch.randn(8, 6, generator=g),
                         torch.randn(8, 3, generator=g))
    default = _drl(lambda_z=0.5).losses(x0, t, eps, noise)
    assert DRL.Config(in_features=6).reduction == "half-sum"
    other = _drl(lambda_z=0.5, reduction=reduction).losses(x0, t, eps, noise)
    torch.testing.assert_close(other["dsm"], factor * default["dsm"])
    torch.testing.assert_close(other["penalty"], default["penalty"])
    torch.testing.assert_close(other["loss"], other["dsm"].mean() + 0.5 * other["penalty"].mean())


def test_kl_term_equals_torch_distributions_and_lambda_scales_it():
    drl = _drl(lambda_z=0.5)
    g = torch.Generator().manual_seed(1)
    x0, t, eps, noise = (torch.randn(8, 6, generator=g), torch.rand(8, generator=g), torch.randn(8, 6, generator=g),
                         torch.randn(8, 3, generator=g))
    terms = drl.losses(x0, t, eps, noise)
    mean, log_var = drl.encoder(x0, t)
    kl = torch.distributions.kl_divergence(torch.distributions.Normal(mean, (0.5 * log_var).exp()),
                                           torch.distributions.Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(terms["penalty"], kl)
    torch.testing.assert_close(terms["loss"], terms["dsm"].mean() + 0.5 * kl.mean())


def test_deterministic_encoder_uses_l1():
    drl = _drl(probabilistic=False, lambda_z=2.0)
    x0, t = torch.randn(4, 6), torch.rand(4)
    terms = drl.losses(x0, t, torch.randn(4, 6))
    z, log_var = drl.encoder(x0, t)
    assert log_var is None
    torch.testing.assert_close(terms["penalty"], z.abs().sum(-1))


def test_fit_reduces_the_loss_and_is_seeded():
    x = torch.randn(200, 6, generator=torch.Generator().manual_seed(0)) * 0.5
    a = _drl(lambda_z=0.01, lr=3e-3).fit(x, steps=300, seed=3)
    b = _drl(lambda_z=0.01, lr=3e-3).fit(x, steps=300, seed=3)
    assert a.history == b.history
    assert sum(a.history[-50:]) / 50 < 0.85 * sum(a.history[:30]) / 30, (a.history[:3], a.history[-3:])


def test_trajectory_shape_mean_and_batched_equals_loop():
    drl = _drl()
    x = torch.randn(7, 6)
    times = time_grid(5)
    z = drl.estimate(x, times)
    assert z.shape == (7, 6, 3)
    torch.testing.assert_close(drl.estimate(x, times), z, rtol=0, atol=0)  # the mean: two calls identical
    loop = torch.stack([drl.encoder(x, torch.full((7,), float(t)))[0] for t in times], 1)
    torch.testing.assert_close(z, loop.detach())
    torch.testing.assert_close(drl.estimate(x, times, batch_size=5), z)
    torch.testing.assert_close(drl.estimate(x, times, batch_size=13), z)  # chunks of 2 examples, the last one short
    torch.testing.assert_close(drl.estimate(x), z)  # default grid k / num_steps with num_steps = 5


@pytest.mark.parametrize("probabilistic", [True, False])
def test_factorised_trajectory_equals_the_encoder_on_every_pair(probabilistic):
    enc = _drl(probabilistic=probabilistic).encoder
    x, times = torch.randn(5, 6), torch.tensor([0.0, 0.3, 1.0])
    mean, log_var = enc.trajectory(x, times)
    ref_mean, ref_log_var = enc(x.repeat_interleave(3, 0), times.repeat(5))
    torch.testing.assert_close(mean, ref_mean.reshape(5, 3, -1))
    if probabilistic:
        torch.testing.assert_close(log_var, ref_log_var.reshape(5, 3, -1))
    else:
        assert log_var is None and ref_log_var is None


def test_time_grid_includes_both_ends():
    torch.testing.assert_close(time_grid(4), torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    with pytest.raises(ValueError, match="num_steps"):
        time_grid(0)


def test_bad_inputs_name_the_argument():
    from etude.config import ConfigError  # noqa: PLC0415

    drl = _drl()
    with pytest.raises(ValueError, match=r"6 features per example"):
        drl.fit(torch.randn(10, 5), steps=1)
    with pytest.raises(ValueError, match="NaN"):
        drl.estimate(torch.full((2, 6), float("nan")))
    with pytest.raises(ValueError, match="floating-point"):
        drl.fit(torch.ones(10, 6, dtype=torch.int64), steps=1)
    with pytest.raises(ValueError, match="times"):
        drl.estimate(torch.randn(2, 6), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="batch_size"):
        drl.estimate(torch.randn(2, 6), batch_size=0)
    with pytest.raises((ConfigError, ValueError), match="reduction"):
        DRL(in_features=6, reduction="max")
    with pytest.raises((ConfigError, ValueError), match="sigma_max"):
        DRL(in_features=6, sigma_min=1.0, sigma_max=0.5)
