"""Metrics: symmetric KL against torch's KL, predictive L2 at the truth, label-switching invariance, W2."""

import pyro.distributions as dist
import torch

from etude_amortized_posterior.metrics import (
    closest_mean_l2,
    evaluate,
    predictive_accuracy,
    predictive_l2,
    symmetric_kl,
    wasserstein2,
)
from etude_amortized_posterior.models import GaussianMean, LinearClassification, LinearRegression


def _spd(d, p, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, p, p, generator=g)
    return a @ a.transpose(-1, -2) + 0.5 * torch.eye(p)


def test_symmetric_kl_matches_torch_kl_divergence_full_and_diagonal():
    loc0, loc1 = torch.randn(4, 3), torch.randn(4, 3)
    p = torch.distributions.MultivariateNormal(loc1, _spd(4, 3, 1))
    q = dist.Normal(loc0, torch.rand(4, 3) + 0.2).to_event(1)
    q_full = torch.distributions.MultivariateNormal(loc0, torch.diag_embed(q.base_dist.scale**2))
    expected = torch.distributions.kl_divergence(q_full, p) + torch.distributions.kl_divergence(p, q_full)
    torch.testing.assert_close(symmetric_kl(q, p), expected, rtol=1e-4, atol=1e-4)
    r = torch.distributions.MultivariateNormal(loc0, _spd(4, 3, 2))
    torch.testing.assert_close(symmetric_kl(r, p), torch.distributions.kl_divergence(r, p)
                               + torch.distributions.kl_divergence(p, r), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(symmetric_kl(p, p), torch.zeros(4), atol=1e-5, rtol=0)


def test_predictive_l2_is_zero_at_true_theta_with_noise_free_targets():
    m = LinearRegression(2)
    theta = torch.randn(3, 3)
    xq = torch.randn(3, 9, 2)
    yq = m.mean(theta, xq)
    assert float(predictive_l2(m, theta.unsqueeze(0), xq, yq).abs().max()) == 0.0
    assert float(predictive_l2(m, (theta + 0.1).unsqueeze(0), xq, yq).min()) > 0
    gm = GaussianMean(2)
    mu = torch.randn(3, 2)
    assert float(predictive_l2(gm, mu.unsqueeze(0), mu[:, None, :].expand(3, 5, 2), None).abs().max()) == 0.0
    # GM: squared distances summed over dimensions, averaged over queries and samples
    xq = mu[:, None, :] + torch.tensor([1.0, 2.0])
    torch.testing.assert_close(predictive_l2(gm, mu.unsqueeze(0), xq, None), torch.full((3,), 5.0))


def test_predictive_accuracy_is_100_at_true_theta_noise_free():
    m = LinearClassification(2)
    theta = torch.randn(3, 6)
    xq = torch.randn(3, 20, 2)
    yq = m.predict(theta, xq)
    torch.testing.assert_close(predictive_accuracy(m, theta.unsqueeze(0), xq, yq), torch.full((3,), 100.0))


def test_closest_mean_l2_is_invariant_to_relabelling():
    means = torch.randn(5, 3, 2, 4)  # (S, D, K, d)
    xq = torch.randn(3, 7, 4)
    torch.testing.assert_close(closest_mean_l2(means, xq), closest_mean_l2(means.flip(-2), xq))
    single = ((xq.unsqueeze(0).unsqueeze(-2) - means.unsqueeze(-3)) ** 2).sum(-1).amin(-1).mean((-1, 0))
    torch.testing.assert_close(closest_mean_l2(means, xq), single)


def test_wasserstein2_zero_for_equal_sets_and_shift_squared_for_translates():
    a = torch.randn(50, 2, 3)
    torch.testing.assert_close(wasserstein2(a, a), torch.zeros(2), atol=1e-6, rtol=0)
    shift = torch.tensor([1.0, 2.0, 0.0])
    torch.testing.assert_close(wasserstein2(a, a + shift), torch.full((2,), 5.0), atol=1e-4, rtol=1e-4)


def test_evaluate_reports_the_task_metric_and_loglik():
    m = LinearRegression(1)
    data = m.simulate(4, n_query=8, generator=torch.Generator().manual_seed(0))
    q = m.exact_posterior(data["x"], data["y"], data["mask"])
    out = evaluate(m, q, data, num_samples=10)
    assert set(out) == {"l2", "predictive_loglik"} and out["l2"] > 0
