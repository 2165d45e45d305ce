"""Label noise and the three tasks."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import etude
from etude.testing.conformance import TaskConformance
from etude_mixupe.noise import MNIST_ASYMMETRIC_MAP, asymmetric_map, inject_label_noise


# -- noise -----------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), c=st.integers(2, 12), rate=st.floats(0.0, 0.99), seed=st.integers(0, 10**6))
def test_symmetric_flips_exact_count_to_other_classes(n, c, rate, seed):
    y = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))
    noisy, flipped = inject_label_noise(y, c, rate, generator=torch.Generator().manual_seed(seed))
    assert int(flipped.sum()) == round(rate * n)
    assert torch.equal(flipped, noisy != y)  # every chosen label really changes
    assert noisy.dtype == torch.int64 and flipped.dtype == torch.bool
    assert int(noisy.min()) >= 0 and int(noisy.max()) < c


def test_symmetric_new_labels_uniform_over_other_classes():
    y = torch.zeros(30000, dtype=torch.long)
    noisy, flipped = inject_label_noise(y, 4, 0.9, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(noisy[flipped], minlength=4).float() / flipped.sum()
    assert counts[0] == 0
    torch.testing.assert_close(counts[1:], torch.full((3,), 1 / 3), atol=0.02, rtol=0)


def test_asymmetric_mnist_map_and_eligible_rate():
    y = torch.arange(10).repeat(100)
    noisy, flipped = inject_label_noise(y, 10, 0.4, "asymmetric", generator=torch.Generator().manual_seed(1))
    assert int(flipped.sum()) == round(0.4 * 500)  # 5 eligible classes x 100 examples
    for src, dst in MNIST_ASYMMETRIC_MAP.items():
        assert torch.all(noisy[flipped & (y == src)] == dst)
    assert not flipped[(y == 0) | (y == 1) | (y == 4) | (y == 8) | (y == 9)].any()


def test_asymmetric_map_other_class_counts():
    assert asymmetric_map(2) == {0: 1, 1: 0}
    assert asymmetric_map(3) == {0: 1, 1: 2, 2: 0}


def test_noise_deterministic_and_errors():
    y = torch.randint(0, 5, (50,), generator=torch.Generator().manual_seed(0))
    a = inject_label_noise(y, 5, 0.3, generator=torch.Generator().manual_seed(3))
    b = inject_label_noise(y, 5, 0.3, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="rate"):
            inject_label_noise(y, 5, bad)
    with pytest.raises(ValueError, match="noise_type"):
        inject_label_noise(y, 5, 0.1, "pairflip")
    with pytest.raises(ValueError, match="num_classes"):
        inject_label_noise(y, 3, 0.1)
    with pytest.raises(ValueError, match="1-D integer"):
        inject_label_noise(y.float(), 5, 0.1)


# -- tasks -----------------------------------------------------------------------
class TestDigits(TaskConformance):
    component = ("task", "digits")


class TestBreastCancer(TaskConformance):
    component = ("task", "breast-cancer")


class TestMNIST1D(TaskConformance):
    component = ("task", "mnist1d")

    def make_task(self, seed):
        return self.create(seed=seed, num_samples=500)


@pytest.mark.parametrize("name,extra,dim,classes", [
    ("digits", {}, 64, 10), ("breast-cancer", {}, 30, 2), ("mnist1d", {"num_samples": 500}, 40, 10)])
@pytest.mark.parametrize("noise_type", ["symmetric", "asymmetric"])
def test_task_noise_contract(name, extra, dim, classes, noise_type):
    task = etude.create("task", name, label_noise=0.3, noise_type=noise_type, **extra)
    train, test = task.split("train"), task.split("test")
    assert task.num_classes == classes and task.input_shape == (dim,)
    assert train.inputs.dtype == torch.float32 and train.inputs.shape[1] == dim
    clean, mask = train.info["clean_targets"], train.info["noisy"]
    assert clean.dtype == torch.int64 and mask.dtype == torch.bool
    assert torch.equal(mask, train.targets != clean) and mask.any()
    assert "noisy" not in test.info  # the test split stays clean
    clean_task = etude.create("task", name, **extra)
    assert not clean_task.split("train").info["noisy"].any()
    assert torch.equal(clean_task.split("train").info["clean_targets"], clean)  # same split, only labels differ


def test_task_value_ranges():
    digits = etude.create("task", "digits").split("train").inputs
    assert float(digits.min()) >= 0 and float(digits.max()) <= 1
    bc = etude.create("task", "breast-cancer").split("train").inputs
    torch.testing.assert_close(bc.mean(0), torch.zeros(30), atol=1e-4, rtol=0)
    torch.testing.assert_close(bc.std(0, unbiased=False), torch.ones(30), atol=1e-4, rtol=0)


def test_mnist1d_canonical_split_and_stratified_split():
    task = etude.create("task", "mnist1d")  # seed 0 = mnist1d's own default dataset
    assert len(task.split("train")) == 4000 and len(task.split("test")) == 1000
    digits = etude.create("task", "digits", test_fraction=0.5)
    test_counts = torch.bincount(digits.split("test").targets, minlength=10)
    train_counts = torch.bincount(digits.split("train").targets, minlength=10)
    assert int((test_counts - train_counts).abs().max()) <= 1  # stratified: each class split in half


def test_task_config_errors():
    with pytest.raises(etude.ConfigError, match="label_noise"):
        etude.create("task", "digits", label_noise=1.0)
    with pytest.raises(etude.ConfigError, match="noise_type"):
        etude.create("task", "digits", noise_type="pair")
    with pytest.raises(etude.ConfigError, match="test_fraction"):
        etude.create("task", "mnist1d", test_fraction=0.0)
