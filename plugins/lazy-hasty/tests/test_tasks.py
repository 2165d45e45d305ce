"""task/coloured-digits: colour agrees with the label on 90% of train and 10% of test."""

import torch

from etude.testing.conformance import TaskConformance
from etude_lazy_hasty import ColouredDigits


class TestColouredDigitsConformance(TaskConformance):
    component = ("task", "coloured-digits")


def test_colour_channel_and_groups():
    task = ColouredDigits(seed=1)
    for name, expected in (("train", 0.9), ("test", 0.1)):
        s = task.split(name)
        colour = s.info["colour"]
        on = s.inputs.flatten(2).sum(2) > 0  # (N, 2): which channel holds the image
        assert torch.equal(on.float().argmax(1), colour)
        assert torch.equal(s.info["bias_aligned"], colour == s.targets)
        assert abs(float(s.info["bias_aligned"].float().mean()) - expected) < 0.05
        agree = float(((s.info["digit"] >= 5).long() == s.targets).float().mean())
        assert abs(agree - 0.75) < 0.06
