"""The core supervised procedure with this plugin's augmenters, and every claim at smoke scale."""

import pytest
import torch

import etude
from etude.claims import run_claim
from etude.testing.conformance import ProcedureConformance

TINY = {"epochs": 2, "hidden": (16,), "batch_size": 64}


class TestSupervised(ProcedureConformance):
    component = ("procedure", "supervised")

    def make_procedure(self):
        return self.create(augmenter="mixupe", augmenter_options={"alpha": 1.0, "eta": 0.1}, **TINY)

    def make_task(self):
        return etude.create("task", "breast-cancer", label_noise=0.1)


def test_procedure_history_and_noise_metrics():
    task = etude.create("task", "breast-cancer", label_noise=0.2)
    result = etude.create("procedure", "supervised", augmenter="mixup", **TINY).run(task, seed=1)
    assert set(result.metrics) >= {"test_accuracy", "train_accuracy", "train_clean_accuracy", "memorized_fraction"}
    assert len(result.history["test_accuracy"]) == len(result.history["memorized_fraction"]) == 2
    assert 0.0 <= result.metrics["memorized_fraction"] <= 1.0
    clean = etude.create("procedure", "supervised", **TINY).run(etude.create("task", "breast-cancer"), seed=1)
    assert "memorized_fraction" not in clean.history and "memorized_fraction" not in clean.metrics


def test_methods_share_initialisation_and_batch_order():
    """ERM and mixup start from the same weights (paired comparison)."""
    task = etude.create("task", "breast-cancer")
    one = {"epochs": 1, "hidden": (8,), "lr": 1e-12, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    a = etude.create("procedure", "supervised", **one).run(task, seed=3).models["model"]
    b = etude.create("procedure", "supervised", augmenter="mixup", **one).run(task, seed=3).models["model"]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, atol=1e-9, rtol=0)


def test_mixupe_receives_the_training_mean():
    seen = {}
    from etude_mixupe.mixup import MixupE

    class Spy(MixupE):
        def per_example_term(self, model, inputs, targets, *, num_classes, x_mean=None):
            seen["x_mean"] = x_mean
            return super().per_example_term(model, inputs, targets, num_classes=num_classes, x_mean=x_mean)

    proc = etude.create("procedure", "supervised", augmenter="mixupe", augmenter_options={"version": 1}, **TINY)
    proc.make_augmenter = lambda: Spy(version=1)
    task = etude.create("task", "breast-cancer")
    result = proc.run(task, seed=0)
    torch.testing.assert_close(seen["x_mean"], task.split("train").inputs.mean(0, keepdim=True))
    assert "regulariser" in result.history


def test_procedure_errors():
    with pytest.raises(etude.ConfigError, match="epochs"):
        etude.create("procedure", "supervised", epochs=0)
    with pytest.raises(Exception, match="No augmenter named|mixpu"):
        etude.create("procedure", "supervised", augmenter="mixpu", **TINY).run(etude.create("task", "breast-cancer"))
    with pytest.raises(ValueError, match="augmenter_options"):
        etude.create("procedure", "supervised", augmenter_options={"alpha": 1.0}, **TINY).make_augmenter()
    with pytest.raises(TypeError, match="model"):
        etude.create("procedure", "supervised", **TINY).run(etude.create("task", "breast-cancer"), model=3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_supervised_mixupe_on_cuda():
    task = etude.create("task", "digits")
    result = etude.create("procedure", "supervised", augmenter="mixupe", augmenter_options={"eta": 0.1}, **TINY).run(
        task, seed=0, device="cuda")
    assert next(result.models["model"].parameters()).device.type == "cuda"
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0


# -- claims at smoke scale ----------------------------------------------------------
@pytest.mark.parametrize("claim_id", ["mixupe/mixup-beats-erm", "mixupe/mixupe-beats-mixup"])
def test_training_claims_smoke(claim_id, tmp_path):
    outcome = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert outcome.error is None
    assert outcome.holds is None  # 3 epochs decide nothing
    assert outcome.metrics["n"] == 1 and 0 <= outcome.metrics["mean_diff"] + 1 <= 2
    assert outcome.figures and all(p.endswith(".png") for p in outcome.figures)


def test_expansion_claim_smoke_reproduces(tmp_path):
    outcome = run_claim("mixupe/directional-derivative-regularisation", scale="smoke", seeds=[0], out=tmp_path)
    assert outcome.error is None and outcome.holds is True
    assert abs(outcome.metrics["remainder_order_first"] - 2) < 0.3
    assert abs(outcome.metrics["remainder_order_second"] - 3) < 0.3
    assert outcome.metrics["lemma_gap"] < 1e-5
