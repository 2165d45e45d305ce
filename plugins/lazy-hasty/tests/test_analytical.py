"""The closed forms solve their ODEs, agree with each other, and reproduce the order flip."""

import math

import pytest
import torch

from etude_lazy_hasty.analytical import (
    diagonal_function,
    diagonal_theta_star,
    example1,
    example2,
    example3,
    half_loss_time,
    lazy_function,
    linear_dynamics,
    logistic_dynamics,
    mode_dynamics,
)
from etude_lazy_hasty.claims import spearman

H = 1e-6


def _ddt(fn, t):
    return (fn(t + H) - fn(t - H)) / (2 * H)


@pytest.mark.parametrize("c", [0.5, 1.0, 0.2])
def test_linear_and_logistic_forms_solve_their_odes(c):
    mu = torch.tensor([9.0, 5.0, 1.0], dtype=torch.float64)
    ts = torch.tensor([0.5, 1.2, 2.0], dtype=torch.float64)
    rate = torch.tensor([3.0, 0.7, 2.0], dtype=torch.float64)
    t0 = 1e-2
    for t in (0.01, 0.3, 1.7):
        t = torch.tensor(t, dtype=torch.float64)
        th = linear_dynamics(t, mu, ts, t0, c)
        torch.testing.assert_close(_ddt(lambda s: linear_dynamics(s, mu, ts, t0, c), t), -4 * c * mu * t0 * (th - ts),
                                   rtol=1e-6, atol=1e-9)
        th = logistic_dynamics(t, rate, ts, t0, c)
        # logistic: d theta / dt = 4 c rate theta (1 - theta / theta*)
        torch.testing.assert_close(_ddt(lambda s: logistic_dynamics(s, rate, ts, t0, c), t),
                                   4 * c * rate * th * (1 - th / ts), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(linear_dynamics(0.0, mu, ts, t0, c), torch.full((3,), t0, dtype=torch.float64))
    torch.testing.assert_close(logistic_dynamics(0.0, rate, ts, t0, c), torch.full((3,), t0, dtype=torch.float64))


@pytest.mark.parametrize("alpha", [1.0, 30.0, 1e5])
def test_diagonal_function_solves_the_gradient_flow_of_the_network(alpha):
    """d theta/dt from autograd on the network's objective (1/alpha^2) sum (g - y)^2 with u = v = sqrt(theta)."""
    _, y, info = example1()
    mu, sigma = info["mu"], 0.05
    t = torch.tensor(0.02, dtype=torch.float64)
    g = diagonal_function(t, mu, y, sigma, alpha)
    theta = sigma**2 + g / (alpha * mu.sqrt())
    u = theta.sqrt().requires_grad_(True)
    v = theta.sqrt().requires_grad_(True)
    f = u * v * mu.sqrt()
    f0 = sigma**2 * mu.sqrt()
    loss = ((alpha * (f - f0) - y) ** 2).sum() / alpha**2
    gu, gv = torch.autograd.grad(loss, (u, v))
    dtheta = -(gu * v + u * gv).detach()  # d(uv)/dt under gradient flow
    dg = _ddt(lambda s: diagonal_function(s, mu, y, sigma, alpha), t)
    torch.testing.assert_close(dg, alpha * mu.sqrt() * dtheta, rtol=1e-5, atol=1e-9)


def test_lazy_limit_and_half_loss_times():
    _, y, info = example1()
    mu, sigma = info["mu"], 1e-3
    t = torch.tensor(5000.0, dtype=torch.float64)
    torch.testing.assert_close(diagonal_function(t, mu, y, sigma, 1e10), lazy_function(t, mu, y, sigma), rtol=1e-4, atol=0)
    for alpha in (1.0, 1e3, float("inf")):
        th = half_loss_time(mu, y, sigma, alpha)
        g = lazy_function(th, mu, y, sigma) if math.isinf(alpha) else diagonal_function(th, mu, y, sigma, alpha)
        torch.testing.assert_close((g - y) ** 2, y**2 / 2, rtol=1e-8, atol=0)
    torch.testing.assert_close(diagonal_theta_star(mu, y, sigma, 1.0), sigma**2 + y / mu.sqrt())


def test_order_flip_in_closed_form():
    _, y, info = example1()
    mu = info["mu"]
    rich = half_loss_time(mu, y, 1e-3, 1.0) / 1e-3
    lazy = half_loss_time(mu, y, 1e-3, 1e8) / 50
    assert spearman(mu, rich) == pytest.approx(1.0) and spearman(mu, lazy) == pytest.approx(-1.0)
    # the brief's pilot (discrete GD): [621, 530, 465, 417, 379] and [193, 217, 247, 289, 346]
    torch.testing.assert_close(rich, torch.tensor([621, 530, 465, 417, 379], dtype=torch.float64), rtol=0.012, atol=0)
    torch.testing.assert_close(lazy, torch.tensor([193, 217, 247, 289, 346], dtype=torch.float64), rtol=0.005, atol=0)


def test_mode_dynamics_reduces_to_the_per_example_forms_on_example1():
    x, y, info = example1()
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    out = mode_dynamics(x, y, t, sigma=1e-3)
    theta_star = y / info["mu"].sqrt()
    lin = linear_dynamics(t[:, None], info["mu"], theta_star, 1e-3)
    torch.testing.assert_close(out["linear"], (lin * info["mu"].sqrt() - y) ** 2, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(out["label_alignment"].sort().values, info["label_alignment"].sort().values)


def test_worked_examples_noise_and_spurious_groups():
    x, y, info = example2(seed=0)
    assert x.shape == (20, 200) and int(info["noisy"].sum()) == 5
    t = torch.linspace(0, 0.3, 31)
    nonlin = mode_dynamics(x, y, t, sigma=1e-3)["nonlinear"]
    clean, noisy = nonlin[:, ~info["noisy"]].mean(1), nonlin[:, info["noisy"]].mean(1)
    # non-linear dynamics: the clean examples are fitted while the flipped ones get worse first
    assert float(noisy.max()) > float(noisy[0]) and float(clean[-1]) < 0.5 * float(clean[0])
    x3, y3, info3 = example3(seed=0)
    assert x3.shape == (20, 200) and int(info3["spurious"].sum()) == 15
