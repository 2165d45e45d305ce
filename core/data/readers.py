"""Readers (and writers, for tests) of the on-disk formats of MNIST, Fashion-MNIST and CIFAR-10.

Nothing is downloaded: the files come from a local folder (see
:func:`data_root`). Both formats are parsed with numpy alone; nothing is
unpickled.

IDX (LeCun et al., MNIST; Xiao et al., Fashion-MNIST)
    A big-endian header ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian
    uint32 dimensions, then the array in C order. MNIST and Fashion-MNIST
    use type ``0x08`` (unsigned byte): images ``(N, 28, 28)`` (ndim 3) and
    labels ``(N,)`` (ndim 1). Files may be gzip-compressed (``.gz``).

CIFAR-10 binary version (Krizhevsky, 2009)
    ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin``,
    each a sequence of fixed-size records of 3073 bytes: one label byte
    (0..9), then 3072 pixel bytes, the 1024 red, 1024 green and 1024 blue
    values of a 32 x 32 image in row-major order. The official files hold
    10000 records each.

Examples:
    >>> import numpy as np, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    >>> _ = write_idx(folder / "x-idx3-ubyte", images)
    >>> bool((read_idx(folder / "x-idx3-ubyte") == images).all())
    True
"""

from __future__ import annotations

import gzip
import os
import pathlib

import numpy as np

from .errors import DataFormatError, DataNotFoundError

#: environment variable naming the folder that holds the local datasets
ENV_VAR = "ETUDE_DATA"
#: folder used when neither a task's ``root`` nor ``ETUDE_DATA`` is set
DEFAULT_ROOT = "~/etude-data"

_IDX_TYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}

CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_FILES = ("test_batch.bin",)


def data_root(root: str | os.PathLike | None = None) -> pathlib.Path:
    """The datasets folder: ``root`` if given, else ``$ETUDE_DATA``, else ``~/etude-data``."""
    chosen = root if root not in (None, "") else os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return pathlib.Path(chosen).expanduser()


def find_files(folder: pathlib.Path, names: tuple[str, ...], *, dataset: str, allow_gz: bool = False) -> list[pathlib.Path]:
    """The paths of ``names`` in ``folder`` (``name`` or ``name.gz``), or :class:`DataNotFoundError` listing them."""
    found, missing = [], []
    for name in names:
        candidates = [folder / name] + ([folder / f"{name}.gz"] if allow_gz else [])
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            missing.append(name)
        else:
            found.append(path)
    if missing:
        where = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise DataNotFoundError(
            f"{dataset}: the folder {folder} {where}. Put the files {', '.join(names)}"
            f"{' (or their .gz versions)' if allow_gz else ''} in {folder}, or point etude at another "
            f"folder with the task's 'root' field or the {ENV_VAR} environment variable "
            f"(the dataset folder is <root>/{folder.name}). Nothing is downloaded.",
            folder=str(folder), expected=names,
        )
    return found


def _read_bytes(path: pathlib.Path) -> bytes:
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as handle:
                return handle.read()
        except (OSError, EOFError) as exc:
            raise DataFormatError(str(path), f"not a readable gzip file ({exc})") from None
    return path.read_bytes()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an IDX file (optionally ``.gz``) into a numpy array in native byte order.

    Raises :class:`DataFormatError` (naming the path) on a bad magic number,
    an unknown type code, or a size that disagrees with the header (a
    truncated or padded file).
    """
    path = pathlib.Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataFormatError(str(path), "not an IDX file (the first two bytes must be zero)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise DataFormatError(str(path), f"unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFormatError(str(path), f"truncated IDX header: {len(raw)} bytes, the header needs {header}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataFormatError(
            str(path), f"{len(raw)} bytes, but its header {shape} of {dtype.name} needs {expected} "
            "(truncated or corrupted file: copy it again)",
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> pathlib.Path:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``); for tests and tools."""
    path = pathlib.Path(path)
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_IDX_TYPES[code]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


def read_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch: ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.

    Raises :class:`DataFormatError` (naming the path) when the size is not a
    positive multiple of the 3073-byte record, or a label is outside 0..9.
    """
    path = pathlib.Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR_RECORD:
        raise DataFormatError(
            str(path), f"{raw.size} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-10 records "
            "(1 label byte + 3072 pixel bytes; the official files hold 10000 records = 30730000 bytes): "
            "truncated or not the binary version (cifar-10-binary.tar.gz)",
        )
    records = raw.reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DataFormatError(str(path), f"label byte {int(labels.max())} outside 0..9: not a CIFAR-10 binary batch")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def write_cifar10_batch(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> pathlib.Path:
    """Write ``images`` uint8 (N, 3, 32, 32) and ``labels`` (N,) as a CIFAR-10 binary batch; for tests and tools."""
    images = np.asarray(images, dtype=np.uint8)
    labels = np.asarray(labels)
    if images.ndim != 4 or images.shape[1:] != (3, 32, 32) or labels.shape != (images.shape[0],):
        raise ValueError(f"need images (N, 3, 32, 32) and labels (N,), got {images.shape} and {labels.shape}")
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    path = pathlib.Path(path)
    path.write_bytes(records.tobytes())
    return path


__all__ = [
    "CIFAR_RECORD",
    "CIFAR_TEST_FILES",
    "CIFAR_TRAIN_FILES",
    "DEFAULT_ROOT",
    "ENV_VAR",
    "data_root",
    "find_files",
    "read_cifar10_batch",
    "read_idx",
    "write_cifar10_batch",
    "write_idx",
]
