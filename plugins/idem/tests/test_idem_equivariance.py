"""E(n) x S_n equivariance: S_K with rotated noise, the EGNN score, and the mean-free prior's normaliser."""

import math

import pytest
import torch

from etude_idem.egnn import EGNNScore
from etude_idem.particles import mean_free_normal_log_prob, remove_mean
from etude_idem.schedules import NoiseSchedule
from etude_idem.score import dem_score, draw_noise
from etude_idem.targets import LennardJones, MultiDoubleWell


def random_rotation(d: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=dtype))
    return q * torch.sign(torch.diagonal(r))


def transform(x: torch.Tensor, rot: torch.Tensor, perm: torch.Tensor, shift: torch.Tensor, n: int, d: int) -> torch.Tensor:
    """``R P x + c`` for flat particle configurations (..., n*d)."""
    y = x.reshape(*x.shape[:-1], n, d)[..., perm, :] @ rot.T + shift
    return y.reshape(x.shape)


@pytest.mark.parametrize("target_cls,n,d", [(MultiDoubleWell, 4, 2), (LennardJones, 5, 3)])
def test_sk_is_equivariant_with_rotated_noise(target_cls, n, d):
    target = target_cls(n_particles=n, spatial_dim=d).to(dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    sch = NoiseSchedule(sigma_min=0.01, sigma_max=0.3)
    x = remove_mean(torch.randn(6, n * d, generator=g, dtype=torch.float64) * 1.5, (n, d))
    t = torch.rand(6, generator=g, dtype=torch.float64)
    noise = draw_noise(6, 9, n * d, layout=(n, d), generator=g, dtype=torch.float64)
    rot, perm = random_rotation(d, g), torch.randperm(n, generator=g)
    shift = torch.randn(d, generator=g, dtype=torch.float64)
    zero = torch.zeros(d, dtype=torch.float64)
    s = dem_score(target, x, t, 9, sch, noise=noise, layout=(n, d))
    s_moved = dem_score(target, transform(x, rot, perm, shift, n, d), t, 9, sch, noise=transform(noise, rot, perm, zero, n, d), layout=(n, d))
    torch.testing.assert_close(s_moved, transform(s, rot, perm, zero, n, d), rtol=0, atol=1e-10)


def test_egnn_is_equivariant_and_mean_free():
    torch.manual_seed(0)
    net = EGNNScore(n_particles=5, spatial_dim=3, hidden=32, n_layers=3).double()
    with torch.no_grad():  # make the coordinate heads non-trivial (they start near 0)
        for layer in net.layers:
            layer.coord[-1].weight.mul_(300.0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(7, 15, generator=g, dtype=torch.float64)
    t = torch.rand(7, generator=g, dtype=torch.float64)
    rot, perm = random_rotation(3, g), torch.randperm(5, generator=g)
    shift = torch.randn(3, generator=g, dtype=torch.float64)
    out = net(x, t)
    assert float(out.detach().abs().max()) > 1e-3
    torch.testing.assert_close(out.reshape(7, 5, 3).mean(1), torch.zeros(7, 3, dtype=torch.float64), atol=1e-12, rtol=0)
    moved = net(transform(x, rot, perm, shift, 5, 3), t)
    torch.testing.assert_close(moved, transform(out, rot, perm, torch.zeros(3, dtype=torch.float64), 5, 3), rtol=0, atol=1e-5)
    # a non-equivariant perturbation of the input breaks it (the check can fail)
    assert float((net(x + torch.linspace(0, 1, 15, dtype=torch.float64), t) - out).detach().abs().max()) > 1e-6


def test_mean_free_prior_has_n_minus_1_times_d_degrees_of_freedom():
    x = remove_mean(torch.randn(3, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64), (4, 2))
    std = 1.7
    lp = mean_free_normal_log_prob(x, std, (4, 2))
    expected = -0.5 * (x**2).sum(-1) / std**2 - 0.5 * 6 * math.log(2 * math.pi * std**2)
    torch.testing.assert_close(lp, expected)
    # in an orthonormal basis of the subspace it is exactly the 6-D Gaussian N(0, std^2 I_6)
    basis = torch.linalg.qr(remove_mean(torch.eye(8, dtype=torch.float64), (4, 2)).T)[0][:, :6]  # orthonormal basis of the subspace
    z = torch.randn(1000, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * std
    y = z @ basis.T
    log_q = -0.5 * (z**2).sum(-1) / std**2 - 3 * math.log(2 * math.pi * std**2)
    torch.testing.assert_close(mean_free_normal_log_prob(y, std, (4, 2)), log_q)
