"""etude-crosssplit: CrossSplit (Kim et al., ICML 2023, arXiv:2212.01674) for etude.

Public API (imported lazily, so that loading the entry point stays light):
:class:`CrossSplit`, :class:`SplitNetworks`, :class:`CoTeaching`, the
equations in :mod:`etude_crosssplit.functional` and the disjoint split in
:mod:`etude_crosssplit.split`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CrossSplit": "crosssplit",
    "CrossSplitConfig": "crosssplit",
    "SplitNetworks": "baselines",
    "SplitNetworksConfig": "baselines",
    "CoTeaching": "baselines",
    "CoTeachingConfig": "baselines",
    "SubsetLoader": "split",
    "disjoint_halves": "split",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
