"""etude plugin for Mittal, Bengio and Lajoie, "Is a Modular Architecture Enough?" (NeurIPS 2022, arXiv:2206.02713).

Public library (stable; imported by etude-meta-rims and etude-brims):
:mod:`etude_modularity.group_linear` (:class:`GroupLinear`,
:class:`GroupLSTMCell`, :class:`GroupGRUCell`) and
:mod:`etude_modularity.metrics` (:func:`usage_matrix`, :func:`collapse_avg`,
:func:`collapse_worst`, :func:`inverse_mutual_information`,
:func:`alignment`, :func:`adaptation`, :func:`random_reference`,
:func:`specialisation_report`). Registered components: the rule tasks (per
example, over sets, over sequences) and the monolithic / modular /
modular-op / GT-modular networks in the MLP, MHA and RNN families.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "GroupGRUCell": "group_linear",
    "GroupLSTMCell": "group_linear",
    "GroupLinear": "group_linear",
    "group_matmul": "group_linear",
    "SpecialisationReport": "metrics",
    "adaptation": "metrics",
    "alignment": "metrics",
    "collapse_avg": "metrics",
    "collapse_worst": "metrics",
    "conditional_usage": "metrics",
    "inverse_mutual_information": "metrics",
    "mutual_information": "metrics",
    "random_reference": "metrics",
    "specialisation_report": "metrics",
    "usage_matrix": "metrics",
    "GTModular": "models",
    "Modular": "models",
    "ModularOp": "models",
    "Monolithic": "models",
    "RuleModelConfig": "models",
    "routing_of": "models",
    "SetModularBody": "mha",
    "SetMonolithicBody": "mha",
    "intermediate_width": "mha",
    "SequenceModularBody": "rnn",
    "SequenceMonolithicBody": "rnn",
    "module_hidden_size": "rnn",
    "RuleSequenceRegression": "sequence_task",
    "RuleSequenceTaskConfig": "sequence_task",
    "RuleSetRegression": "set_task",
    "RuleSetTaskConfig": "set_task",
    "RuleClassification": "tasks",
    "RuleRegression": "tasks",
    "RuleTaskConfig": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
