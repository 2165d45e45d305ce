"""etude-mixupe: mixup and MixupE (Zou et al., UAI 2023) augmenters (tasks, the MLP and the supervised loop are the core's: etude.data)."""

from etude.lazy import lazy_exports

_EXPORTS = {
    "Mixup": "mixup",
    "MixupE": "mixup",
    "expected_one_minus_lambda": "mixup",
    "mix": "mixup",
    "sample_lambda": "mixup",
    "sample_permutation": "mixup",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
