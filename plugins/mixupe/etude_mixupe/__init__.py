"""etude-mixupe: mixup and MixupE (Zou et al., UAI 2023) augmenters, tasks with label noise, supervised training."""

from etude.lazy import lazy_exports

_EXPORTS = {
    "Mixup": "mixup",
    "MixupE": "mixup",
    "expected_one_minus_lambda": "mixup",
    "mix": "mixup",
    "sample_lambda": "mixup",
    "sample_permutation": "mixup",
    "MLP": "models",
    "asymmetric_map": "noise",
    "inject_label_noise": "noise",
    "SupervisedTraining": "procedure",
    "BreastCancer": "tasks",
    "Digits": "tasks",
    "MNIST1D": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
