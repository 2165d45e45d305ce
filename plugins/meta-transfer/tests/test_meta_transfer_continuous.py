"""Continuous hypotheses: the MDN is a density, EM fits a mixture, the loop runs."""

import torch

from etude_meta_transfer.continuous import (
    MixtureDensityNetwork, continuous_meta_train, fit_gaussian_mixture, gaussian_mixture_log_prob,
)


def test_mdn_density_integrates_to_one_on_a_grid():
    torch.manual_seed(0)
    mdn = MixtureDensityNetwork(components=4, capacity=8)
    y = torch.linspace(-40, 40, 40001)
    for x in (-3.0, 0.0, 2.5):
        with torch.no_grad():
            p = mdn.log_prob(y, torch.full_like(y, x)).exp()
        assert abs(float(torch.trapezoid(p, y)) - 1.0) < 1e-4


def test_em_recovers_a_two_component_mixture():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(4000, generator=g) - 4, 0.5 * torch.randn(4000, generator=g) + 3]).double()
    params = fit_gaussian_mixture(x, components=2, iters=100)
    mu, sd = params[1].sort().values, params[2][params[1].argsort()]
    torch.testing.assert_close(mu, torch.tensor([-4.0, 3.0], dtype=torch.float64), atol=0.1, rtol=0)
    torch.testing.assert_close(sd, torch.tensor([1.0, 0.5], dtype=torch.float64), atol=0.1, rtol=0)
    assert float(gaussian_mixture_log_prob(x, params).mean()) > float(
        gaussian_mixture_log_prob(x, fit_gaussian_mixture(x, components=2, iters=1)).mean())


def test_continuous_loop_is_deterministic_under_seed():
    a = continuous_meta_train(0, pretrain_steps=20, episodes=3, samples=100)
    b = continuous_meta_train(0, pretrain_steps=20, episodes=3, samples=100)
    assert a == b and len(a["sigma_gamma"]) == 3
