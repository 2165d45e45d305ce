"""DEM training plumbing: lambda(t), the two parametrisations, overfitting, energy calls, the buffer; conformance."""

import pytest
import torch

import etude
from etude.testing.conformance import ModelConformance, SamplerConformance
from etude_idem.claims import SMOKE, nine_mode_gmm
from etude_idem.sampler import IDEM, PDEM, DEMSampler, dem_loss
from etude_idem.targets import MultiDoubleWell


class TestIDEM(SamplerConformance):
    component = ("sampler", "idem")

    def make_sampler(self):
        return self.create(num_mc=4, batch_size=8, hidden=8, layers=1, refresh_every=2, samples_per_refresh=8,
                           refresh_sde_steps=3, init_samples=16, buffer_min=8, sde_steps=3, sigma_min=0.01, sigma_max=6.0)

    def make_target(self):
        return nine_mode_gmm()


class TestPDEM(TestIDEM):
    component = ("sampler", "pdem")


class TestIDEMParticles(TestIDEM):
    component = ("sampler", "idem")

    def make_target(self):
        return MultiDoubleWell()


class TestMCScore(SamplerConformance):
    component = ("sampler", "mc-score")

    def make_sampler(self):
        return self.create(num_mc=8, sde_steps=10, sigma_max=6.0)

    def make_target(self):
        return nine_mode_gmm()


class TestEGNNScore(ModelConformance):
    component = ("model", "egnn-score")

    def make_model(self):
        return self.create(n_particles=4, spatial_dim=2, hidden=16, n_layers=2)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(3, 8, dtype=dtype, device=device), torch.rand(3, dtype=dtype, device=device))


def _fitted(cls=IDEM, steps=1, **over):
    s = cls(**{**SMOKE, **over})
    return s.fit(nine_mode_gmm(), steps=steps, generator=torch.Generator().manual_seed(0))


def test_lambda_is_applied_per_sample():
    s = _fitted(parametrisation="raw", loss_weight="h+eps", lambda_eps=1e-3)
    t = torch.tensor([0.1, 0.5, 0.9])
    torch.testing.assert_close(s._weight(t, s.schedule.sigma(t)), s.schedule.h(t) + 1e-3)
    p = _fitted(parametrisation="raw", loss_weight="one")
    torch.testing.assert_close(p._weight(t, p.schedule.sigma(t)), torch.ones(3))
    pred, target = torch.zeros(3, 2), torch.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    w = torch.tensor([1.0, 10.0, 100.0])
    assert float(dem_loss(pred, target, w)) == pytest.approx((1.0 * 1 + 10.0 * 2 + 0) / 3)


def test_raw_and_noise_scaled_losses_agree_at_sigma_squared():
    g = torch.Generator().manual_seed(0)
    net_out, s_k = torch.randn(16, 2, generator=g), torch.randn(16, 2, generator=g) * 5
    sigma = torch.rand(16, generator=g) + 0.1
    raw = dem_loss(net_out / sigma[:, None], s_k, sigma**2)
    scaled = dem_loss(net_out, sigma[:, None] * s_k, torch.ones(16))
    torch.testing.assert_close(raw, scaled)


def test_overfitting_a_batch_to_the_analytic_score():
    torch.manual_seed(0)
    target, s = nine_mode_gmm(), _fitted(parametrisation="noise-scaled", hidden=32, layers=2)
    g = torch.Generator().manual_seed(1)
    x, t = torch.randn(32, 2, generator=g) * 4, torch.rand(32, generator=g) * 0.8 + 0.2
    sigma = s.schedule.sigma(t)
    goal = sigma[:, None] * target.noised_score(x, s.schedule.h(t))
    opt = torch.optim.Adam(s.net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1200)
    losses = []
    for _ in range(1200):
        loss = dem_loss(s.net(x, t), goal, torch.ones(32))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
    assert losses[-1] < 1e-3 * losses[0], (losses[0], losses[-1])


def test_exactly_bk_energy_calls_per_inner_step_and_buffer_energies():
    target = nine_mode_gmm()
    s = IDEM(**{**SMOKE, "refresh_every": 1000})
    s.fit(target, steps=1, generator=torch.Generator().manual_seed(0))
    before = target.energy_calls
    s.fit(target, steps=3)
    assert target.energy_calls - before == 3 * SMOKE["batch_size"] * SMOKE["num_mc"]
    torch.testing.assert_close(s.buffer.log_r, -target.energy(s.buffer.x))
    assert len(s.buffer) == SMOKE["init_samples"]


def test_refresh_pushes_samples_and_drops_far_ones():
    target = nine_mode_gmm()
    s = IDEM(**{**SMOKE, "refresh_every": 5, "samples_per_refresh": 40, "refresh_max_radius": 6.0})
    s.fit(target, steps=10, generator=torch.Generator().manual_seed(0))
    x = s.buffer.x
    assert SMOKE["init_samples"] < len(s.buffer) <= SMOKE["init_samples"] + 80
    assert float(torch.linalg.vector_norm(x[SMOKE["init_samples"]:], dim=-1).max()) <= 6.0
    torch.testing.assert_close(s.buffer.log_r, target.log_prob(x))
    p = PDEM(**SMOKE).fit(target, steps=10, generator=torch.Generator().manual_seed(0))
    assert len(p.buffer) == 0  # pDEM never fills a buffer


def test_presets_and_overrides():
    s = DEMSampler(preset="dw4", num_mc=10)
    assert s.config.num_mc == 10 and s.config.sigma_max == 3.0 and s.config.clip_per_particle
    g = IDEM(preset="gmm40")
    assert g.config.data_scale == 50.0 and g.config.max_norm == 70.0 and g.config.x0_source == "buffer"
    assert PDEM(preset="lj55").config.negative_time_steps == 10 and PDEM().config.x0_source == "prior"


def test_samples_are_returned_in_original_units():
    from etude_diffusion_samplers.targets import GMM

    s = IDEM(**{**SMOKE, "sigma_max": 1.0, "data_scale": 50.0}).fit(GMM(layout="fab40"), steps=2)
    x = s.sample(400, generator=torch.Generator().manual_seed(0))
    assert 20 < float(x.std()) < 120  # prior std 50 in the original units


def test_sampler_errors():
    with pytest.raises(etude.ConfigError, match="sigma_min"):
        etude.create("sampler", "idem", sigma_min=2.0, sigma_max=1.0)
    with pytest.raises(etude.ConfigError, match="parametrisation"):
        etude.create("sampler", "pdem", parametrisation="scaled")
    with pytest.raises(RuntimeError, match="fit"):
        IDEM().sample(3)
    with pytest.raises(ValueError, match="egnn"):
        IDEM(**{**SMOKE, "network": "egnn"}).fit(nine_mode_gmm(), steps=1)
    with pytest.raises(ValueError, match="steps"):
        IDEM(**SMOKE).fit(nine_mode_gmm(), steps=-1)


def test_mc_score_sampler_recovers_the_modes_with_clipping():
    from etude_diffusion_samplers.metrics import modes_covered, wasserstein2

    from etude_idem.sampler import MCScoreSampler

    target = nine_mode_gmm()
    mc = MCScoreSampler(sigma_min=0.01, sigma_max=6.0, num_mc=32, sde_steps=80).fit(target)
    before = target.energy_calls
    x = mc.sample(200, generator=torch.Generator().manual_seed(3))
    assert target.energy_calls - before == 200 * 32 * 80
    exact = target.sample((200,), generator=torch.Generator().manual_seed(1))
    floor = wasserstein2(exact, target.sample((200,), generator=torch.Generator().manual_seed(2)))
    assert modes_covered(x, target.modes, radius=1.0) == 9
    assert wasserstein2(x, exact) < 1.6 * floor
