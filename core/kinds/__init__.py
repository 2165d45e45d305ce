"""The component kinds: small abstract base classes with precise contracts."""

from ._component import Component
from .attention import AttentionMechanism, check_attention_inputs, key_weights
from .augmenter import AugmentedBatch, Augmenter, soft_cross_entropy, to_soft_targets
from .estimator import Estimator
from .model import Model
from .neuron import Neuron
from .procedure import Procedure, ProcedureResult
from .sampler import Sampler
from .similarity import SimilarityMetric, check_representations
from .target import Target
from .task import Split, Task


def __getattr__(name: str):
    if name in {"Environment", "register_gymnasium"}:
        from . import environment  # noqa: PLC0415 - gymnasium is an optional extra

        return getattr(environment, name)
    raise AttributeError(name)


__all__ = [
    "AttentionMechanism",
    "AugmentedBatch",
    "Augmenter",
    "Component",
    "Environment",
    "Estimator",
    "Model",
    "Neuron",
    "Procedure",
    "ProcedureResult",
    "Sampler",
    "SimilarityMetric",
    "Split",
    "Target",
    "Task",
    "check_attention_inputs",
    "check_representations",
    "key_weights",
    "soft_cross_entropy",
    "to_soft_targets",
]
