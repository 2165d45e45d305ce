"""Exact identities of the bounds, the optimal critic, the moving average and the corrected gradient."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from etude_mine.bounds import (
    MovingAverage,
    derangement,
    dv_bound,
    dv_corrected,
    infonce_bound,
    log_mean_exp,
    nwj_bound,
)
from etude_mine.tasks import CorrelatedGaussians, correlated_gaussian_mi, gaussian_mi


def test_correlated_gaussian_mi_formula():
    assert correlated_gaussian_mi(2, 0.9) == pytest.approx(-math.log(1 - 0.81))
    assert correlated_gaussian_mi(20, 0.5) == pytest.approx(-10 * math.log(0.75))
    assert correlated_gaussian_mi(3, 0.0) == 0.0
    assert correlated_gaussian_mi(2, -0.6) == correlated_gaussian_mi(2, 0.6)
    with pytest.raises(ValueError, match="rho"):
        correlated_gaussian_mi(2, 1.0)


@pytest.mark.parametrize("seed", range(4))
def test_general_gaussian_formula_matches_block_covariance(seed):
    g = torch.Generator().manual_seed(seed)
    d, rho = 3, 0.7
    eye = torch.eye(d, dtype=torch.float64)
    cov = torch.cat([torch.cat([eye, rho * eye], 1), torch.cat([rho * eye, eye], 1)], 0)
    assert gaussian_mi(cov, d) == pytest.approx(correlated_gaussian_mi(d, rho), rel=1e-10)
    # random positive-definite covariance: MI >= 0, invariant to rescaling each block
    a = torch.randn(5, 5, generator=g, dtype=torch.float64)
    cov = a @ a.T + 0.5 * torch.eye(5, dtype=torch.float64)
    mi = gaussian_mi(cov, 2)
    assert mi >= 0
    s = torch.diag(torch.tensor([2.0, 0.5, 3.0, 1.0, 0.1], dtype=torch.float64))
    assert gaussian_mi(s @ cov @ s, 2) == pytest.approx(mi, rel=1e-9)
    # block-diagonal (independent) covariance: MI = 0
    cov[:2, 2:] = 0
    cov[2:, :2] = 0
    assert gaussian_mi(cov, 2) == pytest.approx(0.0, abs=1e-12)


def _optimal_scores(task, n, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = task.sample(n, g)
    _, y_ind = task.sample(n, g)
    return task.log_density_ratio(x, y), task.log_density_ratio(x, y_ind)


def test_optimal_critic_gives_true_mi_and_constant_shifts():
    task = CorrelatedGaussians(dim=2, rho=0.6)
    tj, tm = _optimal_scores(task, 100_000, 0)
    true = task.mutual_information
    # Monte-Carlo error of the mean of T* on 1e5 samples is about 0.004 nats here
    assert float(dv_bound(tj, tm)) == pytest.approx(true, abs=0.03)
    # DV is invariant to adding a constant; NWJ is not, and its optimum is T* + 1
    assert float(dv_bound(tj + 3.0, tm + 3.0)) == pytest.approx(float(dv_bound(tj, tm)), abs=1e-5)
    assert float(nwj_bound(tj + 1.0, tm + 1.0)) == pytest.approx(true, abs=0.03)
    assert float(nwj_bound(tj + 3.0, tm + 3.0)) < true - 1.0
    assert float(nwj_bound(tj + 1.0, tm + 1.0)) <= float(dv_bound(tj, tm)) + 0.02


@pytest.mark.parametrize("transform", ["half", "double", "shift", "tanh"])
def test_fixed_critics_are_lower_bounds(transform):
    task = CorrelatedGaussians(dim=2, rho=0.8)
    tj, tm = _optimal_scores(task, 100_000, 1)
    f = {"half": lambda t: 0.5 * t, "double": lambda t: 2.0 * t, "shift": lambda t: t + 0.7, "tanh": torch.tanh}[transform]
    true = task.mutual_information
    assert float(dv_bound(f(tj), f(tm))) <= true + 0.03
    assert float(nwj_bound(f(tj), f(tm))) <= true + 0.03


def test_random_linear_critic_is_a_lower_bound():
    task = CorrelatedGaussians(dim=2, rho=0.8)
    w = torch.randn(4, generator=torch.Generator().manual_seed(2))
    g = torch.Generator().manual_seed(3)
    x, y = task.sample(50_000, g)
    _, y2 = task.sample(50_000, g)
    lin = lambda a, b: torch.cat([a, b], 1) @ w  # noqa: E731
    assert float(dv_bound(lin(x, y), lin(x, y2))) <= task.mutual_information
    assert float(nwj_bound(lin(x, y), lin(x, y2))) <= task.mutual_information


def test_dv_bound_below_true_mi_in_expectation_for_a_fixed_network_critic():
    torch.manual_seed(0)
    from etude_mine.critics import ConcatCritic

    task = CorrelatedGaussians(dim=2, rho=0.9)
    critic = ConcatCritic(2, 2, hidden=16)
    g = torch.Generator().manual_seed(4)
    values = []
    with torch.no_grad():
        for _ in range(20):
            x, y = task.sample(2000, g)
            _, y2 = task.sample(2000, g)
            values.append(float(dv_bound(critic(x, y), critic(x, y2))))
    assert sum(values) / len(values) <= task.mutual_information


def test_log_mean_exp_stable():
    t = torch.tensor([1000.0, 1000.0])
    assert float(log_mean_exp(t)) == pytest.approx(1000.0)
    assert float(log_mean_exp(torch.zeros(7))) == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 300), seed=st.integers(0, 10_000))
def test_derangement_breaks_every_pair(n, seed):
    sigma = derangement(n, torch.Generator().manual_seed(seed))
    assert sorted(sigma.tolist()) == list(range(n))
    assert bool((sigma != torch.arange(n)).all())


def test_derangement_rejects_single_pair():
    with pytest.raises(ValueError, match="n >= 2"):
        derangement(1)


@settings(max_examples=25, deadline=None)
@given(b=st.integers(2, 40), seed=st.integers(0, 1000), scale=st.floats(0.1, 50.0))
def test_infonce_never_exceeds_log_batch(b, seed, scale):
    s = scale * torch.randn(b, b, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    s.diagonal().add_(scale * 10)
    assert float(infonce_bound(s)) <= math.log(b) + 1e-9


def test_moving_average_follows_documented_update():
    rate = 0.1
    ema = MovingAverage(rate)
    assert ema.log_value is None  # -inf state: the first value is used as is
    seq = [2.0, 4.0, 1.0, 8.0]
    expected = seq[0]
    ema.update(torch.tensor(math.log(seq[0])))
    assert ema.value == pytest.approx(expected)
    for m in seq[1:]:
        ema.update(torch.tensor(math.log(m)))
        expected = (1 - rate) * expected + rate * m
        assert ema.value == pytest.approx(expected, rel=1e-6)
    ema.reset()
    ema.update(torch.tensor(math.log(5.0)))
    assert ema.value == pytest.approx(5.0)
    ema2 = MovingAverage(rate)
    ema2.log_value = torch.tensor(-math.inf)
    ema2.update(torch.tensor(math.log(3.0)))
    assert ema2.value == pytest.approx(3.0)
    with pytest.raises(ValueError, match="rate"):
        MovingAverage(0.0)


def test_corrected_gradient_matches_closed_form_for_linear_critic():
    g = torch.Generator().manual_seed(0)
    xj, xm = torch.randn(64, 3, generator=g, dtype=torch.float64), torch.randn(64, 3, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    log_mu = torch.tensor(0.37, dtype=torch.float64)
    value = dv_corrected(xj @ w, xm @ w, log_mu)
    (grad,) = torch.autograd.grad(value, w)
    tm = (xm @ w).detach()
    closed = xj.mean(0) - (xm * tm.exp()[:, None]).mean(0) / math.exp(0.37)
    torch.testing.assert_close(grad, closed)
    # forward value is the plain DV value
    assert float(value.detach()) == pytest.approx(float(dv_bound(xj @ w, xm @ w).detach()))
    # with mu equal to the batch mean, the gradient is the plain minibatch gradient
    log_batch = log_mean_exp(tm)
    (g2,) = torch.autograd.grad(dv_corrected(xj @ w, xm @ w, log_batch), w)
    (g3,) = torch.autograd.grad(dv_bound(xj @ w, xm @ w), w)
    torch.testing.assert_close(g2, g3)
