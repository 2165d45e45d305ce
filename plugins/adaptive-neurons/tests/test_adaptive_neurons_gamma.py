"""The gamma activation family: limits, derivatives, overflow, constraints."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import etude
from etude.testing.conformance import NeuronConformance
from etude_adaptive_neurons import GammaNeuron, gamma

D = torch.float64


def grid(lo=-5.0, hi=5.0, k=201):
    return torch.linspace(lo, hi, k, dtype=D)


# -- closed-form limits ------------------------------------------------------------
def test_s0_n1_is_softplus_and_s1_n1_is_sigmoid():
    x = grid()
    torch.testing.assert_close(gamma(x, 1.0, 0.0), F.softplus(x))
    torch.testing.assert_close(gamma(x, 1.0, 1.0), torch.sigmoid(x))


@pytest.mark.parametrize("n", [0.3, 2.0, 7.5])
def test_s1_is_logistic_of_gain_n(n):
    x = grid()
    torch.testing.assert_close(gamma(x, n, 1.0), torch.sigmoid(n * x))


@pytest.mark.parametrize("n", [1.0, 10.0, 100.0, 1000.0])
def test_s0_tends_to_relu_within_log2_over_n(n):
    x = grid(-3, 3, 2001)
    err = (gamma(x, n, 0.0) - torch.relu(x)).abs().max()
    assert err <= math.log(2) / n + 1e-12
    assert err >= 0.99 * math.log(2) / n  # attained at x = 0: the bound is tight


def test_s1_tends_to_step_as_gain_grows():
    x = torch.tensor([-0.5, -0.1, 0.1, 0.5], dtype=D)
    y = gamma(x, 1000.0, 1.0)
    torch.testing.assert_close(y, torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=D), atol=1e-12, rtol=0)


# -- derivatives --------------------------------------------------------------
def test_autograd_matches_closed_form_derivatives():
    x = grid(-4, 4, 41).requires_grad_(True)
    n = torch.full_like(x, 2.5, requires_grad=True)
    s = torch.full_like(x, 0.3, requires_grad=True)
    gamma(x, n, s).sum().backward()
    nd, sd = n.detach(), s.detach()
    xd = x.detach()
    sig = torch.sigmoid(nd * xd)
    soft = F.softplus(nd * xd) / nd
    torch.testing.assert_close(x.grad, (1 - sd) * sig + sd * nd * sig * (1 - sig))
    torch.testing.assert_close(s.grad, sig - soft)
    torch.testing.assert_close(n.grad, (1 - sd) / nd * (xd * sig - soft) + sd * xd * sig * (1 - sig))


def test_gradcheck_shared_parameters():
    x = torch.randn(5, 4, dtype=D, requires_grad=True)
    n = torch.tensor(1.7, dtype=D, requires_grad=True)
    s = torch.tensor(0.4, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(gamma, (x, n, s))


def test_gradcheck_per_neuron_parameters():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, dtype=D, generator=g, requires_grad=True)
    n = (torch.rand(4, dtype=D, generator=g) * 3 + 0.2).requires_grad_(True)
    s = torch.rand(4, dtype=D, generator=g).requires_grad_(True)
    assert torch.autograd.gradcheck(gamma, (x, n, s))


def test_gradcheck_through_the_module_parametrisation():
    neuron = GammaNeuron(num_units=3, n_init=2.0, s_init=0.5).double()
    x = torch.randn(4, 3, dtype=D, requires_grad=True)

    def f(x, raw_n, raw_s):
        return gamma(x, F.softplus(raw_n) + neuron.config.min_gain, torch.sigmoid(raw_s))

    assert torch.autograd.gradcheck(f, (x, neuron.raw_n.detach().clone().requires_grad_(True),
                                        neuron.raw_s.detach().clone().requires_grad_(True)))


# -- shape properties -------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(n=st.floats(0.01, 50.0), s=st.floats(0.0, 1.0))
def test_monotone_non_negative_and_bounded(n, s):
    x = grid(-10, 10, 401)
    y = gamma(x, n, s)
    assert (y >= 0).all()
    assert (y.diff() >= -1e-12).all()
    if s == 1.0:
        assert (y <= 1).all()


def test_no_overflow_for_large_gain_times_input():
    x = torch.tensor([-1e3, -1.0, 0.0, 1.0, 1e3], dtype=torch.float32, requires_grad=True)
    for n in (1.0, 50.0, 1e3):
        y = gamma(x, n, 0.3)
        y.sum().backward()
        assert torch.isfinite(y).all() and torch.isfinite(x.grad).all()
        x.grad = None
    # the identity branch: softplus(nx)/n = x for nx > 20
    torch.testing.assert_close(gamma(torch.tensor([100.0]), 1.0, 0.0), torch.tensor([100.0]))


def test_per_neuron_parameters_broadcast_over_batch_and_time():
    neuron = GammaNeuron(num_units=3, learnable=False, n_init=1.0, s_init=0.0)
    neuron.fixed_n.copy_(torch.tensor([1.0, 2.0, 4.0]))
    neuron.fixed_s.copy_(torch.tensor([0.0, 0.5, 1.0]))
    x = torch.randn(2, 5, 3)
    y, _ = neuron(x)
    for i, (n, s) in enumerate([(1.0, 0.0), (2.0, 0.5), (4.0, 1.0)]):
        torch.testing.assert_close(y[..., i], gamma(x[..., i], n, s))


# -- constraints --------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(lr=st.floats(0.1, 100.0), sign=st.sampled_from([-1.0, 1.0]), seed=st.integers(0, 1000))
def test_constraints_hold_after_arbitrary_optimiser_steps(lr, sign, seed):
    torch.manual_seed(seed)
    neuron = GammaNeuron(num_units=6, n_init=3.0, s_init=0.5)
    opt = torch.optim.SGD(neuron.parameters(), lr=lr)
    for _ in range(5):
        y, _ = neuron(torch.randn(4, 6) * 5)
        (sign * y.sum() * 100).backward()
        opt.step()
        opt.zero_grad()
        assert (neuron.n > 0).all()
        assert ((neuron.s >= 0) & (neuron.s <= 1)).all()
        assert torch.isfinite(neuron(torch.randn(4, 6))[0]).all()


def test_learnable_initial_values_and_fixed_buffers():
    neuron = GammaNeuron(num_units=4, n_init=5.5, s_init=0.25)
    torch.testing.assert_close(neuron.n, torch.full((4,), 5.5))
    torch.testing.assert_close(neuron.s, torch.full((4,), 0.25))
    assert {name for name, _ in neuron.named_parameters()} == {"raw_n", "raw_s"}
    fixed = GammaNeuron(learnable=False, n_init=2.0, s_init=1.0)
    assert list(fixed.parameters()) == []
    torch.testing.assert_close(fixed(torch.zeros(1, 3))[0], torch.full((1, 3), 0.5))


def test_shared_parameters_accept_any_width():
    neuron = GammaNeuron()
    assert neuron.n.shape == ()
    assert neuron(torch.randn(2, 7))[0].shape == (2, 7)


def test_config_errors_name_the_field():
    with pytest.raises(etude.ConfigError, match="s_init"):
        etude.create("neuron", "gamma", s_init=1.5)
    with pytest.raises(etude.ConfigError, match="n_init"):
        etude.create("neuron", "gamma", n_init=-1.0)
    with pytest.raises(etude.ConfigError, match="num_units"):
        etude.create("neuron", "gamma", num_units=0)
    with pytest.raises(ValueError, match="num_units=4"):
        etude.create("neuron", "gamma", num_units=4)(torch.randn(2, 3))


class TestGammaConformance(NeuronConformance):
    component = ("neuron", "gamma")

    def make_neuron(self):
        return self.create(num_units=self.units, n_init=2.0, s_init=0.3)
