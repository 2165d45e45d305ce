"""Classification tasks on the data bundled with scikit-learn: digits, breast cancer, iris, wine.

All four share the config vocabulary of :mod:`etude.data.base` (stratified,
seeded train / val / test splits, train-split standardisation, label noise
on the train split). Nothing is downloaded: scikit-learn ships these files.
"""

from __future__ import annotations

import numpy as np

from etude.config import configclass

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


def _tabular_config(name: str, standardize_default: bool, test_default: float = 0.25) -> type:
    @configclass
    class TabularConfig:
        seed: int = seed_field()
        test_fraction: float = test_fraction_field(test_default)
        val_fraction: float = val_fraction_field()
        train_size: int | None = train_size_field()
        label_noise: float = label_noise_field()
        noise_type: str = noise_type_field()
        standardize: bool = standardize_field(standardize_default)

    TabularConfig.__name__ = TabularConfig.__qualname__ = f"{name}Config"
    return TabularConfig


class Digits(ClassificationTask):
    """scikit-learn's 8x8 handwritten digits: 1797 images as 64 features, 10 classes.

    Pixel values 0..16 are divided by 16 (inputs in [0, 1]); with
    ``standardize=True`` they are instead standardised per pixel with the
    train split's statistics. Default split: 1347 train / 450 test
    (``test_fraction=0.25``), stratified and seeded.

    References:
        E. Alpaydin, C. Kaynak, "Optical Recognition of Handwritten Digits", UCI 1998
        (bundled with scikit-learn as ``load_digits``).

    Examples:
        >>> task = Digits(seed=0, label_noise=0.2)
        >>> train = task.split("train")
        >>> train.inputs.shape, int(train.info["noisy"].sum()) == round(0.2 * len(train))
        (torch.Size([1347, 64]), True)
    """

    Config = _tabular_config("Digits", standardize_default=False)
    num_classes = 10
    input_shape = (64,)

    def load_pool(self) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        data = load_digits()
        return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


class BreastCancer(ClassificationTask):
    """scikit-learn's Wisconsin breast cancer data: 569 examples, 30 features, 2 classes.

    Features are standardised with the train split's mean and standard
    deviation by default (``standardize=True``). Default split 426 / 143.
    With two classes, asymmetric noise swaps the classes.

    References:
        W. N. Street, W. H. Wolberg, O. L. Mangasarian, "Nuclear feature extraction for breast
        tumor diagnosis", SPIE 1993 (bundled with scikit-learn as ``load_breast_cancer``).

    Examples:
        >>> x = BreastCancer(seed=0).split("train").inputs
        >>> x.shape, bool(x.mean(0).abs().max() < 1e-4)
        (torch.Size([426, 30]), True)
    """

    Config = _tabular_config("BreastCancer", standardize_default=True)
    num_classes = 2
    input_shape = (30,)

    def load_pool(self) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import load_breast_cancer  # noqa: PLC0415

        data = load_breast_cancer()
        return data.data.astype(np.float64), data.target.astype(np.int64)


class Iris(ClassificationTask):
    """Fisher's iris: 150 flowers, 4 measurements (standardised by default), 3 classes; default split 112 / 38.

    References:
        R. A. Fisher, "The use of multiple measurements in taxonomic problems", Annals of
        Eugenics 1936 (bundled with scikit-learn as ``load_iris``).

    Examples:
        >>> Iris().split("test").inputs.shape
        torch.Size([38, 4])
    """

    Config = _tabular_config("Iris", standardize_default=True)
    num_classes = 3
    input_shape = (4,)

    def load_pool(self) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import load_iris  # noqa: PLC0415

        data = load_iris()
        return data.data.astype(np.float64), data.target.astype(np.int64)


class Wine(ClassificationTask):
    """UCI wine recognition: 178 wines, 13 chemical features (standardised by default), 3 cultivars; split 133 / 45.

    References:
        M. Forina et al., "PARVUS", 1988; UCI wine data (bundled with scikit-learn as ``load_wine``).

    Examples:
        >>> Wine().split("train").inputs.shape
        torch.Size([133, 13])
    """

    Config = _tabular_config("Wine", standardize_default=True)
    num_classes = 3
    input_shape = (13,)

    def load_pool(self) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import load_wine  # noqa: PLC0415

        data = load_wine()
        return data.data.astype(np.float64), data.target.astype(np.int64)


__all__ = ["BreastCancer", "Digits", "Iris", "Wine"]
