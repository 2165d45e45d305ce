"""Targets: conformance, exact constants, samplers, errors."""

import math

import numpy as np
import pytest
import torch

import etude
from etude.testing.conformance import TargetConformance
from etude_diffusion_samplers.targets import GMM, Funnel, ManyWell, double_well_x1_log_normaliser


class TestGMM(TargetConformance):
    component = ("target", "gmm")


class TestFunnel(TargetConformance):
    component = ("target", "funnel")


class TestManyWell(TargetConformance):
    component = ("target", "manywell")


class TestGaussian(TargetConformance):
    component = ("target", "gaussian")


def test_manywell_constant_by_quadrature():
    assert math.exp(double_well_x1_log_normaliser()) == pytest.approx(11784.50927, rel=1e-7)
    x = np.linspace(-6, 6, 200001)
    trapezoid = np.trapezoid(np.exp(-(x**4) + 6 * x**2 + 0.5 * x), x)
    assert trapezoid == pytest.approx(11784.50927, rel=1e-6)
    t = ManyWell(dim=32)
    assert t.log_Z == pytest.approx(16 * (math.log(11784.50927) + 0.5 * math.log(2 * math.pi)), rel=1e-9)


def test_manywell_exact_samples_match_marginal():
    t = ManyWell(dim=2)
    s = t.sample((40000,), generator=torch.Generator().manual_seed(0))
    x = np.linspace(-4, 4, 40001)
    p = np.exp(-(x**4) + 6 * x**2 + 0.5 * x)
    p /= np.trapezoid(p, x)
    mean = np.trapezoid(x * p, x)
    right = np.trapezoid(np.where(x > 0, p, 0.0), x)
    assert float(s[:, 0].mean()) == pytest.approx(mean, abs=0.03)
    assert float((s[:, 0] > 0).float().mean()) == pytest.approx(right, abs=0.01)
    assert float(s[:, 1].std()) == pytest.approx(1.0, abs=0.02)


def test_funnel_first_coordinate_scale():
    f = Funnel(dim=10)
    s = f.sample((50000,), generator=torch.Generator().manual_seed(0))
    assert float(s[:, 0].std()) == pytest.approx(3.0, rel=0.02)
    x = torch.tensor([[1.0] + [0.5] * 9])
    manual = -0.5 * (1 / 3) ** 2 - math.log(3) - 0.5 * math.log(2 * math.pi)
    manual += sum(-0.5 * 0.25 * math.exp(-1.0) - 0.5 * 1.0 - 0.5 * math.log(2 * math.pi) for _ in range(9))
    assert float(f.log_prob(x)) == pytest.approx(manual, rel=1e-5)


@pytest.mark.parametrize("layout,k", [("grid9", 9), ("grid25", 25), ("fab40", 40)])
def test_gmm_normalised_and_modes(layout, k):
    t = GMM(layout=layout)
    assert t.modes.shape == (k, 2)
    lim = float(t.modes.abs().max()) + 6
    g = torch.linspace(-lim, lim, 501, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    t64 = GMM(layout=layout).to(dtype=torch.float64)
    dens = t64.log_prob(torch.stack([xx, yy], -1)).exp()
    h = float(g[1] - g[0])
    assert float(dens.sum()) * h * h == pytest.approx(1.0, abs=2e-3)
    s = t.sample((9000,), generator=torch.Generator().manual_seed(0))
    from etude_diffusion_samplers.metrics import mode_tv

    assert mode_tv(s, t.modes) < 0.06


def test_fab40_matches_fab_locations():
    g = torch.Generator().manual_seed(0)
    torch.testing.assert_close(GMM(layout="fab40").modes, (torch.rand(40, 2, generator=g) - 0.5) * 80)


def test_bad_input_errors():
    t = etude.create("target", "manywell", dim=8)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        t.log_prob(torch.zeros(3, 5))
    with pytest.raises(etude.ConfigError, match="dim"):
        etude.create("target", "manywell", dim=7)
    with pytest.raises(TypeError, match="floating"):
        GMM().log_prob(torch.zeros(2, 2, dtype=torch.long))


def test_gmm_custom_layout_any_dimension_and_weights():
    means = [[0.0, 0.0, 0.0], [4.0, 0.0, -1.0]]
    t = GMM(layout="custom", means=means, weights=[1.0, 3.0], std=0.5).to(dtype=torch.float64)
    assert t.dim == 3 and tuple(t.event_shape) == (3,)
    torch.testing.assert_close(t.weights, torch.tensor([0.25, 0.75], dtype=torch.float64))
    x = torch.tensor([[1.0, -0.5, 2.0]], dtype=torch.float64)
    manual = 0.0
    for w, m in zip([0.25, 0.75], means, strict=True):
        sq = sum((a - b) ** 2 for a, b in zip(x[0].tolist(), m, strict=True))
        manual += w * math.exp(-sq / (2 * 0.25)) / (2 * math.pi * 0.25) ** 1.5
    assert float(t.log_prob(x)) == pytest.approx(math.log(manual), rel=1e-12)
    s = GMM(layout="custom", means=means, weights=[1.0, 3.0], std=0.5).sample((20000,), generator=torch.Generator().manual_seed(0))
    assert s.shape == (20000, 3)
    assert float((s[:, 0] > 2).float().mean()) == pytest.approx(0.75, abs=0.015)
    # the default std of a custom layout is 1; a tensor of means is accepted
    assert float(GMM(layout="custom", means=torch.zeros(1, 2)).std) == 1.0


def test_gmm_custom_layout_errors():
    with pytest.raises(etude.ConfigError, match="means"):
        etude.create("target", "gmm", layout="custom")
    with pytest.raises(etude.ConfigError, match="weights"):
        etude.create("target", "gmm", layout="custom", means=[[0.0, 0.0], [1.0, 1.0]], weights=[1.0])
    with pytest.raises(etude.ConfigError, match="weights"):
        etude.create("target", "gmm", layout="custom", means=[[0.0], [1.0]], weights=[1.0, -1.0])
    with pytest.raises(etude.ConfigError, match="common length"):
        etude.create("target", "gmm", layout="custom", means=[[0.0, 0.0], [1.0]])
    with pytest.raises(etude.ConfigError, match="custom"):
        etude.create("target", "gmm", layout="grid9", means=[[0.0, 0.0]])


def _autograd_score(target, x):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(target.log_prob(x).sum(), x)
    return g


def test_noised_score_of_gmm_is_the_score_of_the_widened_mixture():
    means = [[-4.0, 0.0], [0.0, 4.0], [3.0, -2.0]]
    t = GMM(layout="custom", means=means, weights=[0.2, 0.3, 0.5], std=0.3).to(dtype=torch.float64)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3
    for var in (0.0, 0.5, 4.0):
        wide = GMM(layout="custom", means=means, weights=[0.2, 0.3, 0.5], std=math.sqrt(0.09 + var)).to(dtype=torch.float64)
        torch.testing.assert_close(t.noised_score(x, var), _autograd_score(wide, x), rtol=1e-6, atol=1e-8)  # parameters are stored in float32
    # one variance per point
    var = torch.linspace(0.0, 2.0, 64, dtype=torch.float64)
    per_point = t.noised_score(x, var)
    for i in (0, 31, 63):
        torch.testing.assert_close(per_point[i], t.noised_score(x[i : i + 1], float(var[i]))[0])
    # by quadrature of the convolution at one point: E_eps[grad p(x + s eps)] / E_eps[p(x + s eps)]
    g = torch.linspace(-8, 8, 801, dtype=torch.float64)
    eps = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    w = torch.exp(-0.5 * (eps**2).sum(-1))
    x0 = torch.tensor([[0.7, 1.1]], dtype=torch.float64)
    z = x0 + 0.8 * eps
    p = t.log_prob(z).exp() * w
    num = (_autograd_score(t, z) * p[:, None]).sum(0) / p.sum()
    torch.testing.assert_close(t.noised_score(x0, 0.64)[0], num, rtol=1e-6, atol=1e-8)


def test_noised_score_of_gaussian_and_errors():
    from etude_diffusion_samplers.targets import Gaussian

    t = Gaussian(dim=3, mean=1.0, std=2.0)
    x = torch.randn(5, 3)
    torch.testing.assert_close(t.noised_score(x, 0.5), -(x - 1.0) / 4.5)
    torch.testing.assert_close(t.noised_score(x, 0.0), _autograd_score(t, x))
    with pytest.raises(ValueError, match="var"):
        GMM(layout="grid9").noised_score(torch.zeros(2, 2), -1.0)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        GMM(layout="grid9").noised_score(torch.zeros(2, 3), 1.0)
