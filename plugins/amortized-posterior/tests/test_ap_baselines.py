"""Per-dataset baselines: NUTS recovers the conjugate mean, MLE is OLS, mean-field VI matches the GM posterior."""

import pytest
import torch
from pyro.ops.stats import effective_sample_size

from etude.testing.conformance import EstimatorConformance
from etude_amortized_posterior.baselines import LangevinPosterior, MAPEstimate, MeanFieldVI, NUTSPosterior
from etude_amortized_posterior.models import GaussianMean, LinearRegression


def _lr_data(d=2, n_min=20, n_max=30, seed=0):
    m = LinearRegression(1, noise_variance=0.25)
    return m, m.simulate(d, n_min=n_min, n_max=n_max, generator=torch.Generator().manual_seed(seed))


def test_nuts_recovers_the_conjugate_mean_within_three_mc_standard_errors():
    m, data = _lr_data()
    nuts = NUTSPosterior(model=m, warmup_steps=100, num_samples=200, seed=0).fit(data["x"], data["y"], data["mask"])
    exact = m.exact_posterior(data["x"], data["y"], data["mask"])
    samples = nuts.samples  # (S, D, P)
    ess = effective_sample_size(samples.unsqueeze(0), chain_dim=0, sample_dim=1)  # (D, P)
    se = exact.stddev / ess.clamp_min(1.0).sqrt()
    err = (samples.mean(0) - exact.mean).abs()
    assert (err < 3 * se).all(), (err, se)
    q = nuts.estimate()
    assert q.batch_shape == (2,) and q.event_shape == (2,)


def test_mle_with_flat_prior_equals_ols():
    m, data = _lr_data(d=3)
    mle = MAPEstimate(model=m, prior=False, steps=600, lr=0.1).fit(data["x"], data["y"], data["mask"])
    for i in range(3):
        n = int(data["mask"][i].sum())
        phi = torch.cat([data["x"][i, :n], torch.ones(n, 1)], dim=1)
        ols = torch.linalg.lstsq(phi, data["y"][i, :n].unsqueeze(-1)).solution.squeeze(-1)
        torch.testing.assert_close(mle.theta[i], ols, atol=2e-3, rtol=1e-3)


def test_map_equals_the_conjugate_posterior_mean():
    m, data = _lr_data(d=2)
    mp = MAPEstimate(model=m, steps=600, lr=0.1).fit(data["x"], data["y"], data["mask"])
    torch.testing.assert_close(mp.theta, m.exact_posterior(data["x"], data["y"], data["mask"]).mean, atol=2e-3, rtol=1e-3)


def test_mean_field_vi_matches_the_exact_gm_posterior():
    m = GaussianMean(2)
    data = m.simulate(3, n_min=10, n_max=20, generator=torch.Generator().manual_seed(0))
    vi = MeanFieldVI(model=m, steps=800, lr=0.05, particles=16, lr_decay=0.005).fit(data["x"], data["mask"])
    exact = m.exact_posterior(data["x"], None, data["mask"])
    q = vi.estimate()
    torch.testing.assert_close(q.mean, exact.mean, atol=1e-2, rtol=0)
    torch.testing.assert_close(q.stddev, exact.stddev, atol=1e-2, rtol=0)


def test_langevin_is_hmc_with_one_step_and_samples_near_the_posterior():
    m = GaussianMean(1)
    data = m.simulate(2, n_min=10, n_max=10, generator=torch.Generator().manual_seed(0))
    mala = LangevinPosterior(model=m, warmup_steps=150, num_samples=300, seed=0).fit(data["x"], data["mask"])
    assert mala._kernel(lambda: None).num_steps == 1
    exact = m.exact_posterior(data["x"], None, data["mask"])
    assert ((mala.samples.mean(0) - exact.mean).abs() < 0.15).all()


def test_baseline_estimate_before_fit_errors():
    with pytest.raises(RuntimeError, match="fit"):
        MAPEstimate(model=LinearRegression(1)).estimate()


class _Baseline(EstimatorConformance):
    fit_steps = 5

    def make_data(self, seed):
        data = LinearRegression(1).simulate(2, n_min=4, n_max=6, generator=torch.Generator().manual_seed(seed))
        return data["x"], data["y"], data["mask"]


class TestNUTSConformance(_Baseline):
    component = ("estimator", "nuts-posterior")

    def make_estimator(self):
        return self.create(task_options={"dim": 1}, num_samples=5)


class TestLangevinConformance(_Baseline):
    component = ("estimator", "langevin-posterior")

    def make_estimator(self):
        return self.create(task_options={"dim": 1}, num_samples=5)


class TestMeanFieldVIConformance(_Baseline):
    component = ("estimator", "mean-field-vi")

    def make_estimator(self):
        return self.create(task_options={"dim": 1})


class TestMAPConformance(_Baseline):
    component = ("estimator", "map")

    def make_estimator(self):
        return self.create(task_options={"dim": 1})
