"""Lazy re-exports for packages whose entry point must stay light.

A plugin's ``__init__.py`` is imported whenever its entry-point module
``etude_<slug>.plugin`` is, so eager re-exports there would import torch
during ``etude list``. Declare the public names instead::

    from etude.lazy import lazy_exports

    _EXPORTS = {"LinearCKA": "linear", "DebiasedCKA": "debiased"}
    __all__ = sorted(_EXPORTS)
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

Each name is imported from ``<package>.<module>`` on first access and cached.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` that import ``exports[name]`` (a submodule) on first use."""
    exports = dict(exports)

    def __getattr__(name: str) -> Any:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
