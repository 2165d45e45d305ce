"""The harder variants: pattern of every example recomputed from its object ids, train/test pattern split, balance."""

import pytest
import torch

import etude
from etude.testing.conformance import TaskConformance

BASE = {"rmts3-hard": "rmts", "dist10-hard7": "distribution-of-3", "identity-rules4": "identity-rules",
        "identity-rules4-flipped": "identity-rules"}
SHAPES = {"rmts3-hard": (9, 2), "dist10-hard7": (30, 11), "identity-rules4": (13, 6), "identity-rules4-flipped": (13, 6)}


class TestRMTS3Hard(TaskConformance):
    component = ("task", "rmts")

    def make_task(self, seed):
        return self.create(seed=seed, variant="rmts3-hard", holdout=50, num_train=64, num_test=32, num_ood=32)


class TestDist10Hard7(TaskConformance):
    component = ("task", "distribution-of-3")

    def make_task(self, seed):
        return self.create(seed=seed, variant="dist10-hard7", holdout=50, num_train=64, num_test=32, num_ood=32)


def _pattern(ids) -> str:
    """The letter code of a sequence of ids ('abca' for x y z x), letters by first appearance."""
    seen: dict[int, str] = {}
    return "".join(seen.setdefault(int(i), "abcdefgh"[len(seen)]) for i in ids)


def _brute_force(variant, ids):
    """(label, pattern name) recomputed from one example's object ids, asserting its structure."""
    ids = [int(i) for i in ids]
    if variant == "rmts3-hard":
        src, first, second = _pattern(ids[:3]), _pattern(ids[3:6]), _pattern(ids[6:9])
        assert len(set(ids)) == len(set(ids[:3])) + len(set(ids[3:6])) + len(set(ids[6:9]))  # triples share no object
        assert (first == src) != (second == src)
        return (0 if first == src else 1), src + "/" + (second if first == src else first)
    if variant == "dist10-hard7":
        start, shown, choices = ids[:10], ids[10:19], ids[19:]
        assert len(set(start)) == 10 and len(set(shown)) == 9 and set(shown) < set(start)
        assert len(set(choices)) == 11 and set(start) < set(choices)
        (missing,) = set(start) - set(shown)
        first7 = set(shown[:7]) == set(start[:7])
        return choices.index(missing), "head7" if first7 else "other"
    source, target, choices = ids[:4], ids[4:7], ids[7:]
    assert len(set(choices)) == 6 and set(source) | set(target) <= set(choices) and not set(source) & set(target)
    code = _pattern(source)
    # the answer completes the target with the source's code: same letter -> same object
    letters = {ch: t for ch, t in zip(code[:3], target, strict=True)}
    answer = letters.get(code[3])
    if answer is None:  # the fourth letter is new: the one object of choices not yet used by the target
        assert code[3] not in code[:3]
        raise AssertionError("no variant code introduces a new letter in the fourth place")
    assert _pattern(target) == code[:3]
    return choices.index(answer), code


@pytest.mark.parametrize("variant", sorted(BASE))
def test_labels_recomputed_by_brute_force(variant):
    task = etude.create("task", BASE[variant], variant=variant, seed=3, holdout=50, num_train=300, num_test=50,
                        num_ood=300)
    assert (task.num_slots, task.num_classes) == SHAPES[variant]
    assert task.split("train").inputs.shape[1:] == (SHAPES[variant][0], 32)
    patterns = {}
    for split in ("train", "ood", "novel-rules"):
        s = task.split(split)
        found = set()
        for ids, y in zip(s.info["objects"][:150], s.targets[:150], strict=True):
            label, pattern = _brute_force(variant, ids)
            assert label == int(y), (split, ids.tolist(), int(y), label)
            found.add(pattern)
        patterns[split] = found
    assert not patterns["train"] & patterns["ood"], patterns  # test patterns are never trained on
    assert patterns["novel-rules"] == patterns["ood"]
    # identity-rules codes as first-appearance letters: baaa -> abbb, baca -> abcb, bcaa -> abcc
    seven, three = {"aaaa", "abaa", "aaba", "abbb", "abba", "abab", "aabb"}, {"abca", "abcb", "abcc"}
    train, test = {"rmts3-hard": ({"aaa/aba", "aaa/abb", "aba/aaa", "abb/aaa", "aba/abb", "abb/aba"},
                                  {"aab/abc", "abc/aab"}),
                   "dist10-hard7": ({"other"}, {"head7"}),
                   "identity-rules4": (seven, three), "identity-rules4-flipped": (three, seven)}[variant]
    assert patterns["train"] == train and patterns["ood"] == test


@pytest.mark.parametrize("variant", sorted(BASE))
def test_objects_patterns_and_class_balance(variant):
    task = etude.create("task", BASE[variant], variant=variant, seed=0, holdout=85, num_train=10_000, num_test=100,
                        num_ood=2_000)
    held = set(task.heldout_objects.tolist())
    for split in ("train", "test", "novel-rules"):
        assert not set(task.split(split).info["objects"].unique().tolist()) & held
    assert set(task.split("ood").info["objects"].unique().tolist()) <= held
    train = task.split("train")
    freq = torch.bincount(train.targets, minlength=task.num_classes).float() / len(train.targets)
    assert (freq - 1 / task.num_classes).abs().max() < 0.03, freq
    rules = torch.bincount(train.info["rule"])
    assert rules.max() - rules.min() <= 1  # patterns exactly balanced


def test_dist10_training_permutations_never_start_with_the_first_seven():
    task = etude.create("task", "distribution-of-3", variant="dist10-hard7", seed=1, holdout=0, num_train=5_000,
                        num_test=10, num_ood=500)
    ids = task.split("train").info["objects"]
    start, shown = ids[:, :10], ids[:, 10:17]
    head = (shown[:, :, None] == start[:, None, :7]).any(-1).all(-1)
    assert not bool(head.any())
    ood = task.split("ood").info["objects"]
    assert bool((ood[:, 10:17, None] == ood[:, None, :7]).any(-1).all(-1).all())
    # with holdout 0 the ood split uses every object (the repository's m = 0)
    assert task.split("ood").info["objects"].unique().numel() == 100


def test_variant_is_deterministic_under_seed():
    a = etude.create("task", "rmts", variant="rmts3-hard", seed=4, holdout=50, num_train=50, num_test=10, num_ood=20)
    b = etude.create("task", "rmts", variant="rmts3-hard", seed=4, holdout=50, num_train=50, num_test=10, num_ood=20)
    for s in ("train", "ood", "novel-rules"):
        torch.testing.assert_close(a.split(s).inputs, b.split(s).inputs)
        assert torch.equal(a.split(s).targets, b.split(s).targets)


def test_variant_errors_name_the_field_and_the_choices():
    with pytest.raises(ValueError, match=r"variant.*rmts3-hard"):
        etude.create("task", "rmts", variant="dist10-hard7")
    with pytest.raises(ValueError, match="holdout.*dist10-hard7 uses up to 11"):
        etude.create("task", "distribution-of-3", variant="dist10-hard7", holdout=95)  # 5 objects < 11
    with pytest.raises(ValueError, match="variant"):
        etude.create("task", "same-different", variant="rmts3-hard")
