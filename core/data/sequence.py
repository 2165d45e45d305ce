"""Long-memory sequence tasks: copying and adding (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016)."""

from __future__ import annotations

import torch

from etude.config import FieldValueError, configclass, field
from etude.kinds import Split, Task

from .base import seed_field


def _at_least(low: int):
    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


def _generators(seed: int) -> dict[str, torch.Generator]:
    return {name: torch.Generator().manual_seed(int(seed) * 2 + i) for i, name in enumerate(("train", "test"))}


@configclass
class CopyingConfig:
    seed: int = seed_field()
    length: int = field(default=10, validator=_at_least(1), doc="symbols to memorise")
    delay: int = field(default=50, validator=_at_least(1), doc="blank steps between the symbols and the recall marker")
    num_symbols: int = field(default=8, validator=_at_least(2), doc="alphabet size (symbols are 1..num_symbols)")
    num_train: int = field(default=10000, validator=_at_least(1), doc="training sequences")
    num_test: int = field(default=1000, validator=_at_least(1), doc="test sequences")
    one_hot: bool = field(default=True, doc="inputs as one-hot float (N, T, num_symbols + 2); else int64 tokens (N, T)")


class Copying(Task):
    """The copying memory task: read ``length`` symbols, wait ``delay`` steps, then reproduce them.

    Tokens: 0 is the blank, 1..S the symbols, S + 1 the recall marker. An
    input sequence of ``T = length + delay + length`` steps is
    ``s_1..s_L, 0 x (delay - 1), S + 1, 0 x L``; its target is
    ``0 x (length + delay), s_1..s_L`` (int64 (N, T), ``num_classes = S + 2``,
    the marker never a target). A model that only outputs blanks after
    guessing scores the baseline cross-entropy ``L log(S) / T``. Train and
    test sequences come from two generators seeded from ``seed``.

    References:
        S. Hochreiter, J. Schmidhuber, "Long short-term memory", Neural Computation 1997;
        M. Arjovsky, A. Shah, Y. Bengio, "Unitary Evolution Recurrent Neural Networks",
        ICML 2016, arXiv:1511.06464 (this layout).

    Examples:
        >>> task = Copying(length=3, delay=5, num_train=8, num_test=4)
        >>> train = task.split("train")
        >>> train.inputs.shape, train.targets.shape, task.num_classes
        (torch.Size([8, 11, 10]), torch.Size([8, 11]), 10)
    """

    Config = CopyingConfig

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.num_classes = c.num_symbols + 2
        steps = 2 * c.length + c.delay
        self.input_shape = (steps, self.num_classes) if c.one_hot else (steps,)
        self.baseline_loss = c.length * torch.log(torch.tensor(float(c.num_symbols))).item() / steps

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        out = {}
        for name, g in _generators(c.seed).items():
            n = c.num_train if name == "train" else c.num_test
            symbols = torch.randint(1, c.num_symbols + 1, (n, c.length), generator=g)
            steps = 2 * c.length + c.delay
            tokens = torch.zeros(n, steps, dtype=torch.int64)
            tokens[:, : c.length] = symbols
            tokens[:, c.length + c.delay - 1] = c.num_symbols + 1
            targets = torch.zeros(n, steps, dtype=torch.int64)
            targets[:, c.length + c.delay:] = symbols
            inputs = torch.nn.functional.one_hot(tokens, self.num_classes).float() if c.one_hot else tokens
            out[name] = Split(inputs, targets, {"tokens": tokens})
        return out


@configclass
class AddingConfig:
    seed: int = seed_field()
    length: int = field(default=100, validator=_at_least(2), doc="sequence length T")
    num_train: int = field(default=10000, validator=_at_least(1), doc="training sequences")
    num_test: int = field(default=1000, validator=_at_least(1), doc="test sequences")


class Adding(Task):
    """The adding problem: sum the two values marked in a sequence of ``length`` random numbers.

    Inputs (N, T, 2) float32: channel 0 uniform in [0, 1), channel 1 a
    marker that is 1 at one position in the first half and one in the second
    half, 0 elsewhere. Targets (N, 1): the sum of the two marked values.
    Predicting 1 always gives a mean squared error of about 1/6 (the baseline).

    References:
        S. Hochreiter, J. Schmidhuber, "Long short-term memory", Neural Computation 1997;
        Q. V. Le, N. Jaitly, G. E. Hinton, arXiv:1504.00941, 2015 (this form);
        M. Arjovsky, A. Shah, Y. Bengio, ICML 2016, arXiv:1511.06464.

    Examples:
        >>> task = Adding(length=20, num_train=16, num_test=4)
        >>> task.split("train").inputs.shape, task.split("train").targets.shape
        (torch.Size([16, 20, 2]), torch.Size([16, 1]))
    """

    Config = AddingConfig
    output_dim = 1
    baseline_mse = 1.0 / 6.0

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.input_shape = (self.config.length, 2)

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        half = c.length // 2
        out = {}
        for name, g in _generators(c.seed).items():
            n = c.num_train if name == "train" else c.num_test
            values = torch.rand(n, c.length, generator=g)
            first = torch.randint(0, half, (n,), generator=g)
            second = torch.randint(half, c.length, (n,), generator=g)
            marks = torch.zeros(n, c.length)
            rows = torch.arange(n)
            marks[rows, first] = 1.0
            marks[rows, second] = 1.0
            targets = (values[rows, first] + values[rows, second]).unsqueeze(-1)
            out[name] = Split(torch.stack([values, marks], dim=-1), targets)
        return out


__all__ = ["Adding", "AddingConfig", "Copying", "CopyingConfig"]
