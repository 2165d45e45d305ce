"""VE SDE: marginal std, g(t)^2 = d sigma^2 / dt, perturbation, config errors."""

from __future__ import annotations

import math

import pytest
import torch

from etude.config import FieldValueError
from etude_diffusion_time_mixing.sde import VESDE


def test_sigma_formula_and_ends():
    sde = VESDE(0.01, 10.0)
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    torch.testing.assert_close(sde.sigma(t), 0.01 * (10.0 / 0.01) ** t)
    assert float(sde.sigma(torch.tensor(0.0))) == pytest.approx(0.01)
    assert float(sde.sigma(torch.tensor(1.0))) == pytest.approx(10.0)


@pytest.mark.parametrize("t", [0.0, 0.3, 0.7, 1.0])
def test_empirical_std_of_perturbed_data_matches(t):
    sde = VESDE(0.05, 5.0)
    x0 = torch.full((200_000, 2), 3.0, dtype=torch.float64)
    xt, eps = sde.perturb(x0, torch.full((200_000,), t, dtype=torch.float64), torch.Generator().manual_seed(0))
    expected = 0.05 * (5.0 / 0.05) ** t
    assert float((xt - x0).std()) == pytest.approx(expected, rel=0.01)
    assert float(xt.mean()) == pytest.approx(3.0, abs=4 * expected / math.sqrt(400_000))
    torch.testing.assert_close(xt, x0 + expected * eps)


def test_g2_is_derivative_of_variance():
    sde = VESDE(0.01, 10.0)
    t = torch.rand(7, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(sde.sigma(t).square().sum(), t)
    torch.testing.assert_close(sde.g2(t.detach()), grad)


def test_perturb_is_seeded_and_checks_shapes():
    sde = VESDE()
    x0, t = torch.randn(5, 3), torch.rand(5)
    a, _ = sde.perturb(x0, t, torch.Generator().manual_seed(1))
    b, _ = sde.perturb(x0, t, torch.Generator().manual_seed(1))
    c, _ = sde.perturb(x0, t, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    with pytest.raises(ValueError, match=r"t must have shape \(N,\)"):
        sde.perturb(x0, torch.rand(4))


@pytest.mark.parametrize("low, high, name", [(0.0, 1.0, "sigma_min"), (1.0, 0.5, "sigma_max")])
def test_bad_sigmas(low, high, name):
    with pytest.raises(FieldValueError, match=name):
        VESDE(low, high)
