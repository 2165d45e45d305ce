"""DSM closed form at the exact Gaussian score, the likelihood weighting, the KL and L1 penalties."""

from __future__ import annotations

import math

import pytest
import torch

from etude_diffusion_time_mixing.objective import dsm_loss, gaussian_kl, latent_penalty
from etude_diffusion_time_mixing.sde import VESDE


@pytest.mark.parametrize("t, s, d", [(0.1, 1.0, 3), (0.5, 0.7, 5), (0.8, 2.0, 2)])
def test_dsm_at_exact_gaussian_score_equals_closed_form(t, s, d):
    # data N(0, s^2 I_d); x_t ~ N(0, (s^2 + sigma^2) I): exact score -x_t / (s^2 + sigma^2);
    # E ||sigma score + eps||^2 = d s^2 / (s^2 + sigma^2).
    sde, n = VESDE(0.01, 10.0), 400_000
    x0 = s * torch.randn(n, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    tt = torch.full((n,), t, dtype=torch.float64)
    xt, eps = sde.perturb(x0, tt, torch.Generator().manual_seed(1))
    sigma = 0.01 * 1000.0 ** t
    score = -xt / (s**2 + sigma**2)
    mc = float(dsm_loss(score, eps, tt, sde).mean())
    assert mc == pytest.approx(d * s**2 / (s**2 + sigma**2), rel=0.01)


def test_a_wrong_score_is_worse_than_the_exact_one():
    sde, n, s = VESDE(0.01, 10.0), 100_000, 1.0
    x0 = torch.randn(n, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    tt = torch.full((n,), 0.4, dtype=torch.float64)
    xt, eps = sde.perturb(x0, tt, torch.Generator().manual_seed(1))
    sigma2 = float(sde.sigma(tt[:1])) ** 2
    exact = dsm_loss(-xt / (s**2 + sigma2), eps, tt, sde).mean()
    wrong = dsm_loss(-xt / (2 * s**2 + sigma2), eps, tt, sde).mean()
    assert float(wrong) > float(exact) + 0.01


def test_likelihood_weighting_is_g2_over_sigma2_times_sigma2_form():
    sde = VESDE(0.01, 10.0)
    g = torch.Generator().manual_seed(0)
    score, eps, t = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g), torch.rand(6, generator=g)
    plain = dsm_loss(score, eps, t, sde, "sigma2")
    weighted = dsm_loss(score, eps, t, sde, "likelihood")
    torch.testing.assert_close(weighted, plain * 2 * math.log(10.0 / 0.01))
    manual = ((sde.sigma(t)[:, None] * score + eps) ** 2).sum(1)
    torch.testing.assert_close(plain, manual)


def test_reductions_over_data_dimensions():
    sde = VESDE(0.01, 10.0)
    g = torch.Generator().manual_seed(0)
    score, eps, t = torch.randn(6, 2, 5, generator=g), torch.randn(6, 2, 5, generator=g), torch.rand(6, generator=g)
    for weighting in ("sigma2", "likelihood"):
        total = dsm_loss(score, eps, t, sde, weighting)
        torch.testing.assert_close(dsm_loss(score, eps, t, sde, weighting, "half-sum"), 0.5 * total)
        torch.testing.assert_close(dsm_loss(score, eps, t, sde, weighting, "mean"), total / 10)
    with pytest.raises(ValueError, match="reduction"):
        dsm_loss(score, eps, t, sde, "sigma2", "max")


def test_kl_matches_torch_distributions_and_closed_form():
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Independent(torch.distributions.Normal(mu, (0.5 * log_var).exp()), 1),
        torch.distributions.Independent(torch.distributions.Normal(torch.zeros(3, dtype=torch.float64),
                                                                   torch.ones(3, dtype=torch.float64)), 1))
    torch.testing.assert_close(gaussian_kl(mu, log_var), expected)
    closed = -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, log_var), closed)


def test_penalties_and_errors():
    mu = torch.tensor([[1.0, -2.0], [0.0, 0.5]])
    torch.testing.assert_close(latent_penalty(mu, None, "l1"), torch.tensor([3.0, 0.5]))
    torch.testing.assert_close(latent_penalty(mu, None, "none"), torch.zeros(2))
    with pytest.raises(ValueError, match="log-variance"):
        latent_penalty(mu, None, "kl")
    with pytest.raises(ValueError, match="weighting"):
        dsm_loss(mu, mu, torch.rand(2), VESDE(), "bad")
    with pytest.raises(ValueError, match="same shape"):
        dsm_loss(mu, mu[:, :1], torch.rand(2), VESDE())
