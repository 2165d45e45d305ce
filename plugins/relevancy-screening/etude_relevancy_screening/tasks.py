"""The denoise task of Kerg et al. (2020): symbols at random positions among blanks, recalled in order after a marker."""

from __future__ import annotations

import torch

from etude.config import FieldValueError, configclass, field
from etude.kinds import Split, Task

__all__ = ["Denoise", "DenoiseConfig", "recall_accuracy"]


def _at_least(low: int):
    def check(instance, attribute, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


@configclass
class DenoiseConfig:
    seed: int = field(default=0, validator=_at_least(0), doc="seed of the train and test generators")
    length: int = field(default=10, validator=_at_least(1), doc="symbols to recall")
    delay: int = field(default=50, validator=_at_least(1), doc="steps of the noisy segment beyond the symbols")
    num_symbols: int = field(default=8, validator=_at_least(2), doc="alphabet size (symbols are 1..num_symbols)")
    num_train: int = field(default=10000, validator=_at_least(1), doc="training sequences")
    num_test: int = field(default=1000, validator=_at_least(1), doc="test sequences")
    one_hot: bool = field(default=True, doc="inputs one-hot float (N, T, num_symbols + 2); else int64 tokens (N, T)")


class Denoise(Task):
    """Denoise: ``length`` symbols scattered at random positions among blanks, reproduced in order after a marker.

    The layout of ``task/copying`` (tokens: 0 blank, 1..S symbols, S + 1
    the marker; ``T = 2 length + delay`` steps; the marker at step
    ``length + delay - 1``; targets blank except the last ``length`` steps),
    but the symbols sit at ``length`` distinct sorted positions drawn
    uniformly among the first ``length + delay - 1`` steps, so the network
    must find, not count, what to remember (official ``denoisetask.py``).

    References:
        G. Kerg et al., "Untangling tradeoffs between recurrence and self-attention in artificial neural
        networks", NeurIPS 2020, arXiv:2006.09471 (denoise task, after Jing et al., 2019, arXiv:1706.02761).

    Examples:
        >>> task = Denoise(length=3, delay=5, num_train=4, num_test=2)
        >>> split = task.split("train")
        >>> split.inputs.shape, split.targets.shape, int((split.info["tokens"][:, :7] > 0).sum(1).min())
        (torch.Size([4, 11, 10]), torch.Size([4, 11]), 3)
    """

    Config = DenoiseConfig

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.num_classes = c.num_symbols + 2
        steps = 2 * c.length + c.delay
        self.input_shape = (steps, self.num_classes) if c.one_hot else (steps,)

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        steps, span = 2 * c.length + c.delay, c.length + c.delay - 1
        out = {}
        for i, name in enumerate(("train", "test")):
            g = torch.Generator().manual_seed(int(c.seed) * 2 + i)
            n = c.num_train if name == "train" else c.num_test
            symbols = torch.randint(1, c.num_symbols + 1, (n, c.length), generator=g)
            positions = torch.rand(n, span, generator=g).argsort(dim=1)[:, : c.length].sort(dim=1).values
            tokens = torch.zeros(n, steps, dtype=torch.int64)
            tokens.scatter_(1, positions, symbols)
            tokens[:, span] = c.num_symbols + 1
            targets = torch.zeros(n, steps, dtype=torch.int64)
            targets[:, span + 1:] = symbols
            inputs = torch.nn.functional.one_hot(tokens, self.num_classes).float() if c.one_hot else tokens
            out[name] = Split(inputs, targets, {"tokens": tokens, "positions": positions})
        return out


def recall_accuracy(logits: torch.Tensor, targets: torch.Tensor, length: int) -> float:
    """Fraction of the last ``length`` steps (the recall segment) whose argmax equals the target symbol."""
    if logits.dim() != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"recall_accuracy: logits (N, T, C) and targets (N, T) expected, got "
                         f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    return float((logits[:, -length:].argmax(-1) == targets[:, -length:]).float().mean())
