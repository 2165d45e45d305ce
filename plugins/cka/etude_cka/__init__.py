"""etude plugin for Davari et al., "Reliability of CKA as a Similarity Measure in Deep Learning" (ICLR 2023).

Similarity metrics (registered): :class:`LinearCKA`, :class:`RBFCKA`,
:class:`DebiasedCKA`. Library pieces: :class:`MinibatchCKA` (unbiased HSIC
accumulated over batches), :func:`cka_map` / :func:`compare_networks` /
:func:`plot_cka_map` (layer x layer maps via forward hooks), the paper's
manipulations (:func:`translate_subset`, :func:`translate_outlier`,
:func:`translation_limit`, :func:`invertible_linear_map`) and
:class:`CKAMapTraining` (the map-matching fine-tuning procedure).
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "DebiasedCKA": "debiased",
    "DebiasedCKAConfig": "debiased",
    "LinearCKA": "linear",
    "LinearCKAConfig": "linear",
    "linear_cka": "linear",
    "invertible_linear_map": "manipulations",
    "random_direction": "manipulations",
    "translate_outlier": "manipulations",
    "translate_subset": "manipulations",
    "translation_limit": "manipulations",
    "AccuracyToleranceScheduler": "map_training",
    "CKAMapLoss": "map_training",
    "CKAMapTraining": "map_training",
    "CKAMapTrainingConfig": "map_training",
    "log_cosh": "map_training",
    "make_mlp": "map_training",
    "target_map": "map_training",
    "cka_map": "maps",
    "compare_networks": "maps",
    "minibatch_cka_map": "maps",
    "plot_cka_map": "maps",
    "record_activations": "maps",
    "MinibatchCKA": "minibatch",
    "RBFCKA": "rbf",
    "RBFCKAConfig": "rbf",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
