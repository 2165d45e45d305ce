"""Difficulty scores: the vmapped hold-out consistency equals K models trained one by one."""

import pytest
import torch
from torch import nn

from etude.data import Digits
from etude_lazy_hasty.difficulty import (
    Annotated,
    holdout_consistency,
    make_models,
    quantile_groups,
    subset_indices,
    subset_masks,
    train_subsets,
)


def _data():
    train = Digits(train_size=300).split("train")
    return train.inputs, train.targets


def test_vmapped_training_equals_models_trained_one_by_one():
    x, y = _data()
    K, steps, lr = 4, 30, 0.5
    subsets = subset_indices(len(y), K, 0.2, seed=1)
    nets = make_models(64, 10, K, seed=1)
    stacked = train_subsets(x, y, subsets, nets, steps=steps, lr=lr, weight_decay=1e-3)
    for k, net in enumerate(nets):
        net = net.double()
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        xs, ys = x[subsets[k]].double(), y[subsets[k]]
        for _ in range(steps):
            opt.zero_grad()
            (nn.functional.cross_entropy(net(xs), ys) + 0.5e-3 * net.weight.square().sum()).backward()
            opt.step()
        torch.testing.assert_close(stacked["weight"][k], net.weight.detach(), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(stacked["bias"][k], net.bias.detach(), rtol=1e-6, atol=1e-6)


def test_scores_are_hold_out_accuracies():
    x, y = _data()
    K = 5
    scores = holdout_consistency(x, y, 10, models=K, fraction=0.3, steps=40, seed=2)
    masks = subset_masks(len(y), K, 0.3, seed=2)
    params = train_subsets(x, y, subset_indices(len(y), K, 0.3, seed=2), make_models(64, 10, K, seed=2), steps=40, lr=0.5)
    correct = torch.stack([(x.double() @ params["weight"][k].T + params["bias"][k]).argmax(1) == y for k in range(K)])
    held = ~masks
    expected = (correct & held).sum(0).double() / held.sum(0)
    finite = held.sum(0) > 0
    torch.testing.assert_close(scores[finite].double(), expected[finite], rtol=0, atol=1e-6)
    assert torch.isnan(scores[~finite]).all()
    # mislabelled examples look hard
    noisy = Digits(train_size=300, label_noise=0.3).split("train")
    s = holdout_consistency(noisy.inputs, noisy.targets, 10, models=10, fraction=0.3, steps=60, seed=0)
    m = noisy.info["noisy"]
    assert float(s[m].nanmean()) < 0.3 < float(s[~m].nanmean())


def test_quantile_groups_and_bad_input():
    scores = torch.tensor([0.9, 0.1, 0.5, 0.5, 0.7, 0.3, float("nan")])
    groups = quantile_groups(scores, 3, seed=0)
    assert groups[6] == -1 and groups[0] == 0 and groups[1] == 2
    assert groups[:6].bincount().tolist() == [2, 2, 2]
    among = torch.tensor([True, True, True, True, False, False, False])
    assert (quantile_groups(scores, 2, among=among)[4:] == -1).all()
    with pytest.raises(ValueError, match="labels"):
        holdout_consistency(torch.randn(10, 3), torch.full((10,), 5), 3)
    with pytest.raises(ValueError, match="fraction"):
        holdout_consistency(torch.randn(10, 3), torch.zeros(10, dtype=torch.long), 3, fraction=1.0)
    with pytest.raises(ValueError, match="cannot fill"):
        quantile_groups(torch.ones(2), 3)


def test_annotated_task_carries_scores():
    base = Digits(train_size=100)
    s = torch.arange(100.0)
    task = Annotated(base, holdout_consistency=s)
    assert torch.equal(task.split("train").info["holdout_consistency"], s)
    assert torch.equal(task.split("test").inputs, base.split("test").inputs)
    with pytest.raises(ValueError, match="one entry per train example"):
        Annotated(base, bad=torch.zeros(3))
