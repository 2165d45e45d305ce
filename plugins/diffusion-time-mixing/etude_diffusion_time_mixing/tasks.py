"""Two-attribute digits: a coarse attribute (the digit) and a fine one (a faint checkerboard's sign).

The core's ``task/digits`` pool (scikit-learn's 8x8 digits, bundled) scaled to [-1, 1] (``2 x - 1``), plus ``s a c``
with ``c_ij = (-1)^(i + j)`` the 8x8 checkerboard, ``a`` its amplitude
(default 0.1, a twentieth of the pixel range) and ``s = +-1`` a random sign
per example (seeded). Label A is the digit (10 classes), B the sign
(``s = +1`` -> 1, 2 classes), AB the pair ``2 A + B`` (20 classes). The
checkerboard is the highest spatial frequency of the image and is drowned by
diffusion noise long before the digit's shape, which is the paper's
coarse / fine setting (Colored-MNIST there) at a CPU's scale.

Splits are stratified by AB whatever the label, so the A, B and AB tasks of
one seed hold the same examples in the same splits (one encoder serves all three).

References:
    S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points to Functions", preprint 2022,
    arXiv:2210.13774 (unverified), Section on multi-attribute analyses (Colored-MNIST, CelebA).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from etude.config import configclass, field, in_range, one_of
from etude.data.base import seed_field, stratified_split, test_fraction_field, train_size_field, val_fraction_field
from etude.kinds import Split, Task

__all__ = ["LABELS", "TwoAttributeDigits", "TwoAttributeDigitsConfig", "checkerboard"]

LABELS = {"A": 10, "B": 2, "AB": 20}


def checkerboard(size: int = 8) -> np.ndarray:
    """The ``size x size`` pattern ``(-1)^(i + j)`` (float32, flattened)."""
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return ((-1.0) ** (i + j)).astype(np.float32).reshape(-1)


@configclass
class TwoAttributeDigitsConfig:
    seed: int = seed_field()
    label: str = field(default="AB", validator=one_of(*LABELS), doc="'A' (digit), 'B' (checkerboard sign) or 'AB' (both, 20 classes)")
    amplitude: float = field(default=0.1, validator=in_range(0.0, 1.0, low_open=True), doc="checkerboard amplitude a")
    test_fraction: float = test_fraction_field(0.25)
    val_fraction: float = val_fraction_field(0.0)
    train_size: int | None = train_size_field()


class TwoAttributeDigits(Task):
    """Digits in [-1, 1] plus a +-checkerboard of amplitude ``a``: labels A (digit), B (sign), AB (both).

    Default split (``test_fraction=0.25``): 1347 train / 450 test; with
    ``val_fraction=0.15`` a 270-example val split comes out of train. Every
    split's ``info`` holds ``"A"``, ``"B"`` and ``"AB"`` (int64) and ``"index"``
    (the row in the digits pool); the train split also ``clean_targets``
    and ``noisy`` (all False) as every data-layer task.

    Examples:
        >>> task = TwoAttributeDigits(seed=0, label="B")
        >>> train = task.split("train")
        >>> train.inputs.shape, task.num_classes, sorted(train.targets.unique().tolist())
        (torch.Size([1347, 64]), 2, [0, 1])
    """

    Config = TwoAttributeDigitsConfig
    input_shape = (64,)

    def __init__(self, config: TwoAttributeDigitsConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.num_classes = LABELS[self.config.label]
        if self.config.val_fraction > 0:
            self.split_names = ("train", "val", "test")

    def make_splits(self) -> dict[str, Split]:
        from etude.data import Digits  # noqa: PLC0415

        c = self.config
        pixels, a_label = Digits().load_pool()  # the core's digits: pixels / 16 in [0, 1], labels 0..9
        digits = (2.0 * pixels - 1.0).astype(np.float32)
        a_label = a_label.astype(np.int64)
        rng = np.random.default_rng(int(c.seed))
        b_label = rng.integers(0, 2, size=len(a_label)).astype(np.int64)
        sign = (2.0 * b_label - 1.0).astype(np.float32)
        x = digits + c.amplitude * sign[:, None] * checkerboard(8)[None, :]
        ab = 2 * a_label + b_label
        n = len(ab)
        train, test = stratified_split(ab, math.ceil(c.test_fraction * n - 1e-9), int(c.seed))
        chosen = {"train": train, "test": test}
        if c.val_fraction > 0:
            keep, val = stratified_split(ab[train], math.ceil(c.val_fraction * n - 1e-9), int(c.seed))
            chosen["val"], chosen["train"] = train[val], train[keep]
        if c.train_size is not None and c.train_size < len(chosen["train"]):
            _, sub = stratified_split(ab[chosen["train"]], int(c.train_size), int(c.seed) + 1)
            chosen["train"] = chosen["train"][np.sort(sub)]
        labels = {"A": a_label, "B": b_label, "AB": ab}
        splits = {}
        for name in ("train", "val", "test"):
            if name not in chosen:
                continue
            idx = np.sort(chosen[name])
            info: dict[str, Any] = {k: torch.from_numpy(v[idx].copy()) for k, v in labels.items()}
            info["index"] = torch.from_numpy(idx.astype(np.int64))
            targets = info[c.label].clone()
            if name == "train":
                info["clean_targets"] = targets.clone()
                info["noisy"] = torch.zeros(len(idx), dtype=torch.bool)
            splits[name] = Split(torch.from_numpy(np.ascontiguousarray(x[idx])), targets, info)
        return splits
