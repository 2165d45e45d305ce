"""DW-4 and Lennard-Jones energies against hand-computed values, their invariances, the MCMC reference, GMM-40 units."""

import math

import pytest
import torch

import etude
from etude.testing.conformance import TargetConformance
from etude_diffusion_samplers.targets import GMM
from etude_idem.sampler import NormalisedTarget
from etude_idem.targets import LennardJones, MultiDoubleWell


class TestDW4(TargetConformance):
    component = ("target", "dw4")


class TestLennardJones(TargetConformance):
    component = ("target", "lennard-jones")

    def make_target(self):
        return self.create(n_particles=13)


def _lj_pair(r):
    return r**-12 - 2 * r**-6


def test_lennard_jones_three_particles_by_hand():
    x = torch.tensor([[0.0, 0, 0, 1, 0, 0, 0, 2, 0]], dtype=torch.float64)
    pairs = _lj_pair(1.0) + _lj_pair(2.0) + _lj_pair(math.sqrt(5.0))  # -1, -0.031006, -0.015936
    centre = (1 / 3, 2 / 3, 0.0)
    pts = [(0, 0, 0), (1, 0, 0), (0, 2, 0)]
    harmonic = 0.5 * sum((p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2 for p in pts)  # 0.5 * 30/9
    assert harmonic == pytest.approx(5 / 3)
    ordered = LennardJones(n_particles=3).to(dtype=torch.float64)
    unique = LennardJones(n_particles=3, pair_factor=0.5).to(dtype=torch.float64)
    assert float(ordered.energy(x)) == pytest.approx(2 * pairs + harmonic, rel=1e-12)
    assert float(unique.energy(x)) == pytest.approx(pairs + harmonic, rel=1e-12)
    assert float(ordered.energy(x)) == pytest.approx(-0.4272172, abs=1e-6)
    no_osc = LennardJones(n_particles=3, oscillator_scale=0.0).to(dtype=torch.float64)
    assert float(no_osc.energy(x)) == pytest.approx(2 * pairs, rel=1e-12)


def test_double_well_polynomial_and_pair_minima():
    t = MultiDoubleWell(n_particles=2, spatial_dim=2).to(dtype=torch.float64)
    d = torch.linspace(0.5, 8.0, 30001, dtype=torch.float64)
    x = torch.stack([torch.zeros_like(d), torch.zeros_like(d), d, torch.zeros_like(d)], -1)
    e = t.energy(x)
    torch.testing.assert_close(e, 0.9 * (d - 4) ** 4 - 4 * (d - 4) ** 2)
    minima = [4 - math.sqrt(4 / 1.8), 4 + math.sqrt(4 / 1.8)]
    for m in minima:
        window = (d - m).abs() < 0.3
        i = int(torch.argmin(torch.where(window, e, torch.full_like(e, math.inf))))
        assert float(d[i]) == pytest.approx(m, abs=1e-3)
        assert float(e[i]) == pytest.approx(-16 / 3.6, abs=1e-6)
    four = MultiDoubleWell().to(dtype=torch.float64)
    square = torch.tensor([[0.0, 0, 4, 0, 0, 4, 4, 4]], dtype=torch.float64)
    r = 4 * math.sqrt(2) - 4
    assert float(four.energy(square)) == pytest.approx(2 * (0.9 * r**4 - 4 * r**2), rel=1e-12)


@pytest.mark.parametrize("target", [MultiDoubleWell(), LennardJones(n_particles=6)])
def test_energies_are_invariant_under_e_d_and_permutations(target):
    target = target.to(dtype=torch.float64)
    n, d = target.layout
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, n * d, generator=g, dtype=torch.float64) * 1.3
    q, r = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    q[:, 0] = -q[:, 0]  # include a reflection
    perm = torch.randperm(n, generator=g)
    y = (x.reshape(5, n, d)[:, perm] @ q.T + torch.randn(d, generator=g, dtype=torch.float64)).reshape(5, -1)
    torch.testing.assert_close(target.energy(y), target.energy(x), rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:.*R-hat")  # the pair-distance pattern needs far longer chains than a test can run
def test_reference_samples_are_cached_mean_free_and_mixed():
    t = MultiDoubleWell()
    ref = t.reference_samples(256, seed=0, burn_in=1500, thin=40, chains=32)
    assert ref.shape == (256, 8)
    assert float(ref.reshape(-1, 4, 2).mean(1).abs().max()) < 1e-5
    assert t.reference_samples(256, seed=0) is ref  # cached per (n, seed)
    info = t.reference_info
    assert info["chains"] == 32 and info["rhat_energy"] < 1.1 and info["rhat_distance"] > 0.9  # energies mix fast
    # the pair distances concentrate near the two minima d0 -+ 1.49 (the density is multi-modal in d)
    dist = t.distances(ref)
    assert float(((dist - 4).abs() - 1.49).abs().median()) < 0.6
    assert float(t.energy(ref).mean()) < -10


def test_reference_flags_chains_that_do_not_mix():
    """Chains started far out on the quartic wall never accept a move: split R-hat must flag it."""

    class Stuck(MultiDoubleWell):
        def initial_state(self, n, generator=None):
            x = super().initial_state(n, generator)
            x[: n // 2] *= 4.0  # half of the chains start at pair distances ~16
            return x

    with pytest.warns(RuntimeWarning, match="R-hat"):
        Stuck().reference_samples(128, seed=0, burn_in=50, thin=5, chains=16)


def test_gmm40_normalised_coordinates_carry_the_chain_rule_factor():
    gmm = GMM(layout="fab40").to(dtype=torch.float64)
    norm = NormalisedTarget(gmm, 50.0)
    y = (torch.rand(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) - 0.5) * 1.6

    def grad(f, z):
        z = z.clone().requires_grad_(True)
        return torch.autograd.grad(f(z).sum(), z)[0]

    torch.testing.assert_close(grad(norm.log_prob, y), 50 * grad(gmm.log_prob, 50 * y))
    before = gmm.energy_calls
    norm.log_prob(y)
    assert gmm.energy_calls - before == 20 and norm.energy_calls == gmm.energy_calls


def test_target_errors():
    with pytest.raises(etude.ConfigError, match="pair_factor"):
        etude.create("target", "lennard-jones", pair_factor=0.7)
    with pytest.raises(etude.ConfigError, match="n_particles"):
        etude.create("target", "dw4", n_particles=1)
    with pytest.raises(ValueError, match=r"dim=8, got shape \(3, 6\)"):
        MultiDoubleWell().log_prob(torch.zeros(3, 6))
    with pytest.raises(ValueError, match=r"4 particles in 2-D"):
        MultiDoubleWell().unnormalized_log_prob(torch.zeros(3, 6))
    with pytest.raises(TypeError, match="floating"):
        MultiDoubleWell().log_prob(torch.zeros(3, 8, dtype=torch.long))
