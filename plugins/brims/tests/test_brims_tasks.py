"""Tasks: conformance, determinism, noise levels, bouncing-ball physics (box, energy, momentum)."""

from __future__ import annotations

import pytest
import torch

from etude.testing.conformance import TaskConformance

from etude_brims.tasks import BouncingBalls, NoisySequences


class TestNoisySequencesConformance(TaskConformance):
    component = ("task", "noisy-sequences")

    def make_task(self, seed):
        return self.create(seed=seed, num_train=40, num_test=20, noise_levels=(0.9,))


class TestBouncingBallsConformance(TaskConformance):
    component = ("task", "bouncing-balls")

    def make_task(self, seed):
        return self.create(seed=seed, num_train=4, num_test=2, length=5)


def test_noisy_sequences_are_template_plus_noise_at_each_level():
    task = NoisySequences(seed=3, num_train=2000, num_test=2000, noise_levels=(0.0, 1.0))
    means = task.templates()
    assert means.shape == (4, 12, 8)
    clean = task.split("noise_0.0")
    assert torch.equal(clean.inputs, means[clean.targets])
    for name, sigma in (("train", 0.3), ("test", 0.3), ("ood", 0.6), ("noise_1.0", 1.0)):
        split = task.split(name)
        resid = split.inputs - means[split.targets]
        assert split.info["noise"] == sigma
        assert abs(float(resid.std()) - sigma) < 0.02 * sigma + 1e-9
    assert torch.equal(NoisySequences(seed=3, num_train=5, num_test=5).templates(), means)
    assert not torch.equal(NoisySequences(seed=4, num_train=5, num_test=5).templates(), means)
    counts = torch.bincount(task.split("train").targets, minlength=4)
    assert int(counts.min()) > 400
    with pytest.raises(ValueError, match="num_templates"):
        NoisySequences(num_templates=1)


def test_bouncing_balls_stay_in_the_box_and_conserve_energy_and_momentum():
    task = BouncingBalls(seed=1, num_train=64, num_test=2, length=40, num_balls=3, speed=0.08)
    split = task.split("train")
    p, v = split.info["positions"], split.info["velocities"]
    r = task.config.radius
    assert bool((p >= r - 1e-12).all() and (p <= 1 - r + 1e-12).all())
    energy = (v ** 2).sum((-1, -2))  # (N, T), equal masses
    assert float((energy - energy[:, :1]).abs().max()) < 1e-6 * float(energy.max())
    # ball-ball collisions happened, and each conserves energy to 1e-6: the check above covers them
    speeds = v.norm(dim=-1)
    assert float((speeds[:, 1:] - speeds[:, :-1]).abs().max()) > 1e-3
    assert split.inputs.shape == (64, 39, 1024) and torch.equal(split.inputs[:, 1:], split.targets[:, :-1])
    assert float(split.inputs.max()) <= 1.0 and float(split.inputs.min()) >= 0.0


def test_bouncing_balls_ball_collision_is_elastic_and_exchanges_velocity():
    task = BouncingBalls(num_train=1, num_test=1, num_balls=2, radius=0.1)
    p = torch.tensor([[[0.4, 0.5], [0.59, 0.5]]], dtype=torch.float64)
    v = torch.tensor([[[0.03, 0.01], [-0.02, 0.0]]], dtype=torch.float64)
    out = task._collide(p, v.clone())
    torch.testing.assert_close(out[0, 0], torch.tensor([-0.02, 0.01], dtype=torch.float64))
    torch.testing.assert_close(out[0, 1], torch.tensor([0.03, 0.0], dtype=torch.float64))
    receding = task._collide(p, -v.clone())
    torch.testing.assert_close(receding, -v)


def test_bouncing_balls_render_puts_the_ball_where_it_is():
    task = BouncingBalls(num_train=1, num_test=1, num_balls=1, size=32)
    frame = task.render(torch.tensor([[[0.25, 0.75]]], dtype=torch.float64)).view(32, 32)
    row, col = divmod(int(frame.argmax()), 32)
    assert (row, col) in {(23, 7), (23, 8), (24, 7), (24, 8)}  # y = 0.75 -> row 24, x = 0.25 -> column 8


def test_bouncing_balls_bad_config():
    with pytest.raises(ValueError, match="radius"):
        BouncingBalls(radius=0.6)
    with pytest.raises(ValueError, match="num_balls"):
        BouncingBalls(num_balls=20, radius=0.2)
