"""The tasks of the data layer: conformance, determinism, stratified disjoint splits, train-only standardisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import etude
from etude.data import MNIST1D, BreastCancer, Digits, GaussianBlobs, Iris, SineRegression, Wine
from etude.testing.conformance import TaskConformance


class TestDigits(TaskConformance):
    component = ("task", "digits")


class TestBreastCancer(TaskConformance):
    component = ("task", "breast-cancer")


class TestIris(TaskConformance):
    component = ("task", "iris")


class TestWine(TaskConformance):
    component = ("task", "wine")


class TestMNIST1D(TaskConformance):
    component = ("task", "mnist1d")

    def make_task(self, seed):
        return self.create(seed=seed, num_samples=300)


class TestGaussianBlobs(TaskConformance):
    component = ("task", "gaussian-blobs")


class TestSineRegression(TaskConformance):
    component = ("task", "sine-regression")


class TestCopying(TaskConformance):
    component = ("task", "copying")

    def make_task(self, seed):
        return self.create(seed=seed, length=4, delay=6, num_train=32, num_test=8)


class TestAdding(TaskConformance):
    component = ("task", "adding")

    def make_task(self, seed):
        return self.create(seed=seed, length=12, num_train=32, num_test=8)


class TestLabelNoiseWrapper(TaskConformance):
    component = ("task", "label-noise")

    def make_task(self, seed):
        return self.create(base="wine", options={"seed": seed}, seed=seed, label_noise=0.25)


POOL_TASKS = [
    (Digits, {}, 1797), (BreastCancer, {}, 569), (Iris, {}, 150), (Wine, {}, 178),
    (GaussianBlobs, {"num_samples": 300, "num_classes": 4}, 300),
]


@pytest.mark.parametrize(("cls", "extra", "total"), POOL_TASKS, ids=lambda v: getattr(v, "__name__", ""))
def test_same_config_identical_tensors(cls, extra, total):
    config = dict(seed=3, val_fraction=0.1, label_noise=0.2, standardize=True, **extra)
    a, b = cls(**config).splits(), cls(**config).splits()
    assert a.keys() == b.keys() == {"train", "val", "test"}
    for name in a:
        assert torch.equal(a[name].inputs, b[name].inputs) and torch.equal(a[name].targets, b[name].targets)
        for key, value in a[name].info.items():
            assert torch.equal(value, b[name].info[key]), (name, key)


@pytest.mark.parametrize(("cls", "extra", "total"), POOL_TASKS, ids=lambda v: getattr(v, "__name__", ""))
def test_splits_disjoint_complete_and_stratified(cls, extra, total):
    task = cls(seed=1, test_fraction=0.3, val_fraction=0.2, **extra)
    splits = task.splits()
    index = {k: s.info["index"] for k, s in splits.items()}
    together = torch.cat(list(index.values()))
    assert together.numel() == total and together.unique().numel() == total  # disjoint, and nothing lost
    assert len(splits["test"]) == int(np.ceil(0.3 * total - 1e-9)) and len(splits["val"]) == int(np.ceil(0.2 * total - 1e-9))
    labels = torch.cat([s.info.get("clean_targets", s.targets) for s in splits.values()])
    overall = torch.bincount(labels, minlength=task.num_classes).double() / total
    for name, split in splits.items():
        share = torch.bincount(split.info.get("clean_targets", split.targets), minlength=task.num_classes).double()
        # stratified: every class within one example of its overall share
        assert ((share - overall * len(split)).abs() <= 1.0 + 1e-9).all(), name


def test_seed_changes_the_split_only_through_the_seed():
    a, b = Digits(seed=0).split("test").info["index"], Digits(seed=1).split("test").info["index"]
    assert not torch.equal(a.sort().values, b.sort().values)


@pytest.mark.parametrize("cls", [Digits, BreastCancer, Wine])
def test_standardisation_uses_train_statistics_only(cls):
    raw = cls(seed=2, standardize=False, val_fraction=0.1).splits()
    std = cls(seed=2, standardize=True, val_fraction=0.1).splits()
    if cls is BreastCancer or cls is Wine:  # their default standardises: undo it to get raw features
        from sklearn.datasets import load_breast_cancer, load_wine

        pool = (load_breast_cancer() if cls is BreastCancer else load_wine()).data
        raw = {k: torch.as_tensor(pool[s.info["index"].numpy()], dtype=torch.float64) for k, s in std.items()}
    else:
        raw = {k: s.inputs.double() for k, s in raw.items()}
    x_train = raw["train"]
    mean, sd = x_train.mean(0), x_train.std(0, unbiased=False)
    sd = torch.where(sd > 1e-12, sd, torch.ones_like(sd))
    for name in ("train", "val", "test"):
        torch.testing.assert_close(std[name].inputs.double(), (raw[name] - mean) / sd, atol=1e-5, rtol=1e-5)
    # and the test split's own statistics are not used: its mean is not zero
    assert std["test"].inputs.mean(0).abs().max() > 1e-3


def test_train_size_is_a_stratified_subset():
    full = Digits(seed=0).split("train")
    sub = Digits(seed=0, train_size=200).split("train")
    assert len(sub) == 200 and set(sub.info["index"].tolist()) <= set(full.info["index"].tolist())
    assert torch.bincount(sub.targets, minlength=10).min() >= 19


def test_digits_values_and_breast_cancer_default():
    x = Digits().split("train").inputs
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0 and x.dtype == torch.float32
    assert BreastCancer().split("train").inputs.mean(0).abs().max() < 1e-4
    assert Iris().split("train").targets.dtype == torch.int64


def test_mnist1d_canonical_split_and_val():
    task = MNIST1D(num_samples=1000, val_fraction=0.1)
    splits = task.splits()
    assert {k: len(v) for k, v in splits.items()} == {"train": 720, "val": 80, "test": 200}  # val: 10% of the 800 train
    state = np.random.get_state()[1][:4].copy()
    MNIST1D(seed=5, num_samples=200).splits()
    assert (np.random.get_state()[1][:4] == state).all()  # the generator's reseeding is undone


def test_gaussian_blobs_geometry():
    task = GaussianBlobs(num_classes=3, num_features=5, num_samples=301, cluster_std=0.1)
    train = task.split("train")
    assert train.inputs.shape[1] == 5 and task.num_classes == 3
    centres = torch.stack([train.inputs[train.targets == k].mean(0) for k in range(3)])
    spread = torch.stack([(train.inputs[train.targets == k] - centres[k]).std() for k in range(3)])
    assert (spread < 0.2).all()


def test_sine_regression_function_and_spectrum():
    task = SineRegression(frequencies=(3, 7), amplitudes=(1.0, 0.5), phases="zero", num_train=128)
    train = task.split("train")
    x = train.inputs.squeeze(-1).double()
    expected = torch.sin(2 * torch.pi * 3 * x) + 0.5 * torch.sin(2 * torch.pi * 7 * x)
    torch.testing.assert_close(train.targets.squeeze(-1).double(), expected, atol=1e-6, rtol=0)
    spectrum = torch.fft.rfft(train.targets.squeeze(-1).double()).abs() / 64
    assert spectrum[3] == pytest.approx(1.0, abs=1e-4) and spectrum[7] == pytest.approx(0.5, abs=1e-4)
    assert task.num_classes is None and SineRegression(seed=1).phases() != SineRegression(seed=2).phases()
    with pytest.raises(etude.ConfigError, match="amplitudes"):
        SineRegression(frequencies=(1, 2, 3), amplitudes=(1.0, 2.0))


@pytest.mark.parametrize("bad", [{"test_fraction": 0.0}, {"test_fraction": 1.0}, {"val_fraction": -0.1},
                                 {"label_noise": 1.0}, {"noise_type": "pair"}, {"train_size": 0}, {"sed": 1}])
def test_bad_config_names_the_field(bad):
    with pytest.raises(etude.ConfigError, match=next(iter(bad)).rstrip("d") if "sed" in bad else next(iter(bad))):
        etude.create("task", "digits", **bad)


def test_impossible_split_is_a_clear_error():
    with pytest.raises(ValueError, match="empty split|classes"):
        Iris(test_fraction=0.5, val_fraction=0.49).splits()
