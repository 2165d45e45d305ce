"""Tasks and the information-bottleneck procedure."""

import pytest
import torch

import etude
from etude.testing.conformance import ProcedureConformance, TaskConformance
from etude_mine.bottleneck import MINEInformationBottleneck, digits_task
from etude_mine.tasks import CorrelatedGaussians, TransformedGaussians


class TestCorrelatedGaussiansConformance(TaskConformance):
    component = ("task", "correlated-gaussians")

    def make_task(self, seed):
        return self.create(seed=seed, n_train=64, n_test=64)


class TestTransformedGaussiansConformance(TaskConformance):
    component = ("task", "transformed-gaussians")

    def make_task(self, seed):
        return self.create(seed=seed, n_train=64, n_test=64)


class TestInformationBottleneckConformance(ProcedureConformance):
    component = ("procedure", "mine-information-bottleneck")

    def make_procedure(self):
        return self.create(epochs=1, hidden=16, z_dim=4, critic_hidden=8)

    def make_task(self):
        return digits_task(test_size=1000)


def test_gaussian_samples_have_the_stated_correlation():
    task = CorrelatedGaussians(dim=3, rho=0.6, n_train=50_000, n_test=10)
    tr = task.split("train")
    c = torch.corrcoef(torch.cat([tr.inputs, tr.targets], 1).T)
    torch.testing.assert_close(c[:3, 3:], 0.6 * torch.eye(3), atol=0.02, rtol=0)
    assert task.split("test").info["mutual_information"] == pytest.approx(task.mutual_information)


def test_transformed_task_keeps_mi_and_changes_marginals():
    base = CorrelatedGaussians(rho=0.7, n_train=100, n_test=100, seed=4)
    tt = TransformedGaussians(rho=0.7, n_train=100, n_test=100, seed=4, x_transform="cube", y_transform="exp")
    assert tt.mutual_information == base.mutual_information
    torch.testing.assert_close(tt.split("train").inputs, base.split("train").inputs ** 3)
    torch.testing.assert_close(tt.split("train").targets, base.split("train").targets.exp())


def test_task_config_errors():
    with pytest.raises(etude.ConfigError, match="rho"):
        etude.create("task", "correlated-gaussians", rho=1.0)
    with pytest.raises(etude.ConfigError, match="x_transform"):
        etude.create("task", "transformed-gaussians", x_transform="square")  # not invertible


def test_procedure_rejects_non_classification_task():
    with pytest.raises(TypeError, match="classification"):
        MINEInformationBottleneck(epochs=1).run(CorrelatedGaussians(n_train=10, n_test=10))


def test_mine_ib_reports_mi_and_learns():
    proc = MINEInformationBottleneck(epochs=10, hidden=32, z_dim=8, critic_hidden=16, lr=3e-3)
    res = proc.run(digits_task(seed=0), seed=0)
    assert res.metrics["test_error_pct"] < 30  # 10 classes: chance is 90%
    assert res.metrics["mi_xz_test"] > 0
    assert len(res.history["mi_xz"]) == len(res.history["ce"]) > 0
