"""task/yin-yang: the lazy-vs-hasty yin-yang toy (two half-planes with a dot of the other class), boundary distance."""

import numpy as np
import pytest
import torch

from etude.config import ConfigError
from etude.data import YinYang
from etude.testing.conformance import TaskConformance


class TestYinYang(TaskConformance):
    component = ("task", "yin-yang")


@pytest.mark.parametrize("variant", [1, 2])
def test_labels_dots_and_boundary_distance_follow_the_geometry(variant):
    task = YinYang(num_samples=600, variant=variant, label_noise=0.1, seed=2)
    c1, c2 = YinYang.dots(task)
    for name, split in task.splits().items():
        x = split.inputs.double()
        d1 = (x - torch.tensor(c1, dtype=torch.float64)).norm(dim=1)
        d2 = (x - torch.tensor(c2, dtype=torch.float64)).norm(dim=1)
        in_dot = (d1 < 0.3) | (d2 < 0.3)
        expected = ((x[:, 1] <= 0) ^ in_dot).long()
        assert torch.equal(split.info.get("clean_targets", split.targets), expected), name
        assert torch.equal(split.info["in_dot"], in_dot), name
        distance = torch.stack([x[:, 1].abs(), (d1 - 0.3).abs(), (d2 - 0.3).abs()]).min(0).values
        torch.testing.assert_close(split.info["boundary_distance"].double(), distance, atol=1e-6, rtol=0)


def test_boundary_distance_against_a_dense_grid_of_the_label_map():
    # the distance to the nearest grid point of the other class converges to the boundary distance
    task = YinYang(num_samples=40, seed=0)
    train = task.split("train")
    g = np.linspace(-1, 1, 801)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    labels, _, _ = task.geometry(grid)
    x = train.inputs.double().numpy()
    y = train.targets.numpy()
    for xi, yi, di in zip(x, y, train.info["boundary_distance"].numpy(), strict=True):
        other = grid[labels != yi]
        assert abs(np.linalg.norm(other - xi, axis=1).min() - di) < 4e-3


def test_deterministic_from_the_seed_and_dots_are_a_minority():
    a, b = YinYang(seed=5).split("train"), YinYang(seed=5).split("train")
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.inputs, YinYang(seed=6).split("train").inputs)
    frac = float(YinYang(num_samples=8000).split("train").info["in_dot"].float().mean())
    assert abs(frac - 2 * np.pi * 0.09 / 4) < 0.02


def test_bad_fields_are_named():
    with pytest.raises(ConfigError, match="dot_radius"):
        YinYang(dot_radius=0.6)
    with pytest.raises(ConfigError, match="variant"):
        YinYang(variant=3)
