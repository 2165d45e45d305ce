"""GroupTracker and matched-progress interpolation; ReLU sign similarity."""

import math

import pytest
import torch

import etude
from etude.data import Digits, SupervisedTraining
from etude_lazy_hasty import AlphaScaled
from etude_lazy_hasty.callbacks import GroupTracker, SignSimilarity, matched_progress, relu_patterns, sign_similarity


def test_matched_progress_on_hand_made_curves():
    progress = [0.1, 0.3, 0.6, 0.9]
    curves = {"a": [0.0, 0.2, 0.5, 1.0], "b": [1.0, 1.0, 1.0, 1.0]}
    out = matched_progress(progress, curves, [0.05, 0.45, 0.9, 0.95])
    assert out["a"][0] == 0.0  # reached at the first sample
    assert out["a"][1] == pytest.approx(0.35)  # halfway between 0.3 and 0.6
    assert out["a"][2] == pytest.approx(1.0)
    assert math.isnan(out["a"][3]) and out["b"][:3] == [1.0, 1.0, 1.0]
    # first crossing wins on a non-monotone progress; decreasing progress (a loss)
    assert matched_progress([0.0, 0.6, 0.4, 0.8], {"c": [0, 10, 20, 30]}, [0.5])["c"] == [pytest.approx(25 / 3)]
    assert matched_progress([2.0, 1.0, 0.5], {"c": [0.0, 1.0, 2.0]}, [0.75], decreasing=True)["c"] == [pytest.approx(1.5)]
    with pytest.raises(ValueError, match="points"):
        matched_progress([0.1, 0.2], {"c": [1.0]}, [0.1])


def test_group_tracker_measures_groups_on_the_schedule_and_stops():
    task = Digits(train_size=300, label_noise=0.2)
    noisy = task.split("train").info["noisy"]
    tracker = GroupTracker({"noisy": noisy, "clean": ~noisy}, stop_at=0.6)
    proc = SupervisedTraining(epochs=20, hidden=(32,), weight_decay=0.0, schedule="constant", nesterov=False)
    result = proc.run(task, seed=0, callbacks=[tracker])
    rec = tracker.records
    assert rec["step"][:4] == [0, 5, 6, 7] and rec["accuracy"][-1] >= 0.6 > rec["accuracy"][0]
    assert result.info["steps"] == rec["step"][-1] < 20 * 5
    # overall accuracy is the size-weighted mean of the two disjoint groups
    w = float(noisy.double().mean())
    for i in (0, len(rec["step"]) // 2, -1):
        overall = w * rec["groups"]["noisy"]["accuracy"][i] + (1 - w) * rec["groups"]["clean"]["accuracy"][i]
        assert overall == pytest.approx(rec["accuracy"][i])
    m = tracker.at_matched_progress([0.5])
    assert m["groups"]["clean"][0] > m["groups"]["noisy"][0]
    with pytest.raises(ValueError, match="mask has shape"):
        SupervisedTraining(epochs=1, hidden=(8,)).run(task, callbacks=[GroupTracker({"x": torch.ones(3, dtype=bool)})])


def test_sign_similarity_identity_and_after_lazy_training():
    task = Digits(train_size=300)
    x = task.split("train").inputs[:100]
    torch.manual_seed(0)
    net = etude.create("model", "mlp", in_features=64, out_features=10, hidden=[64, 64])
    assert sign_similarity(relu_patterns(net, x), relu_patterns(net, x)) == 1.0
    assert relu_patterns(net, x).shape == (100, 128)
    results = {}
    for alpha, lr in ((1.0, 0.05), (1000.0, 0.5)):
        torch.manual_seed(0)
        model = AlphaScaled.wrap(etude.create("model", "mlp", in_features=64, out_features=10, hidden=[64, 64]), alpha)
        cb = SignSimilarity(x)
        SupervisedTraining(epochs=5, lr=lr, momentum=0.9, nesterov=False, weight_decay=0.0,
                           schedule="constant").run(task, seed=0, model=model, callbacks=[cb])
        assert cb.similarity[0] == 1.0
        results[alpha] = cb.similarity[-1]
    assert results[1000.0] >= 0.99 and results[1.0] < results[1000.0]
    with pytest.raises(ValueError, match="no ReLU"):
        relu_patterns(torch.nn.Linear(3, 2), torch.randn(2, 3))
