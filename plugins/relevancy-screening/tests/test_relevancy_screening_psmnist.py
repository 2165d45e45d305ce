"""Permuted sequential MNIST in copy-tradeoff: runs on a local MNIST folder, "not run" without one, one fixed order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from etude.claims import JudgeContext, run_claim
from etude.data import write_idx
from etude_relevancy_screening.claims import copy_tradeoff_judge
from etude_relevancy_screening.training import PSMNIST_PERMUTATION, train_psmnist

CLAIM = "relevancy-screening/copy-tradeoff"
TINY = {"hidden": 8, "nu": 3, "rho": 2, "epochs": 2, "batch": 8, "lr": 1e-3, "side": 7, "num_train": 16, "num_test": 8}


def _write_mnist(root, n_train=90, n_test=12):
    """A tiny MNIST-format folder (the four IDX files) with random 28 x 28 images."""
    rng = np.random.default_rng(0)
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))
    return root


def test_train_psmnist_runs_on_a_local_mnist_folder(tmp_path):
    root = _write_mnist(tmp_path)
    r = train_psmnist(seed=0, memory="relevancy", root=str(root), **TINY)
    assert r["steps_per_sequence"] == 49 and r["updates"] == 2 * 2  # 16 images, batch 8, 2 epochs
    assert len(r["val_accuracy"]) == len(r["test_accuracy_curve"]) == 2
    assert 0.0 <= r["test_accuracy"] <= 1.0 and r["test_accuracy"] in r["test_accuracy_curve"]
    assert 1 <= r["best_epoch"] <= 2 and r["seconds_per_update"] > 0


def test_train_psmnist_without_files_raises_data_not_found(tmp_path):
    from etude.data import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte"):
        train_psmnist(seed=0, root=str(tmp_path), **TINY)


def test_one_fixed_bijection_shared_by_every_model(tmp_path, monkeypatch):
    from etude_meta_rims.tasks import SequentialImage

    orders = []
    original = SequentialImage.pixel_order

    def recording(self, size):
        order = original(self, size)
        orders.append((self.config.seed, order))
        return order

    monkeypatch.setattr(SequentialImage, "pixel_order", recording)
    monkeypatch.setenv("ETUDE_DATA", str(_write_mnist(tmp_path / "data")))
    result = run_claim(CLAIM, scale="smoke", seeds=[0], out=tmp_path / "out")
    assert result.error is None, result.error
    assert len(orders) >= 3  # every model's task built one
    first = orders[0][1]
    assert torch.equal(first.sort().values, torch.arange(49)) and not torch.equal(first, torch.arange(49))
    assert all(torch.equal(order, first) for _, order in orders)
    expected = torch.randperm(49, generator=torch.Generator().manual_seed(PSMNIST_PERMUTATION))
    assert torch.equal(first, expected)
    other_seed = SequentialImage(seed=1, image_task="digits", train_size=7, test_sizes=(), permutation=PSMNIST_PERMUTATION)
    assert torch.equal(original(other_seed, 7), first)  # the task seed does not change the order
    psmnist = result.metrics["psmnist"]
    assert psmnist["verdict"] is None and psmnist["steps"] == 49
    for model in ("RelRNN", "MemRNN", "RNN"):
        assert 0.0 <= psmnist[model]["test_accuracy_mean"] <= 1.0 and len(psmnist[model]["per_seed_test_accuracy"]) == 1
    assert "psMNIST test accuracy" in result.notes


def test_without_mnist_the_psmnist_part_is_not_run_and_copy_still_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path / "empty"))
    result = run_claim(CLAIM, scale="smoke", seeds=[0], out=tmp_path / "out")
    assert result.error is None and result.status != "not-run", (result.status, result.error)
    assert result.metrics["psmnist"]["not_run"].startswith("data not found")
    assert "psMNIST (no verdict): not run: data not found" in result.notes and "ETUDE_DATA" in result.notes
    assert 0.0 <= result.metrics["copying"]["recall_accuracy"]["RelRNN"] <= 1.0


def _copy_runs(psmnist):
    recall = {"RelRNN": [0.90, 0.85, 0.88], "MemRNN": [0.91, 0.86, 0.90], "RNN": [0.10, 0.14, 0.12]}
    runs = []
    for i in range(3):
        run = {f"{task}/{m}": {"recall_accuracy": recall[m][i], "seconds_per_update": 0.1}
               for task in ("copying", "denoise") for m in recall}
        run["psmnist"] = psmnist(i)
        runs.append(run)
    return runs


def _psmnist_result(i):
    return {m: {"test_accuracy": 0.8 + 0.01 * i + 0.02 * k, "best_epoch": 3, "seconds_per_update": 0.5,
                "steps_per_sequence": 784} for k, m in enumerate(("RelRNN", "MemRNN", "RNN"))}


def test_full_judge_copy_verdict_is_the_same_with_or_without_psmnist(tmp_path):
    ctx = JudgeContext(claim_id=CLAIM, scale="full", seeds=[0, 1, 2], out_dir=tmp_path)
    without = copy_tradeoff_judge(ctx, _copy_runs(lambda i: {"not_run": "data not found: no mnist/ here"}))
    with_data = copy_tradeoff_judge(ctx, _copy_runs(_psmnist_result))
    assert without.holds is True and with_data.holds is True
    assert without.metrics["psmnist"] == {"not_run": "data not found: no mnist/ here"}
    rel = with_data.metrics["psmnist"]["RelRNN"]
    assert math.isclose(rel["test_accuracy_mean"], 0.81) and rel["test_accuracy_ci"][0] < 0.81 < rel["test_accuracy_ci"][1]
    assert with_data.metrics["psmnist"]["verdict"] is None
    # a failing copy comparison still fails with psMNIST present: psMNIST never enters the verdict
    failing = _copy_runs(_psmnist_result)
    for run in failing:
        run["copying/RNN"]["recall_accuracy"] = 0.95
    assert copy_tradeoff_judge(ctx, failing).holds is False
