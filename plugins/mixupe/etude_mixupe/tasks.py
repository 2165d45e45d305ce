"""Classification tasks on data shipped with PyPI packages, with optional label noise.

Three tasks share one set of config fields (``seed``, ``label_noise``,
``noise_type``, ``test_fraction``) and one contract: the train
:class:`~etude.kinds.Split` always carries ``info["clean_targets"]`` (int64)
and ``info["noisy"]`` (bool mask of flipped labels; all False without
noise), and its ``targets`` are the (possibly noisy) training labels. The
test split is always clean. Nothing is downloaded.

- ``task/mnist1d``: MNIST-1D (Greydanus, 2020) from the ``mnist1d`` package's
  offline generator ``make_dataset(get_dataset_args())``; 40-dim sequences,
  10 classes, already standardised by the generator.
- ``task/digits``: scikit-learn's 8x8 digits, 64 features scaled to [0, 1].
- ``task/breast-cancer``: scikit-learn's Wisconsin breast cancer, 30 features
  standardised with the train split's mean and standard deviation.
"""

from __future__ import annotations

import functools
import random
from typing import Any, ClassVar

import numpy as np
import torch

from etude.config import configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Split, Task

from .noise import NOISE_TYPES, inject_label_noise

_NOISE_SEED_OFFSET = 7919  # the noise generator is seeded apart from the split


def _seed_field() -> Any:
    return field(default=0, validator=non_negative, doc="seed of the split, the data generator and the label noise")


def _label_noise_field() -> Any:
    return field(
        default=0.0, validator=in_range(0.0, 1.0, high_open=True),
        doc="fraction of training labels flipped (of the eligible ones for asymmetric noise)",
    )


def _noise_type_field() -> Any:
    return field(default="symmetric", validator=one_of(*NOISE_TYPES), doc="'symmetric' or 'asymmetric' label noise")


def _test_fraction_field(default: float) -> Any:
    return field(
        default=default, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
        doc="fraction of the examples held out as the test split (stratified and seeded for scikit-learn data)",
    )


@configclass
class SklearnTaskConfig:
    seed: int = _seed_field()
    label_noise: float = _label_noise_field()
    noise_type: str = _noise_type_field()
    test_fraction: float = _test_fraction_field(0.25)


@configclass
class MNIST1DConfig:
    seed: int = _seed_field()
    label_noise: float = _label_noise_field()
    noise_type: str = _noise_type_field()
    test_fraction: float = _test_fraction_field(0.2)
    num_samples: int = field(default=5000, validator=positive, doc="examples generated in total (train + test)")


class _LabelNoiseTask(Task):
    """Shared logic: split, then corrupt the train labels and record the mask."""

    def _finish(self, x_train, y_train, x_test, y_test) -> dict[str, Split]:
        c = self.config
        y_train = torch.as_tensor(y_train, dtype=torch.int64)
        y_test = torch.as_tensor(y_test, dtype=torch.int64)
        if c.label_noise > 0:
            g = torch.Generator().manual_seed(int(c.seed) + _NOISE_SEED_OFFSET)
            noisy_y, mask = inject_label_noise(y_train, self.num_classes, c.label_noise, c.noise_type, generator=g)
        else:
            noisy_y, mask = y_train.clone(), torch.zeros_like(y_train, dtype=torch.bool)
        train = Split(
            torch.as_tensor(x_train, dtype=torch.float32).contiguous(),
            noisy_y,
            {"clean_targets": y_train, "noisy": mask},
        )
        test = Split(torch.as_tensor(x_test, dtype=torch.float32).contiguous(), y_test)
        return {"train": train, "test": test}

    def _stratified(self, x: np.ndarray, y: np.ndarray):
        from sklearn.model_selection import train_test_split  # noqa: PLC0415

        return train_test_split(x, y, test_size=self.config.test_fraction, stratify=y, random_state=int(self.config.seed))


class Digits(_LabelNoiseTask):
    """scikit-learn's 8x8 handwritten digits: 1797 images as 64 features in [0, 1], 10 classes.

    The split is stratified and seeded (``test_fraction`` held out); pixel
    values (0..16) are divided by 16. Optional symmetric or asymmetric label
    noise corrupts only the train split (see :mod:`etude_mixupe.noise`).

    References:
        Alpaydin and Kaynak, "Optical Recognition of Handwritten Digits", UCI 1998
        (bundled with scikit-learn as ``load_digits``).

    Examples:
        >>> task = Digits(seed=0, label_noise=0.2)
        >>> train = task.split("train")
        >>> train.inputs.shape, int(train.info["noisy"].sum()) == round(0.2 * len(train))
        (torch.Size([1347, 64]), True)
    """

    Config = SklearnTaskConfig
    num_classes = 10
    input_shape = (64,)

    def make_splits(self) -> dict[str, Split]:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        data = load_digits()
        x_tr, x_te, y_tr, y_te = self._stratified((data.data / 16.0).astype(np.float32), data.target)
        return self._finish(x_tr, y_tr, x_te, y_te)


class BreastCancer(_LabelNoiseTask):
    """scikit-learn's Wisconsin breast cancer data: 569 examples, 30 standardised features, 2 classes.

    Features are standardised with the train split's mean and standard
    deviation (the test split uses the same statistics). Optional label noise
    corrupts only the train split; with two classes, asymmetric noise swaps
    the classes (see :func:`etude_mixupe.noise.asymmetric_map`).

    References:
        Street, Wolberg and Mangasarian, "Nuclear feature extraction for breast tumor
        diagnosis", SPIE 1993 (bundled with scikit-learn as ``load_breast_cancer``).

    Examples:
        >>> task = BreastCancer(seed=0)
        >>> x = task.split("train").inputs
        >>> x.shape, bool(x.mean(0).abs().max() < 1e-4)
        (torch.Size([426, 30]), True)
    """

    Config = SklearnTaskConfig
    num_classes = 2
    input_shape = (30,)

    def make_splits(self) -> dict[str, Split]:
        from sklearn.datasets import load_breast_cancer  # noqa: PLC0415

        data = load_breast_cancer()
        x_tr, x_te, y_tr, y_te = self._stratified(data.data.astype(np.float64), data.target)
        mean, std = x_tr.mean(0), x_tr.std(0)
        std = np.where(std > 0, std, 1.0)
        return self._finish((x_tr - mean) / std, y_tr, (x_te - mean) / std, y_te)


class MNIST1D(_LabelNoiseTask):
    """MNIST-1D (Greydanus, 2020): 10 classes of 40-dim 1-D signals from the offline generator.

    Data come from ``mnist1d.data.make_dataset`` with the package's default
    arguments (``get_dataset_args()``), except ``seed = 42 + seed`` (so
    ``seed=0`` is the canonical dataset: 4000 train / 1000 test),
    ``num_samples`` and ``train_split = 1 - test_fraction``; the generator's
    own shuffle and split are kept. Never downloads (``get_dataset`` would).
    Generation takes about 2 s and is cached per configuration. Optional
    label noise corrupts only the train split.

    References:
        S. Greydanus, "Scaling down Deep Learning" (MNIST-1D), arXiv:2011.14439, 2020.

    Examples:
        >>> task = MNIST1D(num_samples=500)
        >>> task.split("train").inputs.shape, task.split("test").inputs.shape
        (torch.Size([400, 40]), torch.Size([100, 40]))
    """

    Config = MNIST1DConfig
    num_classes = 10
    input_shape = (40,)
    canonical_seed: ClassVar[int] = 42

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        x_tr, y_tr, x_te, y_te = _mnist1d(self.canonical_seed + int(c.seed), int(c.num_samples), float(c.test_fraction))
        if len(y_tr) == 0 or len(y_te) == 0:
            raise ValueError(
                f"num_samples={c.num_samples} with test_fraction={c.test_fraction} leaves an empty split; "
                "raise num_samples"
            )
        return self._finish(x_tr, y_tr, x_te, y_te)


@functools.lru_cache(maxsize=16)
def _mnist1d(seed: int, num_samples: int, test_fraction: float):
    from mnist1d.data import get_dataset_args, make_dataset  # noqa: PLC0415

    args = get_dataset_args()
    args.seed, args.num_samples, args.train_split = seed, num_samples, 1.0 - test_fraction
    # make_dataset reseeds numpy's and python's global RNGs: restore them afterwards
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    as_float = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    return as_float(data["x"]), data["y"].astype(np.int64), as_float(data["x_test"]), data["y_test"].astype(np.int64)
