"""Per-kind conformance suites: subclass one as ``TestX`` and define its ``make_*`` methods.

Example::

    from etude.testing.conformance import SimilarityConformance

    class TestLinearCKA(SimilarityConformance):
        component = ("similarity", "linear-cka")
"""

from ._base import ConformanceSuite, devices
from .attention import AttentionConformance
from .augmenter import AugmenterConformance
from .environment import EnvironmentConformance
from .estimator import EstimatorConformance
from .model import ModelConformance
from .neuron import NeuronConformance
from .procedure import ProcedureConformance
from .sampler import SamplerConformance
from .similarity import SimilarityConformance
from .target import TargetConformance
from .task import TaskConformance

SUITES = {
    "attention": AttentionConformance,
    "augmenter": AugmenterConformance,
    "environment": EnvironmentConformance,
    "estimator": EstimatorConformance,
    "model": ModelConformance,
    "neuron": NeuronConformance,
    "procedure": ProcedureConformance,
    "sampler": SamplerConformance,
    "similarity": SimilarityConformance,
    "target": TargetConformance,
    "task": TaskConformance,
}

__all__ = [
    "SUITES",
    "AttentionConformance",
    "AugmenterConformance",
    "ConformanceSuite",
    "EnvironmentConformance",
    "EstimatorConformance",
    "ModelConformance",
    "NeuronConformance",
    "ProcedureConformance",
    "SamplerConformance",
    "SimilarityConformance",
    "TargetConformance",
    "TaskConformance",
    "devices",
]
