"""Relevancy screening for self-attentive RNNs (Kerg et al., NeurIPS 2020, arXiv:2006.09471) as etude components.

Public API: :class:`AdditiveAttention` (``attention/additive``), :class:`ModReLU`
(``neuron/modrelu``), :class:`RelevancyMemory` and :class:`FullMemory` (library),
:class:`SelfAttentiveRNN` (``model/self-attentive-rnn``), :class:`Denoise`
(``task/denoise``), :func:`recall_accuracy`, and the training helpers
:func:`train_copy` (copy / denoise) and :func:`train_psmnist` (permuted sequential MNIST).
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "AdditiveAttention": "attention",
    "AdditiveAttentionConfig": "attention",
    "ModReLU": "neurons",
    "ModReLUConfig": "neurons",
    "RelevancyMemory": "memory",
    "FullMemory": "memory",
    "SelfAttentiveRNN": "model",
    "SelfAttentiveRNNConfig": "model",
    "Trace": "model",
    "Denoise": "tasks",
    "DenoiseConfig": "tasks",
    "recall_accuracy": "tasks",
    "train_copy": "training",
    "train_psmnist": "training",
    "PSMNIST_PERMUTATION": "training",
    "saved_tensor_bytes": "training",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
