"""Coloured digits: a coloured-MNIST analogue on scikit-learn's digits, with an easy spurious feature.

Arjovsky et al.'s coloured MNIST on the 8x8 digits, as the paper's
``exp_cmnist`` uses coloured MNIST: the label is ``digit >= 5`` flipped with
probability ``shape_noise`` (so shape predicts it 75 % of the time), and
the image is drawn in one of two colour channels (input ``(2, 8, 8)``):
the colour equals the label with probability ``correlation`` on train (the
easy spurious feature, 90 %) and ``1 - correlation`` on test (reversed).
``info["bias_aligned"]`` marks the examples whose colour agrees with their
label (the rest is the bias-conflicting group).

References:
    M. Arjovsky, L. Bottou, I. Gulrajani, D. Lopez-Paz, "Invariant Risk Minimization", 2019,
    arXiv:1907.02893 (coloured MNIST).
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty", TMLR 2022, arXiv:2209.09658 (spurious correlations).

Examples:
    >>> task = ColouredDigits()
    >>> train, test = task.split("train"), task.split("test")
    >>> tuple(train.inputs.shape[1:]), task.num_classes
    ((2, 8, 8), 2)
    >>> float(train.info["bias_aligned"].float().mean()) > 0.8 > 0.2 > float(test.info["bias_aligned"].float().mean())
    True
"""

from __future__ import annotations

import torch

from etude.config import configclass, field, in_range, non_negative
from etude.kinds import Split, Task


@configclass
class ColouredDigitsConfig:
    seed: int = field(default=0, validator=non_negative, doc="seed of the split, the label flips and the colours")
    correlation: float = field(default=0.9, validator=in_range(0.0, 1.0),
                               doc="P(colour = label) on train; on test it is 1 - correlation (reversed)")
    shape_noise: float = field(default=0.25, validator=in_range(0.0, 0.5, high_open=True),
                               doc="probability that the label (digit >= 5) is flipped, train and test")
    test_fraction: float = field(default=0.25, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
                                 doc="fraction of the digits held out as the test split")


class ColouredDigits(Task):
    """Binary digits (``digit >= 5``) with a colour channel that is spuriously correlated with the label.

    See the module docstring. Inputs (N, 2, 8, 8) float32 in [0, 1]; targets
    int64 in {0, 1}; ``info``: ``bias_aligned`` (bool), ``colour`` (int64),
    ``digit`` (int64) and ``index`` (row in scikit-learn's digits).
    """

    Config = ColouredDigitsConfig
    num_classes = 2
    input_shape = (2, 8, 8)

    def make_splits(self) -> dict[str, Split]:
        from etude.data import Digits  # noqa: PLC0415

        c = self.config
        base = Digits(seed=c.seed, test_fraction=c.test_fraction)
        g = torch.Generator().manual_seed(int(c.seed) + 104729)
        out = {}
        for name, p_colour in (("train", c.correlation), ("test", 1.0 - c.correlation)):
            s = base.split(name)
            digit = s.info.get("clean_targets", s.targets)
            n = digit.shape[0]
            label = (digit >= 5).long()
            label = torch.where(torch.rand(n, generator=g) < c.shape_noise, 1 - label, label)
            colour = torch.where(torch.rand(n, generator=g) < p_colour, label, 1 - label)
            image = s.inputs.reshape(n, 8, 8)
            x = torch.zeros(n, 2, 8, 8)
            x[torch.arange(n), colour] = image
            out[name] = Split(x, label, {"bias_aligned": colour == label, "colour": colour, "digit": digit,
                                         "index": s.info["index"]})
        return out



__all__ = ["ColouredDigits", "ColouredDigitsConfig"]
