"""Two-attribute digits: conformance, the construction, labels and shared splits across labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from etude.testing.conformance import TaskConformance
from etude_diffusion_time_mixing.tasks import TwoAttributeDigits, checkerboard


class TestTwoAttributeDigits(TaskConformance):
    component = ("task", "two-attribute-digits")


def test_construction_matches_the_formula():
    from etude.data import Digits  # noqa: PLC0415

    task = TwoAttributeDigits(seed=3, amplitude=0.2)
    split = task.split("train")
    pixels = Digits().load_pool()[0]  # pixel values / 16
    raw = (pixels[split.info["index"].numpy()] * 16.0 / 8.0 - 1.0).astype(np.float32)
    sign = 2.0 * split.info["B"].numpy().astype(np.float32) - 1.0
    expected = raw + 0.2 * sign[:, None] * checkerboard()[None]
    np.testing.assert_allclose(split.inputs.numpy(), expected, atol=1e-6)
    torch.testing.assert_close(split.info["AB"], 2 * split.info["A"] + split.info["B"])
    assert checkerboard(2).tolist() == [1.0, -1.0, -1.0, 1.0]


@pytest.mark.parametrize("label, classes", [("A", 10), ("B", 2), ("AB", 20)])
def test_labels_share_splits(label, classes):
    base = TwoAttributeDigits(seed=1, val_fraction=0.15)
    task = TwoAttributeDigits(seed=1, val_fraction=0.15, label=label)
    assert task.num_classes == classes and task.split_names == ("train", "val", "test")
    for name in ("train", "val", "test"):
        torch.testing.assert_close(task.split(name).inputs, base.split(name).inputs)
        torch.testing.assert_close(task.split(name).targets, base.split(name).info[label])
    assert len(task.split("val")) == 270 and len(task.split("test")) == 450
    b = TwoAttributeDigits(seed=1).split("train").info["B"].float().mean()
    assert 0.4 < float(b) < 0.6


def test_bad_label():
    from etude.config import ConfigError  # noqa: PLC0415

    with pytest.raises((ConfigError, ValueError), match="label"):
        TwoAttributeDigits(label="C")
