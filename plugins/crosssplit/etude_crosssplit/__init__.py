"""etude-crosssplit: CrossSplit (Kim et al., ICML 2023, arXiv:2212.01674) for etude.

Public API (imported lazily, so that loading the entry point stays light):
:class:`CrossSplit`, :class:`SplitNetworks`, :class:`CoTeaching`, the
equations in :mod:`etude_crosssplit.functional` and the disjoint split in
:mod:`etude_crosssplit.split`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "CoTeaching": "baselines",
    "CoTeachingConfig": "baselines",
    "SplitNetworks": "baselines",
    "SplitNetworksConfig": "baselines",
    "CrossSplit": "crosssplit",
    "CrossSplitConfig": "crosssplit",
    "SubsetLoader": "split",
    "disjoint_halves": "split",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
