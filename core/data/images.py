"""Image datasets read from a local folder: MNIST, Fashion-MNIST (IDX files) and CIFAR-10 (binary version).

Nothing is downloaded. The folder is the task's ``root`` field, else the
``ETUDE_DATA`` environment variable, else ``~/etude-data``; inside it:

.. code-block:: text

    <root>/mnist/            train-images-idx3-ubyte  train-labels-idx1-ubyte
                             t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte   (each may end in .gz)
    <root>/fashion-mnist/    the same four names (Zalando's files)
    <root>/cifar-10-batches-bin/  data_batch_1.bin ... data_batch_5.bin  test_batch.bin

A missing folder or file raises :class:`~etude.data.DataNotFoundError`
naming the folder and the expected files; a file of the wrong size raises
:class:`~etude.data.DataFormatError` naming the path.
"""

from __future__ import annotations

import pathlib

import numpy as np

from etude.config import configclass, field

from .base import (
    ClassificationTask,
    label_noise_field,
    noise_type_field,
    seed_field,
    standardize_field,
    train_size_field,
    val_fraction_field,
)
from .errors import DataFormatError
from .label_noise import CIFAR10_ASYMMETRIC_MAP
from .readers import CIFAR_TEST_FILES, CIFAR_TRAIN_FILES, data_root, find_files, read_cifar10_batch, read_idx

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _root_field():
    return field(default=None, doc="folder holding the dataset folders (None: $ETUDE_DATA, else ~/etude-data)")


@configclass
class LocalImagesConfig:
    root: str | None = _root_field()
    seed: int = seed_field()
    val_fraction: float = val_fraction_field()
    train_size: int | None = train_size_field()
    label_noise: float = label_noise_field()
    noise_type: str = noise_type_field()
    standardize: bool = standardize_field(False)


class _LocalImages(ClassificationTask):
    """Shared logic: official train / test sets from ``<root>/<folder>``, pixels scaled to [0, 1]."""

    Config = LocalImagesConfig
    folder = ""
    num_classes = 10
    per_channel = True

    def dataset_folder(self) -> pathlib.Path:
        return data_root(self.config.root) / self.folder

    def load_fixed(self):
        x_tr, y_tr, x_te, y_te = self.read(self.dataset_folder())
        return (x_tr.astype(np.float32) / 255.0, y_tr, x_te.astype(np.float32) / 255.0, y_te)


def _read_idx_set(folder: pathlib.Path, dataset: str):
    paths = find_files(folder, IDX_FILES, dataset=dataset, allow_gz=True)
    x_tr, y_tr, x_te, y_te = (read_idx(p) for p in paths)
    for images, labels, ip, lp in ((x_tr, y_tr, paths[0], paths[1]), (x_te, y_te, paths[2], paths[3])):
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataFormatError(str(ip), f"expected images (N, 28, 28), the header says {images.shape}")
        if labels.shape != (images.shape[0],):
            raise DataFormatError(str(lp), f"expected {images.shape[0]} labels to match {ip.name}, got {labels.shape}")
        if labels.size and int(labels.max()) > 9:
            raise DataFormatError(str(lp), f"label {int(labels.max())} outside 0..9")
    return x_tr[:, None], y_tr.astype(np.int64), x_te[:, None], y_te.astype(np.int64)


class MNIST(_LocalImages):
    """MNIST handwritten digits from the four IDX files in ``<root>/mnist``: (N, 1, 28, 28) in [0, 1], 10 classes.

    60000 train / 10000 test (the official sets); ``val_fraction`` and
    ``train_size`` take stratified, seeded subsets of the training set;
    ``standardize`` uses the train split's per-channel mean and std.

    References:
        Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
        document recognition", Proc. IEEE 1998.

    Examples:
        >>> from etude.data import DataNotFoundError
        >>> try:
        ...     MNIST(root="/nonexistent").split("train")
        ... except DataNotFoundError as error:
        ...     print(error.folder, error.expected[0])
        /nonexistent/mnist train-images-idx3-ubyte
    """

    folder = "mnist"
    input_shape = (1, 28, 28)

    def read(self, folder):
        return _read_idx_set(folder, "mnist")


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) from the four IDX files in ``<root>/fashion-mnist``: (N, 1, 28, 28), 10 classes.

    Same file names and layout as MNIST; 60000 train / 10000 test.

    References:
        H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking
        Machine Learning Algorithms", arXiv:1708.07747, 2017.
    """

    folder = "fashion-mnist"

    def read(self, folder):
        return _read_idx_set(folder, "fashion-mnist")


def _read_cifar10(folder: pathlib.Path):
    paths = find_files(folder, CIFAR_TRAIN_FILES + CIFAR_TEST_FILES, dataset="cifar10")
    batches = [read_cifar10_batch(p) for p in paths]
    train, test = batches[:5], batches[5]
    return (np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train]), test[0], test[1])


class CIFAR10(_LocalImages):
    """CIFAR-10 from the binary batches in ``<root>/cifar-10-batches-bin``: (N, 3, 32, 32) in [0, 1], 10 classes.

    50000 train / 10000 test. Records are parsed with numpy (no pickle).
    Classes: airplane, automobile, bird, cat, deer, dog, frog, horse, ship,
    truck; asymmetric noise uses Patrini et al.'s CIFAR-10 map.

    References:
        A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", tech. report 2009.
    """

    folder = "cifar-10-batches-bin"
    input_shape = (3, 32, 32)
    asymmetric_class_map = CIFAR10_ASYMMETRIC_MAP
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    def read(self, folder):
        return _read_cifar10(folder)


__all__ = ["CIFAR10", "IDX_FILES", "MNIST", "FashionMNIST", "LocalImagesConfig"]
