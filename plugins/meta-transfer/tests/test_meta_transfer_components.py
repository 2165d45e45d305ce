"""Estimator, procedure and task through the registry and their conformance suites."""

import pytest
import torch

import etude
from etude.testing.conformance import EstimatorConformance, ProcedureConformance, TaskConformance


def _task(seed=0, **kw):
    return etude.create("task", "bivariate-transfer", num_categories=4, num_train=500, episodes=30,
                        test_episodes=3, seed=seed, **kw)


class TestMetaTransferDirectionConformance(EstimatorConformance):
    component = ("estimator", "meta-transfer-direction")
    fit_steps = 5

    def make_estimator(self):
        return self.create(num_categories=4)

    def make_data(self, seed):
        t = _task(seed)
        return t.split("train").inputs, t.split("transfer").inputs


class TestMetaTransferProcedureConformance(ProcedureConformance):
    component = ("procedure", "meta-transfer")

    def make_task(self):
        return _task(0)


class TestBivariateTransferConformance(TaskConformance):
    component = ("task", "bivariate-transfer")

    def make_task(self, seed):
        return _task(seed)


def test_estimator_posterior_points_to_the_cause_and_to_the_control():
    est_values = {}
    for cause in ("A", "B"):
        t = etude.create("task", "bivariate-transfer", num_categories=10, num_train=10_000, episodes=300,
                         test_episodes=20, cause=cause, seed=3)
        est = etude.create("estimator", "meta-transfer-direction").fit(t.split("train").inputs, t.split("transfer").inputs)
        est_values[cause] = (float(torch.sigmoid(est.gamma)), float(est.estimate(t.split("train").inputs, t.split("test").inputs)))
    assert est_values["A"][0] > 0.8 and est_values["B"][0] < 0.2
    assert est_values["A"][1] > 0.9 and est_values["B"][1] < 0.1


def test_procedure_exact_and_mle_resets_agree_in_direction():
    t = _task(1)
    for reset in ("exact", "mle"):
        r = etude.create("procedure", "meta-transfer", reset=reset, meta_lr=0.05).run(t)
        assert r.metrics["sigma_gamma"] > 0.5 and len(r.history["sigma_gamma"]) == 30


def test_estimator_bad_input_errors_name_the_argument():
    est = etude.create("estimator", "meta-transfer-direction", num_categories=4)
    t = _task(0)
    train, transfers = t.split("train").inputs, t.split("transfer").inputs
    with pytest.raises(ValueError, match="'train' has categories"):
        est.fit(train + 4, transfers)
    with pytest.raises(ValueError, match="'transfers' must be"):
        est.fit(train, transfers[0])
    with pytest.raises(ValueError, match="'transfers' contains NaN"):
        est.fit(train, transfers.double().index_fill_(0, torch.tensor([0]), float("nan")))
    with pytest.raises(ValueError, match="steps"):
        est.fit(train, transfers, steps=0)
    with pytest.raises(ValueError, match="hypotheses"):
        etude.create("estimator", "meta-transfer-direction", hypotheses="mlp")


class TestSplineTransferConformance(TaskConformance):
    component = ("task", "spline-transfer")

    def make_task(self, seed):
        return self.create(num_train=100, episodes=3, test_episodes=2, samples=50, seed=seed)


def test_spline_transfer_shifts_only_the_cause():
    t = etude.create("task", "spline-transfer", num_train=4000, episodes=9, test_episodes=1, samples=4000, seed=0)
    x, m = t.split("transfer").inputs, t.split("transfer").targets
    assert set(m.tolist()) <= set(range(-4, 5))
    torch.testing.assert_close(x[..., 0].mean(1), m, atol=0.15, rtol=0)
    torch.testing.assert_close(x[..., 0].std(1), torch.full_like(m, 2.0), atol=0.15, rtol=0)
