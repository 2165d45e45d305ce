"""Tasks: conformance, determinism, labels rechecked by brute force."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.testing.conformance import TaskConformance

from etude_meta_rims.tasks import SequentialImage, SparseChange, TwoSource


class TestSequentialImageConformance(TaskConformance):
    component = ("task", "sequential-image")

    def make_task(self, seed):
        return self.create(seed=seed, image_task="digits", train_size=4, test_sizes=(6, 8), num_train=50, num_test=20)


class TestTwoSourceConformance(TaskConformance):
    component = ("task", "two-source")

    def make_task(self, seed):
        return self.create(seed=seed, num_symbols=4, length=5, num_train=40, num_test=10)


class TestSparseChangeConformance(TaskConformance):
    component = ("task", "sparse-change")

    def make_task(self, seed):
        return self.create(seed=seed, num_train_tasks=4, num_test_tasks=2, examples_per_task=6)


def test_sequential_image_nearest_resize_and_binarisation_by_hand():
    task = SequentialImage(image_task="digits", train_size=5, test_sizes=(8, 11), num_test=7)
    raw = etude.create("task", "digits", seed=0).split("test").inputs[:7].view(7, 8, 8)
    assert task.split_names == ("train", "test", "test_8", "test_11")
    for name, s in (("test", 5), ("test_8", 8), ("test_11", 11)):
        split = task.split(name)
        assert split.inputs.shape == (7, s * s, 1) and split.info["size"] == s
        expected = torch.zeros(7, s, s)
        for i in range(s):
            for j in range(s):  # nearest: source index floor(i * 8 / s)
                expected[:, i, j] = (raw[:, (i * 8) // s, (j * 8) // s] > 0.5).float()
        assert torch.equal(split.inputs.view(7, s, s), expected), name
        assert torch.equal(split.targets, etude.create("task", "digits", seed=0).split("test").targets[:7])
    assert task.split("train").inputs.shape[1:] == (25, 1) and task.num_classes == 10


def test_sequential_image_noise_only_on_test_splits_and_seeded():
    a = SequentialImage(image_task="digits", train_size=4, test_sizes=(6,), noise=0.3, num_train=10, num_test=10)
    b = SequentialImage(image_task="digits", train_size=4, test_sizes=(6,), noise=0.3, num_train=10, num_test=10)
    clean = SequentialImage(image_task="digits", train_size=4, test_sizes=(6,), num_train=10, num_test=10)
    assert torch.equal(a.split("train").inputs, clean.split("train").inputs)
    assert torch.equal(a.split("test_6").inputs, b.split("test_6").inputs)
    diff = a.split("test_6").inputs - clean.split("test_6").inputs
    assert 0.2 < float(diff.std()) < 0.4


def test_sequential_image_permutation_is_one_fixed_bijection_for_every_seed():
    kw = {"image_task": "digits", "train_size": 5, "test_sizes": (6,), "num_train": 12, "num_test": 7}
    plain = SequentialImage(**kw)
    permuted = SequentialImage(permutation=3, **kw)
    order = permuted.pixel_order(5)
    assert torch.equal(order.sort().values, torch.arange(25)) and not torch.equal(order, torch.arange(25))
    assert torch.equal(plain.pixel_order(5), torch.arange(25))
    for name, side in (("train", 5), ("test", 5), ("test_6", 6)):  # pixel k of the permuted = pixel order[k] of the plain
        assert torch.equal(permuted.split(name).inputs, plain.split(name).inputs[:, permuted.pixel_order(side)]), name
    other_seed = SequentialImage(permutation=3, **{**kw, "seed": 1})
    assert torch.equal(other_seed.pixel_order(5), order)  # the order does not follow the task seed
    assert not torch.equal(SequentialImage(permutation=4, **kw).pixel_order(5), order)
    with pytest.raises(etude.ConfigError, match="permutation"):
        SequentialImage(permutation=-1, **kw)


def test_sequential_image_errors():
    with pytest.raises(etude.ConfigError, match="train_size"):
        SequentialImage(image_task="digits", train_size=0)
    with pytest.raises(Exception, match="image_options|seed"):
        SequentialImage(image_task="digits", image_options={"seed": 3})


def test_two_source_targets_by_brute_force():
    task = TwoSource(num_symbols=5, length=8, num_train=30, num_test=5, determinism=0.8)
    split = task.split("train")
    succ = task.successors()
    assert not torch.equal(succ[0], succ[1])
    chains, source = split.info["chains"], split.info["source"]
    follows = total = 0
    for n in range(30):
        for t in range(8):
            s = int(source[n, t])
            shown = int(split.inputs[n, t, :5].argmax())
            assert shown == int(chains[n, t, s]) and split.inputs[n, t, 5 + s] == 1 and split.inputs[n, t].sum() == 2
            assert int(split.targets[n, t]) == int(chains[n, t + 1, s])
            for j in range(2):
                follows += int(chains[n, t + 1, j]) == int(succ[j][chains[n, t, j]])
                total += 1
    assert 0.75 < follows / total < 0.95  # 0.8 + 0.2 / 5 = 0.84 expected
    assert task.bayes_accuracy == pytest.approx(0.84)


def test_sparse_change_targets_by_brute_force_and_one_skill_changes():
    task = SparseChange(num_train_tasks=5, num_test_tasks=3, examples_per_task=4, length=3)
    perturbed, v = task.task_skills("train")
    for i in range(5):
        differs = (v[i] != task.v).any(-1)
        assert differs.tolist() == [k == int(perturbed[i]) for k in range(task.config.num_skills)]
    split = task.split("train")
    x, y, tid = split.inputs, split.targets, split.info["task"]
    for n in range(x.shape[0]):
        for t in range(3):
            s = int(x[n, t, :4].argmax())
            z = x[n, t, 4:]
            value = float((v[tid[n], s] * torch.tanh(task.W[s] @ z)).sum())
            assert y[n, t, 0].item() == pytest.approx(value, abs=1e-5)
    assert torch.equal(split.info["perturbed"], perturbed[tid])
    test_p, _ = task.task_skills("test")
    assert task.split("test").inputs.shape[0] == 12 and test_p.shape == (3,)
