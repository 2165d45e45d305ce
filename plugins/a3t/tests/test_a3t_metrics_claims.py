"""robust_accuracy, its callback, the loop with the attacks by name, every claim at smoke scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import etude
from etude.claims import run_claim
from etude_a3t import FGSM, PGD, RobustAccuracyCallback, fgsm, robust_accuracy

TINY = {"epochs": 2, "hidden": (16,), "batch_size": 128, "optimizer": "adam", "lr": 1e-3}


def test_robust_accuracy_matches_manual_counts():
    torch.manual_seed(0)
    net = nn.Linear(64, 10)
    task = etude.create("task", "digits")
    test = task.split("test")
    x, y = test.inputs, test.targets
    manual = float((net(x).argmax(-1) == y).float().mean())
    assert robust_accuracy(net, x, y) == pytest.approx(manual)
    adv = fgsm(net, x, y, 0.1)
    assert robust_accuracy(net, x, y, FGSM(eps=0.1)) == pytest.approx(float((net(adv).argmax(-1) == y).float().mean()))
    assert robust_accuracy(net, x, y, lambda m, a, b: fgsm(m, a, b, 0.1), batch_size=7) == pytest.approx(
        robust_accuracy(net, x, y, FGSM(eps=0.1)))
    with pytest.raises(ValueError, match="batch"):
        robust_accuracy(net, x, y[:-1])
    with pytest.raises(TypeError, match="attack"):
        robust_accuracy(net, x, y, attack="fgsm")


@pytest.mark.parametrize("augmenter", ["fgsm", "pgd"])
def test_adversarial_training_by_name_in_the_core_loop(augmenter):
    task = etude.create("task", "digits")
    options = {"eps": 0.1} if augmenter == "fgsm" else {"eps": 0.1, "steps": 2}
    cb = RobustAccuracyCallback(0.1, pgd_steps=2)
    result = etude.create("procedure", "supervised", augmenter=augmenter, augmenter_options=options,
                          **TINY).run(task, seed=0, callbacks=[cb])
    assert set(cb.history) == {"epoch", "clean_accuracy", "fgsm_accuracy", "pgd_accuracy"}
    assert cb.history["epoch"] == [1.0, 2.0]
    assert cb.history["clean_accuracy"][-1] == pytest.approx(result.metrics["test_accuracy"])
    assert result.history["robust/fgsm_accuracy"] == cb.history["fgsm_accuracy"]


def test_fgsm_training_beats_erm_under_attack():
    """After 15 epochs FGSM-AT is more robust to PGD-5 than ERM on the same seed (measured: 75.8% vs 47.1%)."""
    task = etude.create("task", "digits")
    one = dict(TINY, epochs=15, hidden=(256, 256), batch_size=64, schedule="constant", weight_decay=0.0)
    erm = etude.create("procedure", "supervised", **one).run(task, seed=0).models["model"]
    at = etude.create("procedure", "supervised", augmenter="fgsm", augmenter_options={"eps": 0.1}, **one).run(
        task, seed=0).models["model"]
    x, y = task.split("test").inputs, task.split("test").targets
    assert robust_accuracy(at, x, y, PGD(eps=0.1, steps=5)) > robust_accuracy(erm, x, y, PGD(eps=0.1, steps=5)) + 0.15


@pytest.mark.parametrize("claim", ["a3t/improves-robustness", "a3t/compared-with-adversarial-training",
                                   "a3t/representation-invariance"])
def test_claims_at_smoke(claim, tmp_path):
    result = run_claim(claim, scale="smoke", out=tmp_path)
    assert result.error is None, result.error
    assert result.holds is None  # smoke decides nothing
    assert result.metrics


def test_shared_runs_are_trained_once(tmp_path):
    """The A3T run of a seed is one artefact for the three claims."""
    for claim in ("a3t/improves-robustness", "a3t/compared-with-adversarial-training"):
        run_claim(claim, scale="smoke", out=tmp_path)
    stored = sorted(p.name for p in (tmp_path / "cache").glob("*.pt"))
    assert len(stored) == 3, stored  # erm, a3t, at for seed 0
