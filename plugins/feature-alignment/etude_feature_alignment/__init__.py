"""etude plugin for Baratin et al., "Implicit Regularization via Neural Feature Alignment" (AISTATS 2021).

Library (stable API, imported by other plugins): :class:`TangentKernel`
(empirical tangent kernel of any torch model: per-example Jacobians,
full / trace / diagonal Grams, per-layer Grams, ``Tr K``, an ``ntk-vp``
path), :func:`kernel_alignment`, :func:`centre_blocks`, :func:`label_kernel`,
:func:`effective_rank`. Registered: the similarity
:class:`KernelTargetAlignment` (``similarity/kernel-target-alignment``).
Callbacks of the core loop: :class:`AlignmentTracker`,
:class:`PathComplexity`, :class:`StopAtTrainAccuracy`. Random labels:
:func:`shuffle_labels`, :class:`RandomLabels`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "IMPLEMENTATIONS": "tangent",
    "MODES": "tangent",
    "TangentKernel": "tangent",
    "full_to": "tangent",
    "layer_of": "tangent",
    "KernelTargetAlignment": "alignment",
    "KernelTargetAlignmentConfig": "alignment",
    "centre_blocks": "alignment",
    "effective_rank": "alignment",
    "kernel_alignment": "alignment",
    "label_kernel": "alignment",
    "AlignmentTracker": "callbacks",
    "PathComplexity": "callbacks",
    "StopAtTrainAccuracy": "callbacks",
    "log_schedule": "callbacks",
    "path_complexity": "callbacks",
    "RandomLabels": "labels",
    "RandomLabelsConfig": "labels",
    "shuffle_labels": "labels",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
