"""Sequential (optionally permuted) scikit-learn digits: a 64-step CPU stand-in for psMNIST."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import configclass, field, in_range
from etude.kinds import Split, Task

__all__ = ["SequentialDigits", "optional_positive_int"]


def optional_positive_int(instance: Any, attribute: Any, value: Any) -> None:
    """Validator: None or an integer >= 1."""
    from etude.config import FieldValueError  # noqa: PLC0415

    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise FieldValueError(attribute.name, value, "None or an integer >= 1")


@configclass
class SequentialDigitsConfig:
    seed: int = field(default=0, doc="seeds the train/test split and the pixel permutation")
    permute: bool = field(default=True, doc="apply one fixed random pixel permutation (the 'ps' in psMNIST)")
    test_fraction: float = field(default=0.3, validator=in_range(0.05, 0.95), doc="fraction of the 1797 images held out")
    max_train: int | None = field(default=None, validator=optional_positive_int, doc="keep at most this many training sequences")
    max_test: int | None = field(default=None, validator=optional_positive_int, doc="keep at most this many test sequences")


class SequentialDigits(Task):
    """scikit-learn's 8x8 digits read one pixel per step: (N, 64, 1) sequences in [0, 1], 10 classes.

    The CPU-scale stand-in for the paper's (permuted) sequential MNIST
    (784 steps): the core's ``task/digits`` (pixels / 16 in [0, 1]; a
    stratified, seeded train / test split, ``ceil(test_fraction * 1797)``
    test images) read row by row, optionally reordered by one fixed random
    pixel permutation drawn from ``seed`` (background pixels are exactly 0,
    so the paper's gain perturbation acts on the nonzero pixels only). The
    data ship with scikit-learn: nothing is downloaded.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, PLOS Computational
        Biology 2024 (bioRxiv 10.1101/2022.04.29.489963; no arXiv id);
        Le, Jaitly, Hinton, "A simple way to initialize recurrent networks of
        rectified linear units", arXiv:1504.00941 (pixel-by-pixel MNIST).

    Examples:
        >>> task = SequentialDigits(seed=0, max_train=100)
        >>> split = task.split("train")
        >>> tuple(split.inputs.shape), task.num_classes
        ((100, 64, 1), 10)
    """

    Config = SequentialDigitsConfig
    num_classes = 10
    input_shape = (64, 1)

    def make_splits(self) -> dict[str, Split]:
        from etude.data import Digits  # noqa: PLC0415

        c = self.config
        digits = Digits(seed=c.seed, test_fraction=c.test_fraction).splits()
        # the permutation has its own stream: the split does not depend on whether pixels are permuted
        order = np.random.default_rng([c.seed, 1]).permutation(64) if c.permute else np.arange(64)
        order_t = torch.from_numpy(order.copy())
        limits = {"train": c.max_train, "test": c.max_test}

        def split(name: str) -> Split:
            part = digits[name]
            keep = slice(None) if limits[name] is None else slice(0, limits[name])
            labels = part.info.get("clean_targets", part.targets)[keep].clone()
            return Split(part.inputs[keep][:, order_t].unsqueeze(-1).contiguous(), labels,
                         {"permutation": order_t.clone(), "index": part.info["index"][keep].clone()})

        return {"train": split("train"), "test": split("test")}
