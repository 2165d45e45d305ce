"""Label noise: exact counts, only eligible labels, every flipped label changed, the wrapper task."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.data import Digits, GaussianBlobs
from etude.data.label_noise import (
    CIFAR10_ASYMMETRIC_MAP,
    MNIST_ASYMMETRIC_MAP,
    asymmetric_map,
    inject_label_noise,
    noisy_split,
)


@pytest.mark.parametrize("num_classes", [2, 3, 10])
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.37, 0.8])
def test_symmetric_flips_exactly_round_rate_n(num_classes, rate):
    y = torch.arange(num_classes).repeat(37)
    noisy, flipped = inject_label_noise(y, num_classes, rate, generator=torch.Generator().manual_seed(1))
    assert int(flipped.sum()) == round(rate * y.numel())
    assert torch.equal(flipped, noisy != y)  # every selected label really changed
    assert noisy.dtype == torch.int64 and int(noisy.max()) < num_classes


@pytest.mark.parametrize(("num_classes", "rate"), [(10, 0.4), (10, 0.25), (4, 0.5), (2, 0.3)])
def test_asymmetric_flips_only_eligible_labels_by_the_map(num_classes, rate):
    y = torch.arange(num_classes).repeat_interleave(23)
    mapping = asymmetric_map(num_classes)
    noisy, flipped = inject_label_noise(y, num_classes, rate, "asymmetric", generator=torch.Generator().manual_seed(2))
    eligible = torch.isin(y, torch.tensor(sorted(mapping)))
    assert int(flipped.sum()) == round(rate * int(eligible.sum()))
    assert not flipped[~eligible].any()
    for i in flipped.nonzero().flatten().tolist():
        assert int(noisy[i]) == mapping[int(y[i])]


def test_documented_maps():
    assert asymmetric_map(10) == MNIST_ASYMMETRIC_MAP == {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}
    assert asymmetric_map(2) == {0: 1, 1: 0} and asymmetric_map(3) == {0: 1, 1: 2, 2: 0}
    assert CIFAR10_ASYMMETRIC_MAP == {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}  # truck->car, bird->plane, deer->horse, cat<->dog


def test_custom_class_map_and_errors():
    y = torch.arange(10).repeat(10)
    noisy, flipped = inject_label_noise(y, 10, 0.5, "asymmetric", class_map=CIFAR10_ASYMMETRIC_MAP,
                                        generator=torch.Generator().manual_seed(0))
    assert int(flipped.sum()) == 25 and set(y[flipped].tolist()) <= set(CIFAR10_ASYMMETRIC_MAP)
    with pytest.raises(ValueError, match="class_map"):
        inject_label_noise(y, 10, 0.5, "asymmetric", class_map={1: 1})
    with pytest.raises(ValueError, match="rate"):
        inject_label_noise(y, 10, 1.0)
    with pytest.raises(ValueError, match="noise_type"):
        inject_label_noise(y, 10, 0.1, "pairflip")
    with pytest.raises(ValueError, match="num_classes"):
        inject_label_noise(y, 3, 0.1)
    with pytest.raises(ValueError, match="1-D integer"):
        inject_label_noise(y.float(), 10, 0.1)


@pytest.mark.parametrize("noise_type", ["symmetric", "asymmetric"])
def test_tasks_record_clean_targets_and_mask_on_train_only(noise_type):
    task = Digits(seed=4, label_noise=0.3, noise_type=noise_type, val_fraction=0.1)
    splits = task.splits()
    train = splits["train"]
    clean, mask = train.info["clean_targets"], train.info["noisy"]
    assert mask.dtype == torch.bool and torch.equal(mask, train.targets != clean)
    eligible = len(train) if noise_type == "symmetric" else int(torch.isin(clean, torch.tensor([2, 3, 5, 6, 7])).sum())
    assert int(mask.sum()) == round(0.3 * eligible)
    for name in ("val", "test"):
        assert "noisy" not in splits[name].info  # clean
    assert torch.equal(clean, Digits(seed=4, val_fraction=0.1).split("train").targets)  # same split with or without noise


def test_noise_free_train_split_still_has_the_records():
    train = GaussianBlobs().split("train")
    assert not train.info["noisy"].any() and torch.equal(train.info["clean_targets"], train.targets)


def test_wrapper_equals_the_built_in_noise():
    wrapped = etude.create("task", "label-noise", base="digits", options={"seed": 1}, seed=1, label_noise=0.2)
    direct = Digits(seed=1, label_noise=0.2)
    assert torch.equal(wrapped.split("train").targets, direct.split("train").targets)
    assert wrapped.num_classes == 10 and wrapped.split_names == direct.split_names
    with pytest.raises(ValueError, match="classification"):
        etude.create("task", "label-noise", base="sine-regression")


def test_noisy_split_keeps_existing_clean_targets():
    train = Digits(seed=0, label_noise=0.1).split("train")
    again = noisy_split(train, 10, 0.1, "symmetric", seed=5)
    assert torch.equal(again.info["clean_targets"], train.info["clean_targets"])
