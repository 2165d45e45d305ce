"""Procedures: conformance, ensembled prediction, clear errors, label noise, claims at smoke scale."""

import pytest
import torch

import etude
from etude.claims import run_claim
from etude.testing.conformance import ProcedureConformance
from etude_crosssplit._common import logits_of

TINY = {"epochs": 2, "hidden": (8,), "batch_size": 32}


def _task(noise=0.3, base="breast-cancer", **kw):
    return etude.create("task", base, standardize=True, label_noise=noise, seed=0, **kw)


class TestCrossSplit(ProcedureConformance):
    component = ("procedure", "crosssplit")

    def make_procedure(self):
        return self.create(**TINY, warmup=1)

    def make_task(self):
        return _task()


class TestSplitNetworks(ProcedureConformance):
    component = ("procedure", "split-networks")

    def make_procedure(self):
        return self.create(**TINY)

    def make_task(self):
        return _task()


class TestCoTeaching(ProcedureConformance):
    component = ("procedure", "co-teaching")

    def make_procedure(self):
        return self.create(**TINY)

    def make_task(self):
        return _task()


@pytest.mark.parametrize("name", ["crosssplit", "split-networks", "co-teaching"])
def test_prediction_is_the_logit_sum_ensemble(name):
    task = _task()
    extra = {"warmup": 1} if name == "crosssplit" else {}
    result = etude.create("procedure", name, **TINY, **extra).run(task, seed=1)
    test = task.split("test")
    a, b = logits_of([result.models["net1"], result.models["net2"]], test.inputs)
    expected = float(((a + b).argmax(1) == test.targets).float().mean())
    assert result.metrics["test_accuracy"] == pytest.approx(expected)
    assert result.metrics["test_accuracy_net1"] == pytest.approx(float((a.argmax(1) == test.targets).float().mean()))


@pytest.mark.parametrize(("noise_type", "rate"), [("symmetric", 0.4), ("symmetric", 0.0), ("asymmetric", 0.4)])
def test_noise_injection_flips_exactly_the_requested_fraction(noise_type, rate):
    task = etude.create("task", "digits", standardize=True, label_noise=rate, noise_type=noise_type, seed=3)
    train = task.split("train")
    clean, noisy = train.info["clean_targets"], train.info["noisy"]
    assert torch.equal(noisy, train.targets != clean)
    if noise_type == "symmetric":
        assert int(noisy.sum()) == round(rate * len(train))
    else:
        eligible = torch.isin(clean, torch.tensor([2, 3, 5, 6, 7]))  # the digit map's source classes
        assert int(noisy.sum()) == round(rate * int(eligible.sum())) and not noisy[~eligible].any()
    again = etude.create("task", "digits", standardize=True, label_noise=rate, noise_type=noise_type, seed=3)
    assert torch.equal(again.split("train").targets, train.targets)


def test_standardized_inputs():
    train = _task(base="digits").split("train")
    assert train.inputs.mean(0).abs().max() < 1e-4
    std = train.inputs.std(0)
    assert ((std - 1).abs() < 1e-3).logical_or(std < 1e-6).all()


def test_target_diagnostics_recorded():
    result = etude.create("procedure", "crosssplit", epochs=3, warmup=1, hidden=(16,)).run(_task(0.3), seed=0)
    h = result.history
    assert h["target_memorized_fraction"][0] == 1.0  # warm-up trains on the given labels
    assert len(h["test_accuracy"]) == 3 and 0 <= h["beta_noisy"][-1] <= 1


def test_clear_errors():
    with pytest.raises(etude.ConfigError, match="warmup"):
        etude.create("procedure", "crosssplit", epochs=3, warmup=5)
    with pytest.raises(etude.ConfigError, match="warmup_on"):
        etude.create("procedure", "crosssplit", warmup_on="peer")
    with pytest.raises(etude.ConfigError, match="forget_rate"):
        etude.create("procedure", "co-teaching", forget_rate=1.5)
    with pytest.raises(TypeError, match="etude Task"):
        etude.create("procedure", "crosssplit", **TINY, warmup=1).run(torch.zeros(3))
    with pytest.raises(TypeError, match="unexpected keyword"):
        etude.create("procedure", "split-networks", **TINY).run(_task(), seed=0, epochs=3)


def test_clean_labels_sanity_and_noise_robustness_fixed_seed():
    """Digits, 25 epochs, seed 0: without noise CrossSplit stays within 2 points of plain training;
    with 40% symmetric noise it beats plain training by more than 10 points."""
    common = {"epochs": 25, "batch_size": 64, "lr": 0.05, "weight_decay": 5e-4, "hidden": (128, 128)}
    acc = {}
    for noise in (0.0, 0.4):
        task = _task(noise, base="digits")
        acc[noise, "plain"] = etude.create("procedure", "supervised", augmenter="none", nesterov=False,
                                           **common).run(task, seed=0).metrics["test_accuracy"]
        acc[noise, "cs"] = etude.create("procedure", "crosssplit", warmup=5, delta=3,
                                        **common).run(task, seed=0).metrics["test_accuracy"]
    assert acc[0.0, "cs"] >= acc[0.0, "plain"] - 0.02, acc
    assert acc[0.4, "cs"] >= acc[0.4, "plain"] + 0.10, acc


@pytest.mark.parametrize("claim_id", ["crosssplit/label-noise-robustness", "crosssplit/memorization",
                                      "crosssplit/noise-ratios"])
def test_claims_smoke(tmp_path, claim_id):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None and result.holds is None and result.metrics
    assert result.figures
    for path in result.figures:
        assert (tmp_path / path).stat().st_size > 0


@pytest.mark.gpu
def test_crosssplit_runs_on_cuda():
    task = _task(0.3, base="digits")
    result = etude.create("procedure", "crosssplit", epochs=3, warmup=1, hidden=(64,)).run(task, seed=0, device="cuda")
    assert next(result.models["net1"].parameters()).is_cuda
    assert 0.0 <= result.metrics["test_accuracy"] <= 1.0


def test_optional_terms_run_and_change_training():
    task = _task(0.3)
    base = etude.create("procedure", "crosssplit", epochs=3, warmup=1, hidden=(16,)).run(task, seed=0)
    full = etude.create("procedure", "crosssplit", epochs=3, warmup=1, hidden=(16,), lambda_c=0.025,
                        warmup_penalty=0.1, jsd_range_on="all").run(task, seed=0)
    assert all(torch.isfinite(torch.tensor(v)) for v in full.metrics.values())
    w0, w1 = base.models["net1"].head.weight, full.models["net1"].head.weight
    assert not torch.allclose(w0, w1)


def test_co_teaching_forget_schedule():
    proc = etude.create("procedure", "co-teaching", num_gradual=4)
    rates = proc.forget_schedule(6, 0.4)
    assert rates[0] == 0.0 and rates[3] == pytest.approx(0.4) and rates[4:] == [0.4, 0.4]
    assert rates == sorted(rates)
