"""MNIST-1D (Greydanus, 2020) from the ``mnist1d`` package's offline generator; never its downloader."""

from __future__ import annotations

import functools
import random
from typing import ClassVar

import numpy as np

from etude.config import configclass, field, positive

from .base import (
    ClassificationTask,
    label_noise_field,
    noise_type_field,
    seed_field,
    standardize_field,
    test_fraction_field,
    train_size_field,
    val_fraction_field,
)


@configclass
class MNIST1DConfig:
    seed: int = seed_field()
    test_fraction: float = test_fraction_field(0.2)
    val_fraction: float = val_fraction_field()
    train_size: int | None = train_size_field()
    label_noise: float = label_noise_field()
    noise_type: str = noise_type_field()
    standardize: bool = standardize_field(False)
    num_samples: int = field(default=5000, validator=positive, doc="examples generated in total (train + test)")


class MNIST1D(ClassificationTask):
    """MNIST-1D: 10 classes of 40-dim 1-D signals, generated offline (no download).

    Data come from ``mnist1d.data.make_dataset`` with the package's default
    arguments (``get_dataset_args()``) except ``seed = 42 + seed`` (so
    ``seed=0`` is the canonical dataset: 4000 train / 1000 test),
    ``num_samples`` and ``train_split = 1 - test_fraction``. The generator's
    own shuffle and split are the train / test split (it is not
    re-stratified); ``val_fraction`` carves a stratified val split out of
    train. ``mnist1d.data.get_dataset`` would download a file: it is never
    called. Generation takes about 2 s and is cached per configuration; the
    global numpy and python RNGs, which the generator reseeds, are restored.

    References:
        S. Greydanus, "Scaling down Deep Learning" (MNIST-1D), arXiv:2011.14439, 2020;
        ICML 2024 version with D. Kobak.

    Examples:
        >>> task = MNIST1D(num_samples=500)
        >>> task.split("train").inputs.shape, task.split("test").inputs.shape
        (torch.Size([400, 40]), torch.Size([100, 40]))
    """

    Config = MNIST1DConfig
    num_classes = 10
    input_shape = (40,)
    canonical_seed: ClassVar[int] = 42

    def load_fixed(self):
        c = self.config
        x_tr, y_tr, x_te, y_te = _generate(self.canonical_seed + int(c.seed), int(c.num_samples), float(c.test_fraction))
        if len(y_tr) == 0 or len(y_te) == 0:
            raise ValueError(
                f"MNIST1D: num_samples={c.num_samples} with test_fraction={c.test_fraction} leaves an empty split; "
                "raise num_samples"
            )
        return x_tr, y_tr, x_te, y_te


@functools.lru_cache(maxsize=16)
def _generate(seed: int, num_samples: int, test_fraction: float):
    from mnist1d.data import get_dataset_args, make_dataset  # noqa: PLC0415 - offline generator only

    args = get_dataset_args()
    args.seed, args.num_samples, args.train_split = seed, num_samples, 1.0 - test_fraction
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    as_float = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    x_tr, y_tr = as_float(data["x"]), data["y"].astype(np.int64)
    x_te, y_te = as_float(data["x_test"]), data["y_test"].astype(np.int64)
    for a in (x_tr, y_tr, x_te, y_te):
        a.setflags(write=False)  # shared by the cache: never modified in place
    return x_tr, y_tr, x_te, y_te


__all__ = ["MNIST1D", "MNIST1DConfig"]
