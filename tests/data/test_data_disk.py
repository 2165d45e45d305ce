"""task/disk: the 2-D disk toy with its boundary distance."""

import math

import pytest
import torch

from etude.config import ConfigError
from etude.data import Disk
from etude.testing.conformance import TaskConformance


class TestDisk(TaskConformance):
    component = ("task", "disk")


def test_labels_and_boundary_distance_follow_the_circle():
    task = Disk(num_samples=400, label_noise=0.2, seed=3)
    r = math.sqrt(2 / math.pi)
    for name, split in task.splits().items():
        norm = split.inputs.double().norm(dim=1)
        clean = split.info.get("clean_targets", split.targets)
        assert torch.equal(clean, (norm < r).long()), name
        torch.testing.assert_close(split.info["boundary_distance"].double(), (norm - r).abs(), atol=1e-6, rtol=0)
    train = task.split("train")
    assert 0 < int(train.info["noisy"].sum()) < len(train)
    # balanced on average: the default radius covers half the square
    assert 0.4 < float((Disk(num_samples=4000).split("train").targets == 1).float().mean()) < 0.6


def test_standardize_keeps_the_raw_distance():
    raw, std = Disk(seed=1).split("train"), Disk(seed=1, standardize=True).split("train")
    torch.testing.assert_close(raw.info["boundary_distance"], std.info["boundary_distance"])
    assert not torch.allclose(raw.inputs, std.inputs)


def test_bad_radius_is_named():
    with pytest.raises(ConfigError, match="radius"):
        Disk(radius=2.0)
