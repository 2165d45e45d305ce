"""Errors of the data layer: a missing dataset folder, a malformed data file."""

from __future__ import annotations

from etude.registry.errors import EtudeError


class DataNotFoundError(EtudeError, FileNotFoundError):
    """A dataset's files are not where the task looks for them.

    The message names the folder searched, the files expected there and how
    to point etude at them (the task's ``root`` field or ``ETUDE_DATA``).
    A claim whose ``full`` scale needs such data records "not run: data not
    found" with this message instead of failing.

    Attributes:
        folder: the folder that was searched.
        expected: the file names expected in it.
    """

    def __init__(self, message: str, *, folder: str = "", expected: tuple[str, ...] = ()) -> None:
        self.folder, self.expected = folder, tuple(expected)
        super().__init__(message)


class DataFormatError(EtudeError, ValueError):
    """A data file exists but has the wrong size or header; the message names the path and what was expected."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {problem}")


__all__ = ["DataFormatError", "DataNotFoundError"]
