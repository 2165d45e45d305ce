"""IDX and CIFAR-10 binary readers and the local-folder image tasks, on small files the tests write."""

from __future__ import annotations

import gzip
import pathlib

import numpy as np
import pytest
import torch

import etude
from etude.data import CIFAR10, MNIST, DataFormatError, DataNotFoundError
from etude.data.readers import data_root, read_cifar10_batch, read_idx, write_cifar10_batch, write_idx
from etude.testing.conformance import TaskConformance

RNG = np.random.default_rng(0)


def _write_mnist(folder: pathlib.Path, n_train=60, n_test=20, gz=False, rng=RNG) -> tuple[np.ndarray, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    x_tr = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y_tr = np.tile(np.arange(10, dtype=np.uint8), n_train // 10)
    x_te = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_te = np.tile(np.arange(10, dtype=np.uint8), n_test // 10)
    suffix = ".gz" if gz else ""
    for name, array in (("train-images-idx3-ubyte", x_tr), ("train-labels-idx1-ubyte", y_tr),
                        ("t10k-images-idx3-ubyte", x_te), ("t10k-labels-idx1-ubyte", y_te)):
        write_idx(folder / f"{name}{suffix}", array)
    return x_tr, y_tr, x_te, y_te


def _write_cifar(folder: pathlib.Path, per_batch=20, rng=RNG) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = [], []
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        x = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        y = np.tile(np.arange(10), per_batch // 10)
        write_cifar10_batch(folder / name, x, y)
        images.append(x)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, dtype, gz):
    array = (RNG.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


def test_idx_header_layout_is_big_endian(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.arange(3, dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2])


def test_idx_truncated_or_bad_files_name_the_path(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", RNG.integers(0, 255, (4, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataFormatError, match=str(path).replace(".", r"\.") + ".*truncated"):
        read_idx(path)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(DataFormatError, match="bad.*not an IDX"):
        read_idx(bad)
    broken = tmp_path / "x.gz"
    broken.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")[:-3])
    with pytest.raises(DataFormatError, match="x.gz"):
        read_idx(broken)


def test_cifar_round_trip_and_truncation(tmp_path):
    x = RNG.integers(0, 256, (7, 3, 32, 32), dtype=np.uint8)
    y = np.arange(7) % 10
    path = write_cifar10_batch(tmp_path / "data_batch_1.bin", x, y)
    assert path.stat().st_size == 7 * 3073
    bx, by = read_cifar10_batch(path)
    assert np.array_equal(bx, x) and np.array_equal(by, y) and by.dtype == np.int64
    # channel-major records: the first 1024 pixel bytes are the red plane
    assert path.read_bytes()[1:1025] == x[0, 0].tobytes()
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFormatError, match=r"data_batch_1\.bin.*3073"):
        read_cifar10_batch(path)


def test_mnist_task_reads_the_folder(tmp_path):
    x_tr, y_tr, x_te, y_te = _write_mnist(tmp_path / "mnist")
    task = MNIST(root=str(tmp_path))
    train, test = task.split("train"), task.split("test")
    assert train.inputs.shape == (60, 1, 28, 28) and test.inputs.shape == (20, 1, 28, 28)
    torch.testing.assert_close(train.inputs, torch.from_numpy(x_tr[:, None] / 255.0).float())
    assert torch.equal(test.targets, torch.from_numpy(y_te.astype(np.int64)))
    split = MNIST(root=str(tmp_path), val_fraction=0.2, standardize=True).splits()
    assert len(split["val"]) == 12 and abs(float(split["train"].inputs.mean())) < 1e-4


def test_fashion_mnist_gz_and_env_variable(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "fashion-mnist", gz=True)
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path))
    assert data_root() == tmp_path
    task = etude.create("task", "fashion-mnist")
    assert task.split("train").inputs.shape == (60, 1, 28, 28)


def test_cifar10_task_and_asymmetric_map(tmp_path):
    images, labels = _write_cifar(tmp_path / "cifar-10-batches-bin")
    task = CIFAR10(root=str(tmp_path), label_noise=0.5, noise_type="asymmetric")
    train, test = task.split("train"), task.split("test")
    assert train.inputs.shape == (100, 3, 32, 32) and len(test) == 20
    torch.testing.assert_close(test.inputs, torch.from_numpy(images[100:] / 255.0).float())
    flipped = train.info["clean_targets"][train.info["noisy"]]
    assert set(flipped.tolist()) <= {2, 3, 4, 5, 9} and int(train.info["noisy"].sum()) == 25


def test_missing_folder_says_where_the_files_go(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        MNIST(root=str(tmp_path)).split("train")
    message = str(info.value)
    assert str(tmp_path / "mnist") in message and "train-images-idx3-ubyte" in message and "ETUDE_DATA" in message
    assert info.value.folder == str(tmp_path / "mnist") and len(info.value.expected) == 4
    assert isinstance(info.value, FileNotFoundError)
    (tmp_path / "cifar-10-batches-bin").mkdir()
    with pytest.raises(DataNotFoundError, match="lacks data_batch_1.bin"):
        CIFAR10(root=str(tmp_path)).split("train")


def test_wrong_sized_file_in_the_folder(tmp_path):
    _write_mnist(tmp_path / "mnist")
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte"):
        MNIST(root=str(tmp_path)).split("test")
    write_idx(path, np.arange(5, dtype=np.uint8))  # 5 labels for 20 images
    with pytest.raises(DataFormatError, match="labels"):
        MNIST(root=str(tmp_path)).split("test")


def _folder(prefix: str) -> pathlib.Path:
    import tempfile  # noqa: PLC0415

    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))


class TestMNISTFolder(TaskConformance):
    component = ("task", "mnist")

    def make_task(self, seed):
        root = _folder("etude-mnist-")
        _write_mnist(root / "mnist", rng=np.random.default_rng(0))
        return self.create(root=str(root), seed=seed, val_fraction=0.2)


class TestFashionMNISTFolder(TaskConformance):
    component = ("task", "fashion-mnist")

    def make_task(self, seed):
        root = _folder("etude-fmnist-")
        _write_mnist(root / "fashion-mnist", rng=np.random.default_rng(0))
        return self.create(root=str(root), seed=seed, val_fraction=0.2)


class TestCIFAR10Folder(TaskConformance):
    component = ("task", "cifar10")

    def make_task(self, seed):
        root = _folder("etude-cifar-")
        _write_cifar(root / "cifar-10-batches-bin", rng=np.random.default_rng(0))
        return self.create(root=str(root), seed=seed, val_fraction=0.2)
