"""The objectives: reverse KL equals a plain-torch negative ELBO, is -log p(D) at the exact posterior."""

import math

import pytest
import torch
from torch import nn

from etude_amortized_posterior.guide import AmortizedGuide
from etude_amortized_posterior.models import GaussianMean, LinearRegression
from etude_amortized_posterior.objectives import forward_kl, mixed, reverse_kl, warmup_weight


class ExactGuide(nn.Module):
    """A guide whose q is the model's exact posterior (used through the same Pyro guide code)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def posterior(self, x, y=None, mask=None):
        return self.model.exact_posterior(x, y, mask)

    forward = AmortizedGuide.forward

    def summary(self, x, y, mask):
        raise NotImplementedError


def _exact_pyro_guide(model):
    import pyro

    def guide(x, y=None, mask=None, feature_mask=None, kl_weight=1.0):
        q = model.exact_posterior(x, y, mask)
        loc = q.mean.unsqueeze(-2)
        with pyro.plate("datasets", x.shape[0], dim=-2):
            return pyro.sample("theta", pyro.distributions.MultivariateNormal(loc, q.covariance_matrix.unsqueeze(-3))
                               if hasattr(q, "covariance_matrix") else
                               pyro.distributions.Normal(loc, q.stddev.unsqueeze(-2)).to_event(1))

    guide.model = model
    return guide


def _gm_log_evidence(x, mask):
    """log p(D) of the GM model per dataset: per dimension the n observations are N(0, I + 11^T)."""
    out = []
    for i in range(x.shape[0]):
        xi = x[i][mask[i]].double()  # (n, d)
        n = xi.shape[0]
        cov = torch.eye(n, dtype=torch.float64) + torch.ones(n, n, dtype=torch.float64)
        mvn = torch.distributions.MultivariateNormal(torch.zeros(n, dtype=torch.float64), cov)
        out.append(mvn.log_prob(xi.T).sum())
    return torch.stack(out).float()


def test_reverse_kl_at_the_exact_posterior_is_minus_log_evidence_with_zero_variance():
    m = GaussianMean(2)
    data = m.simulate(6, n_min=5, n_max=20, generator=torch.Generator().manual_seed(0))
    guide = _exact_pyro_guide(m)
    target = -_gm_log_evidence(data["x"], data["mask"]).mean()
    losses = torch.stack([reverse_kl(guide, data, particles=1, kl="monte-carlo") for _ in range(5)])
    torch.testing.assert_close(losses, target.expand(5), rtol=1e-4, atol=1e-3)
    # per particle too: every single sample gives the same value
    torch.manual_seed(1)
    many = reverse_kl(guide, data, particles=16, kl="monte-carlo")
    torch.testing.assert_close(many, target, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("kl", ["monte-carlo", "analytic"])
def test_reverse_kl_equals_plain_torch_negative_elbo(kl):
    m = LinearRegression(2, noise_variance=0.25)
    guide = AmortizedGuide(m, encoder="deepsets", encoder_options={"hidden": 16, "out_features": 16})
    data = m.simulate(7, n_min=5, n_max=15, generator=torch.Generator().manual_seed(0))
    s = 4
    torch.manual_seed(123)
    loss = reverse_kl(guide, data, particles=s, kl=kl)
    torch.manual_seed(123)
    q = guide.posterior(data["x"], data["y"], data["mask"])
    loc, scale = q.base_dist.loc, q.base_dist.scale
    theta = loc + scale * torch.randn(s, *loc.shape)  # the same reparametrised draws
    x, y, mask = data["x"], data["y"], data["mask"]
    mean = (x.unsqueeze(0) * theta[..., None, :2]).sum(-1) + theta[..., 2:3]
    loglik = ((-0.5 * (y - mean) ** 2 / 0.25 - 0.5 * math.log(2 * math.pi * 0.25)) * mask).sum(-1)  # (S, D)
    logprior = (-0.5 * theta**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    logq = (-0.5 * ((theta - loc) / scale) ** 2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    if kl == "analytic":
        kl_term = (0.5 * (scale**2 + loc**2 - 1) - scale.log()).sum(-1)  # KL(N(loc, scale) || N(0, 1))
        expected = (kl_term - loglik.mean(0)).mean()
    else:
        expected = (logq - logprior - loglik).mean()
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-4)
    loss.backward()
    assert all(p.grad is not None for p in guide.parameters())


def test_forward_kl_is_the_nll_of_the_true_theta_and_refuses_real_data():
    m = GaussianMean(2)
    guide = AmortizedGuide(m, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8})
    data = m.simulate(4, generator=torch.Generator().manual_seed(0))
    q = guide.posterior(data["x"], None, data["mask"])
    loc, scale = q.base_dist.loc, q.base_dist.scale
    nll = (0.5 * ((data["theta"] - loc) / scale) ** 2 + scale.log() + 0.5 * math.log(2 * math.pi)).sum(-1).mean()
    torch.testing.assert_close(forward_kl(guide, data), nll)
    with pytest.raises(ValueError, match="reverse-kl"):
        forward_kl(guide, {**data, "theta": None})
    torch.manual_seed(0)
    r = reverse_kl(guide, data)
    torch.manual_seed(0)
    torch.testing.assert_close(mixed(guide, data), 0.5 * (forward_kl(guide, data) + r))


def test_kl_warmup_is_linear_and_scales_the_theta_site():
    assert [warmup_weight(s, 4) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup_weight(0, 1) == 1.0
    m = LinearRegression(1)
    guide = AmortizedGuide(m, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8})
    data = m.simulate(4, generator=torch.Generator().manual_seed(0))
    full = reverse_kl(guide, data, kl="analytic", kl_weight=1.0)
    none = reverse_kl(guide, data, kl="analytic", kl_weight=1e-8)
    q = guide.posterior(data["x"], data["y"], data["mask"])
    kl = torch.distributions.kl_divergence(q, m.prior()).mean()
    # the likelihood term is Monte Carlo; the difference of the two runs is the KL up to that noise
    assert abs(float(full - none - kl)) < 0.5 * float(full.abs()) + 1.0
