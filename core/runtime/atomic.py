"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace``.

A crash at any point leaves either the old file or the new one, never a
truncated mix.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from collections.abc import Callable, Iterator
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside ``path``; on clean exit fsync and rename it over ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "wb") -> None:
    """Call ``write(handle)`` on a temp file, then atomically replace ``path``."""
    with atomic_open(path, mode) as handle:
        write(handle)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda h: h.write(text), mode="w")
