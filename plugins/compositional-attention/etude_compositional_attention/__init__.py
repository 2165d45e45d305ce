"""Compositional Attention (Mittal et al., ICLR 2022) as etude components.

Public API: :class:`CompositionalAttention` (``attention/compositional``),
:class:`ContextualRetrieval` (``task/contextual-retrieval``) and
:class:`RetrievalTransformer` (``model/retrieval-transformer``).
"""

from .attention import CompositionalAttention, CompositionalAttentionConfig, attention_parameter_count
from .models import RetrievalTransformer, RetrievalTransformerConfig
from .tasks import ContextualRetrieval, ContextualRetrievalConfig

__all__ = [
    "CompositionalAttention",
    "CompositionalAttentionConfig",
    "ContextualRetrieval",
    "ContextualRetrievalConfig",
    "RetrievalTransformer",
    "RetrievalTransformerConfig",
    "attention_parameter_count",
]
