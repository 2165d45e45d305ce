"""The amortised estimator: training on simulations, variance shrinking with n, errors, conformance."""

import pytest
import torch

from etude.testing.conformance import EstimatorConformance, ProcedureConformance, TaskConformance
from etude_amortized_posterior.estimator import AmortizedPosterior
from etude_amortized_posterior.tasks import BayesGaussianMean, BayesLinearRegression, GPDatasets


@pytest.fixture(scope="module")
def trained_gm():
    torch.manual_seed(0)
    task = BayesGaussianMean(dim=1, n_min=8, n_max=64, n_query=0)
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 16, "out_features": 16},
                             objective="reverse-kl", kl="analytic", particles=8, lr=1e-2, batch_size=64, seed=0)
    return est.fit(steps=600)


def test_trained_gm_variance_falls_with_n_as_one_over_n_plus_one(trained_gm):
    ns = list(range(16, 65, 8))
    g = torch.Generator().manual_seed(5)
    x = torch.randn(len(ns), 64, 1, generator=g) + 0.5
    mask = torch.arange(64)[None] < torch.tensor(ns)[:, None]
    var = trained_gm.estimate(x * mask[..., None], None, mask).variance.squeeze(-1)
    exact = 1.0 / (torch.tensor(ns, dtype=torch.float32) + 1)
    assert (var[1:] < var[:-1]).all(), var
    rel = (var - exact).abs() / exact
    assert (rel < 0.2).all(), (var, exact)


def test_estimate_is_one_batched_pass_with_batch_and_event_shapes(trained_gm):
    data = trained_gm.task.simulate(5, torch.Generator().manual_seed(0))
    q = trained_gm.estimate(data["x"], None, data["mask"])
    assert q.batch_shape == (5,) and q.event_shape == (1,)
    assert q.rsample((3,)).shape == (3, 5, 1)


def test_reverse_kl_trains_on_given_datasets_and_forward_kl_refuses_them():
    task = BayesLinearRegression(dim=1, num_train=16, num_test=4, n_min=4, n_max=8)
    tr = task.split("train")
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8},
                             batch_size=8, lr=1e-3)
    before = [p.detach().clone() for p in est.guide.parameters()]
    est.fit(tr.inputs, tr.targets, tr.info["mask"], steps=3)
    assert len(est.history) == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, est.guide.parameters()))
    fwd = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8},
                             objective="forward-kl")
    with pytest.raises(ValueError, match="true theta"):
        fwd.fit(tr.inputs, tr.targets, tr.info["mask"], steps=1)


def test_clear_errors_for_bad_datasets():
    task = BayesLinearRegression(dim=1)
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8})
    x, y = torch.randn(2, 5, 1), torch.randn(2, 5)
    with pytest.raises(ValueError, match="mask must have shape"):
        est.estimate(x, y, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="every observation"):
        est.estimate(x, y, torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="NaN"):
        est.estimate(x, torch.full((2, 5), float("nan")))
    with pytest.raises(ValueError, match="bayes-"):
        AmortizedPosterior(task_instance=object())


@pytest.mark.parametrize("encoder,head,objective", [("transformer", "flow", "reverse-kl"), ("gru", "gaussian", "mixed"),
                                                    ("deepsets", "flow", "forward-kl")])
def test_every_encoder_head_objective_trains(encoder, head, objective):
    opts = {"hidden": 8, "out_features": 8}
    if encoder == "transformer":
        opts.update(num_heads=2, layers=1)
    est = AmortizedPosterior(task="bayes-linear-regression", task_options={"dim": 2, "n_min": 4, "n_max": 8},
                             encoder=encoder, encoder_options=opts, head=head, head_options={"hidden": 8, "num_layers": 2},
                             objective=objective, kl="monte-carlo", particles=2, batch_size=4, lr=1e-3)
    est.fit(steps=2)
    assert len(est.history) == 2 and all(torch.isfinite(torch.tensor(est.history)))


class TestAmortizedPosteriorConformance(EstimatorConformance):
    component = ("estimator", "amortized-posterior")
    fit_steps = 3

    def make_estimator(self):
        return self.create(task="bayes-linear-regression", task_options={"dim": 1}, encoder="deepsets",
                           encoder_options={"hidden": 8, "out_features": 8}, batch_size=4)

    def make_data(self, seed):
        data = BayesLinearRegression(dim=1, n_min=4, n_max=6).simulate(4, torch.Generator().manual_seed(seed))
        return data["x"], data["y"], data["mask"]


_SMALL = {"num_train": 4, "num_test": 3, "n_min": 3, "n_max": 6, "n_query": 2}


@pytest.mark.parametrize("name", ["bayes-gaussian-mean", "bayes-gaussian-mixture", "bayes-linear-regression",
                                  "bayes-linear-classification", "bayes-nonlinear-regression",
                                  "bayes-nonlinear-classification", "gp-datasets"])
def test_split_layout(name):
    import etude

    task = etude.create("task", name, **_SMALL)
    s = task.split("test")
    assert s.inputs.shape[:2] == s.targets.shape == s.info["mask"].shape == (3, 6)
    assert s.info["x_query"].shape[:2] == (3, 2)
    assert (s.info["theta"] is None) == (name == "gp-datasets")


def test_gp_datasets_have_the_rbf_covariance():
    task = GPDatasets(n_min=2, n_max=2, n_query=0, num_train=4000, num_test=1, lengthscale=1.0, variance=1.0,
                      noise_variance=0.25)
    s = task.split("train")
    x, y = s.inputs.squeeze(-1), s.targets
    # Cov(y1, y2 | x) = exp(-|x1 - x2|^2 / 2); check E[y1 y2 / k(x1, x2)] = 1 and Var y = 1.25
    k = torch.exp(-0.5 * (x[:, 0] - x[:, 1]) ** 2)
    assert abs(float(y.var()) - 1.25) < 0.08
    near = (x[:, 0] - x[:, 1]).abs() < 0.3
    corr = (y[near, 0] * y[near, 1]).mean() / k[near].mean()
    assert abs(float(corr) - 1.0) < 0.15


class TestGaussianMeanTask(TaskConformance):
    component = ("task", "bayes-gaussian-mean")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestNonlinearRegressionTask(TaskConformance):
    component = ("task", "bayes-nonlinear-regression")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestNonlinearClassificationTask(TaskConformance):
    component = ("task", "bayes-nonlinear-classification")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestLinearClassificationTask(TaskConformance):
    component = ("task", "bayes-linear-classification")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestLinearRegressionTask(TaskConformance):
    component = ("task", "bayes-linear-regression")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestGaussianMixtureTask(TaskConformance):
    component = ("task", "bayes-gaussian-mixture")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestGPTask(TaskConformance):
    component = ("task", "gp-datasets")

    def make_task(self, seed):
        return self.create(seed=seed, **_SMALL)


class TestAmortizedInferenceConformance(ProcedureConformance):
    component = ("procedure", "amortized-inference")

    def make_procedure(self):
        return self.create(encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8}, steps=2,
                           batch_size=4, lr=1e-3, num_samples=4)

    def make_task(self):
        return BayesLinearRegression(dim=1, **_SMALL)


def test_procedure_on_switched_gp_data_reports_l2():
    import etude

    proc = etude.create("procedure", "amortized-inference", encoder="deepsets",
                        encoder_options={"hidden": 8, "out_features": 8}, steps=2, batch_size=4,
                        data_task="gp-datasets", data_task_options=_SMALL, nuts_datasets=0)
    from etude_amortized_posterior.tasks import BayesNonlinearRegression

    res = proc.run(BayesNonlinearRegression(dim=1, hidden=4, **_SMALL), seed=0)
    assert res.metrics["l2"] > 0 and "symmetric_kl" not in res.metrics


def test_forward_kl_on_a_fixed_pool_of_simulated_pairs():
    task = BayesLinearRegression(dim=1, n_min=4, n_max=8)
    pool = task.simulate(16, torch.Generator().manual_seed(0))
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 8, "out_features": 8},
                             objective="forward-kl", batch_size=8)
    est.fit(pool["x"], pool["y"], pool["mask"], theta=pool["theta"], steps=2)
    assert len(est.history) == 2
    with pytest.raises(ValueError, match="theta must have shape"):
        est.fit(pool["x"], pool["y"], pool["mask"], theta=pool["theta"][:3], steps=1)
