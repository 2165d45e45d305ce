"""The shared config vocabulary of the data layer and the pipeline every classification task runs.

Every classification task takes the same fields (:func:`task_fields` adds
them to a config class): ``seed``, ``test_fraction`` (tasks without a fixed
test set), ``val_fraction``, ``train_size``, ``label_noise``,
``noise_type`` and ``standardize``; each task documents its defaults. The
pipeline (:class:`ClassificationTask.make_splits`):

1. the task's arrays: one pool ``(x, y)`` split into train / test,
   stratified by class and seeded (scikit-learn's ``train_test_split`` with
   ``random_state=seed``; ``ceil(test_fraction * N)`` test examples, as
   scikit-learn rounds), or a fixed train / test pair (MNIST-1D's
   generator split, the official MNIST / CIFAR-10 test sets);
2. ``val_fraction > 0``: a stratified, seeded "val" split carved out of
   train (``ceil(val_fraction * N)`` examples, N the pool size, or the
   official training set's size for fixed test sets);
3. ``train_size``: a stratified, seeded subset of the remaining train split;
4. ``standardize``: inputs become ``(x - mean) / std`` with the mean and
   (population) standard deviation of the *final train split only*, per
   feature (per channel for images); zero-spread features keep ``std = 1``;
5. ``label_noise > 0``: :func:`etude.data.label_noise.noisy_split` on the
   train split. The train split always carries ``info["clean_targets"]``
   (int64) and ``info["noisy"]`` (bool; all False without noise); val and
   test stay clean.

Every split's ``info["index"]`` (int64) holds each example's row in the
pool (or in the official train / test set), so per-example annotations
(difficulty scores, c-scores) can be joined to it. Inputs are float32, classification targets int64.
"""

from __future__ import annotations

from typing import Any, ClassVar

import math

import numpy as np
import torch

from etude.config import FieldValueError, field, in_range, non_negative, one_of
from etude.kinds import Split, Task

from .label_noise import NOISE_TYPES, noisy_split


def optional_positive_int(instance: Any, attribute: Any, value: Any) -> None:
    """Validator: None or an integer >= 1."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise FieldValueError(attribute.name, value, "None or an integer >= 1")


def seed_field() -> Any:
    return field(default=0, validator=non_negative, doc="seed of the splits, the data generator and the label noise")


def test_fraction_field(default: float) -> Any:
    return field(default=default, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
                 doc="fraction of the examples held out as the test split (stratified, seeded)")


def val_fraction_field(default: float = 0.0) -> Any:
    return field(default=default, validator=in_range(0.0, 1.0, high_open=True),
                 doc="fraction of the examples carved out of train as a 'val' split (stratified; 0: no val split)")


def train_size_field() -> Any:
    return field(default=None, validator=optional_positive_int,
                 doc="keep a stratified, seeded subset of this many training examples (None: all)")


def label_noise_field() -> Any:
    return field(default=0.0, validator=in_range(0.0, 1.0, high_open=True),
                 doc="fraction of training labels flipped (of the eligible ones for asymmetric noise)")


def noise_type_field() -> Any:
    return field(default="symmetric", validator=one_of(*NOISE_TYPES), doc="'symmetric' or 'asymmetric' label noise")


def standardize_field(default: bool) -> Any:
    return field(default=default, doc="standardise inputs with the train split's mean and std")


def stratified_split(y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(rest, held_out)`` with ``len(held_out) == size``, stratified by ``y`` and seeded.

    Uses scikit-learn's ``train_test_split(stratify=y, random_state=seed)``;
    every class keeps its share up to rounding.
    """
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    n = len(y)
    if not 0 < size < n:
        raise ValueError(f"a held-out split of {size} of {n} examples leaves an empty split; change the fractions")
    classes = np.unique(y).size
    if size < classes or n - size < classes:
        raise ValueError(f"a stratified split of {size} of {n} examples cannot hold all {classes} classes on both sides")
    rest, held = train_test_split(np.arange(n), test_size=size, stratify=y, random_state=int(seed))
    return rest, held


def standardizer(x: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` of train inputs ``x`` (N, ...) per feature, or per channel (axis 1) for images."""
    axes = (0, *range(2, x.ndim)) if per_channel and x.ndim > 2 else (0,)
    mean = x.mean(axis=axes, keepdims=True, dtype=np.float64)
    std = x.std(axis=axes, keepdims=True, dtype=np.float64)
    return mean, np.where(std > 1e-12, std, 1.0)


class ClassificationTask(Task):
    """Base of the data layer's classification tasks: subclasses provide arrays, the pipeline does the rest.

    Subclasses set ``num_classes``, ``input_shape`` and implement either
    :meth:`load_pool` (one ``(x, y)`` pool; the config then has
    ``test_fraction``) or :meth:`load_fixed` (``(x_train, y_train, x_test,
    y_test)``). ``per_channel = True`` standardises per channel (axis 1).
    ``asymmetric_class_map`` overrides the default map of asymmetric noise.
    """

    split_names: ClassVar[tuple[str, ...]] = ("train", "test")
    per_channel: ClassVar[bool] = False
    asymmetric_class_map: ClassVar[dict[int, int] | None] = None

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if getattr(self.config, "val_fraction", 0.0) > 0:
            self.split_names = ("train", "val", "test")

    def load_pool(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def load_fixed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        return None

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        seed = int(c.seed)
        fixed = self.load_fixed()
        if fixed is None:
            x, y = self.load_pool()
            n_total = len(y)
            train_idx, test_idx = stratified_split(y, math.ceil(c.test_fraction * n_total - 1e-9), seed)
            x_tr, y_tr, x_te, y_te = x, y, x, y
        else:
            x_tr, y_tr, x_te, y_te = fixed
            n_total = len(y_tr)
            train_idx, test_idx = np.arange(n_total), np.arange(len(y_te))
        chosen = {"train": train_idx, "test": test_idx}
        val_fraction = getattr(c, "val_fraction", 0.0)
        if val_fraction > 0:
            keep, val = stratified_split(y_tr[train_idx], math.ceil(val_fraction * n_total - 1e-9), seed)
            chosen["val"], chosen["train"] = train_idx[val], train_idx[keep]
        train_size = getattr(c, "train_size", None)
        if train_size is not None and train_size < len(chosen["train"]):
            _, sub = stratified_split(y_tr[chosen["train"]], int(train_size), seed + 1)
            chosen["train"] = chosen["train"][np.sort(sub)]
        source = {"train": (x_tr, y_tr), "val": (x_tr, y_tr), "test": (x_te, y_te)}
        parts = {k: (source[k][0][chosen[k]], source[k][1][chosen[k]]) for k in ("train", "val", "test") if k in chosen}
        if getattr(c, "standardize", False):
            mean, std = standardizer(parts["train"][0], self.per_channel)
            parts = {k: ((v[0] - mean) / std, v[1]) for k, v in parts.items()}
        splits = {k: Split(torch.from_numpy(np.array(v[0], dtype=np.float32, order="C")),
                           torch.from_numpy(np.array(v[1], dtype=np.int64)),
                           {"index": torch.from_numpy(np.array(chosen[k], dtype=np.int64))})
                  for k, v in parts.items()}
        splits["train"] = noisy_split(splits["train"], int(self.num_classes), float(getattr(c, "label_noise", 0.0)),
                                      getattr(c, "noise_type", "symmetric"), seed, self.asymmetric_class_map)
        return splits


__all__ = [
    "ClassificationTask",
    "label_noise_field",
    "noise_type_field",
    "optional_positive_int",
    "seed_field",
    "standardize_field",
    "standardizer",
    "stratified_split",
    "test_fraction_field",
    "train_size_field",
    "val_fraction_field",
]
