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
        etude.create("estimator", "meta-transfer-direction", hypotheses="gp")


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


def _spline_data(seed, episodes=4, steps=2, batch=50):
    t = etude.create("task", "spline-transfer", num_train=500, episodes=episodes, test_episodes=2,
                     samples=steps * batch, seed=seed)
    return t.split("train").inputs, t.split("transfer").inputs.view(episodes, steps, batch, 2)


class TestMetaTransferMLPConformance(EstimatorConformance):
    component = ("estimator", "meta-transfer-direction")
    fit_steps = 3

    def make_estimator(self):
        return self.create(num_categories=4, hypotheses="mlp", pretrain_steps=20, inner_lr=0.01)

    def make_data(self, seed):
        t = _task(seed)
        return t.split("train").inputs, t.split("transfer").inputs


class TestMetaTransferMDNConformance(EstimatorConformance):
    component = ("estimator", "meta-transfer-direction")
    fit_steps = 3

    def make_estimator(self):
        return self.create(hypotheses="mdn", pretrain_steps=20, inner_lr=1e-3, components=3, capacity=8)

    def make_data(self, seed):
        return _spline_data(seed)


def test_neural_hypotheses_leave_the_pretrained_modules_unchanged_and_score_before_each_step():
    from etude_meta_transfer.neural import NeuralHypotheses

    torch.manual_seed(0)
    h = NeuralHypotheses("mlp", num_categories=4, pretrain_steps=50)
    t = _task(0)
    h.pretrain(t.split("train").inputs, torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in h.g1.parameters()]
    episode = t.split("transfer").inputs[0]  # (2, 10, 2)
    l1, _ = h.episode_log_likelihood(episode, inner_lr=100.0)
    assert all(torch.equal(a, b) for a, b in zip(before, h.g1.parameters()))
    # first batch scored at the pretrained module; the second after one SGD step (lr 100: very different)
    with torch.no_grad():
        first = h.g1.log_prob(episode[0][:, 0], episode[0][:, 1]).sum().double()
        second_unadapted = h.g1.log_prob(episode[1][:, 0], episode[1][:, 1]).sum().double()
    assert float(l1) != pytest.approx(float(first + second_unadapted), abs=1e-3)
    l1_tiny, _ = h.episode_log_likelihood(episode, inner_lr=1e-12)
    assert float(l1_tiny) == pytest.approx(float(first + second_unadapted), abs=1e-4)


def test_neural_estimator_bad_input():
    est = etude.create("estimator", "meta-transfer-direction", hypotheses="mdn", pretrain_steps=2)
    train, transfers = _spline_data(0)
    with pytest.raises(TypeError, match="'train' must be a floating tensor"):
        est.fit(train.long(), transfers)
    with pytest.raises(ValueError, match="'transfers' contains NaN"):
        est.fit(train, transfers.index_fill(0, torch.tensor([0]), float("nan")))
    with pytest.raises(Exception, match="regret"):
        etude.create("estimator", "meta-transfer-direction", hypotheses="mlp", regret="per-batch")


@pytest.mark.slow
def test_mlp_hypotheses_find_the_direction_and_the_control():
    """The official run_mlp.py inner loop (10 samples of batch 1, SGD 1e-2, Adam 0.1 on gamma), 150 episodes."""
    sig = {}
    for cause in ("A", "B"):
        torch.manual_seed(0)
        t = etude.create("task", "bivariate-transfer", num_categories=10, num_train=10_000, episodes=150,
                         test_episodes=5, steps=10, batch_size=1, cause=cause, seed=3)
        est = etude.create("estimator", "meta-transfer-direction", hypotheses="mlp", inner_lr=1e-2,
                           meta_optimizer="adam", meta_lr=0.1, pretrain_steps=500)
        sig[cause] = float(torch.sigmoid(est.fit(t.split("train").inputs, t.split("transfer").inputs).gamma))
    assert sig["A"] > 0.8 and sig["B"] < 0.2, sig
