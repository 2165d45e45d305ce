"""Errors raised by the registry: each names what was asked for and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EtudeError(Exception):
    """Base class of every error etude raises on purpose."""


class RegistryError(EtudeError):
    """A registration was malformed (bad kind, duplicate name, bad factory)."""


class ComponentNotFoundError(EtudeError, LookupError):
    """An unknown kind or component name was asked for."""


class ComponentLoadError(EtudeError, ImportError):
    """A registered component's factory could not be imported (names kind/name, plugin, module).

    The original exception (``SyntaxError``, ``ModuleNotFoundError``, ...) is chained as ``__cause__``.
    """


class PluginLoadError(EtudeError):
    """A plugin failed to import or register (raised only in strict mode)."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``word`` (difflib ratio >= 0.5), best first."""
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.5)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` or an empty string."""
    matches = close_matches(word, candidates)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"
