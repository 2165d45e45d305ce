"""The ESBN tasks: held-out objects, brute-force labels, balance, determinism, the glyph bank."""

import pytest
import torch

import etude
from etude.config import ConfigError
from etude.testing.conformance import TaskConformance
from etude_corelnet.tasks import glyph_bank

TASKS = ("same-different", "rmts", "distribution-of-3", "identity-rules")
SMALL = {"num_train": 64, "num_test": 32, "num_ood": 32}


class TestSameDifferent(TaskConformance):
    component = ("task", "same-different")

    def make_task(self, seed):
        return self.create(seed=seed, **SMALL)


class TestRMTS(TaskConformance):
    component = ("task", "rmts")

    def make_task(self, seed):
        return self.create(seed=seed, **SMALL)


class TestDistributionOf3(TaskConformance):
    component = ("task", "distribution-of-3")

    def make_task(self, seed):
        return self.create(seed=seed, **SMALL)


class TestIdentityRules(TaskConformance):
    component = ("task", "identity-rules")

    def make_task(self, seed):
        return self.create(seed=seed, holdout=50, **SMALL)


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("holdout", [95, 50])
def test_heldout_objects_never_in_train_or_test(name, holdout):
    task = etude.create("task", name, seed=1, holdout=holdout, num_train=2000, num_test=500, num_ood=500)
    held = set(task.heldout_objects.tolist())
    assert len(held) == holdout and len(task.train_objects) == 100 - holdout
    for split in ("train", "test"):
        ids = set(task.split(split).info["objects"].unique().tolist())
        assert not ids & held, f"{split} uses held-out objects {sorted(ids & held)[:5]}"
    assert set(task.split("ood").info["objects"].unique().tolist()) <= held
    bank = task.bank()
    for split in ("train", "ood"):
        s = task.split(split)
        torch.testing.assert_close(s.inputs, bank[s.info["objects"]])


def _brute_force_label(name, ids):
    ids = list(ids)
    if name == "same-different":
        return int(ids[0] == ids[1])
    if name == "rmts":
        same = ids[0] == ids[1]
        first_same, second_same = ids[2] == ids[3], ids[4] == ids[5]
        assert first_same != second_same
        return 0 if first_same == same else 1
    choices = ids[5:]
    assert len(set(choices)) == 4
    if name == "distribution-of-3":
        start, shown = ids[:3], ids[3:5]
        assert len(set(start)) == 3 and set(shown) < set(start)
        (missing,) = set(start) - set(shown)
        return choices.index(missing)
    a, b, c = ids[:3]
    d, e = ids[3:5]
    if a == b == c:
        answer = d  # AAA: the target triple is d d d
        assert d == e
    elif a == c:
        answer = d  # ABA: d e d
    else:
        assert b == c
        answer = e  # ABB: d e e
    return choices.index(answer)


@pytest.mark.parametrize("name", TASKS)
def test_labels_match_brute_force(name):
    task = etude.create("task", name, seed=2, holdout=50, num_train=200, num_test=10, num_ood=200)
    for split in ("train", "ood"):
        s = task.split(split)
        for ids, y in zip(s.info["objects"].tolist(), s.targets.tolist(), strict=True):
            assert _brute_force_label(name, ids) == y, (split, ids, y)


@pytest.mark.parametrize("name", TASKS)
def test_classes_are_balanced(name):
    task = etude.create("task", name, seed=0, num_train=10000, num_test=10, num_ood=10)
    freq = torch.bincount(task.split("train").targets, minlength=task.num_classes).float() / 10000
    assert float((freq - 1.0 / task.num_classes).abs().max()) < 0.03, freq


def test_rmts_source_relation_is_balanced():
    ids = etude.create("task", "rmts", seed=0, num_train=10000, num_test=10, num_ood=10).split("train").info["objects"]
    same = (ids[:, 0] == ids[:, 1]).float().mean()
    assert abs(float(same) - 0.5) < 0.03


def test_deterministic_and_seed_dependent_objects():
    a = etude.create("task", "rmts", seed=3, **SMALL)
    b = etude.create("task", "rmts", seed=3, **SMALL)
    c = etude.create("task", "rmts", seed=4, **SMALL)
    for split in ("train", "test", "ood"):
        assert torch.equal(a.split(split).inputs, b.split(split).inputs)
        assert torch.equal(a.split(split).info["objects"], b.split(split).info["objects"])
    assert not torch.equal(a.heldout_objects, c.heldout_objects)


def test_glyph_bank_is_100_distinct_images_identical_on_every_call():
    first = glyph_bank.__wrapped__()
    second = glyph_bank.__wrapped__()
    assert first.shape == (100, 32, 32) and torch.equal(first, second)
    flat = first.flatten(1)
    dist = torch.cdist(flat, flat) + torch.eye(100) * 1e9
    assert float(dist.min()) > 1.0  # every pair differs in at least a few pixels
    assert float(first.min()) >= 0.0 and float(first.max()) <= 1.0 and float(first.mean()) > 0.02
    task = etude.create("task", "rmts", object_bank="glyphs", **SMALL)
    assert task.split("train").inputs.shape == (64, 6, 32, 32) and task.input_shape == (6, 32, 32)


def test_config_errors():
    with pytest.raises(ConfigError, match="holdout"):
        etude.create("task", "rmts", holdout=100)
    with pytest.raises(ValueError, match="holdout.*5 training"):
        etude.create("task", "rmts", holdout=97)  # 3 training objects, RMTS needs 5
    with pytest.raises(ConfigError, match="num_objects"):
        etude.create("task", "rmts", object_bank="glyphs", num_objects=50)
    with pytest.raises(ConfigError, match="object_bank"):
        etude.create("task", "rmts", object_bank="images")
