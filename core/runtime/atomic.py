"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace``.

A crash at any point leaves either the old file or the new one, never a
truncated mix. A process killed mid-write (kill -9, power cut) leaves its
temp file behind; temp files are named ``.<name>.<host>.<pid>.<random>.tmp``
and the next write of the same file removes those of processes on this host
that are no longer alive (another live writer's temp file is left alone).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import tempfile
from collections.abc import Callable, Iterator
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside ``path``; on clean exit fsync and rename it over ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host()}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
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


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def remove_stale_temp_files(path: str | os.PathLike) -> list[pathlib.Path]:
    """Delete the temp files of ``path`` left by dead writers on this host; returns what was removed."""
    path = pathlib.Path(path)
    prefix, host = f".{path.name}.", _host()
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in path.parent.iterdir():
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(".tmp")):
                continue
            parts = name[len(prefix) : -len(".tmp")].split(".")
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            pid = int(parts[1])
            if pid != os.getpid() and not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[IO], None], mode: str = "wb") -> None:
    """Call ``write(handle)`` on a temp file, then atomically replace ``path``."""
    with atomic_open(path, mode) as handle:
        write(handle)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda h: h.write(text), mode="w")
