"""Compositional Attention (Mittal et al., ICLR 2022) as etude components.

Public API: :class:`CompositionalAttention` (``attention/compositional``),
:class:`ContextualRetrieval` (``task/contextual-retrieval``) and
:class:`RetrievalTransformer` (``model/retrieval-transformer``), and the
search and competition kernels :func:`shared_value_attention` and
:func:`retrieval_competition`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "CompositionalAttention": "attention",
    "CompositionalAttentionConfig": "attention",
    "attention_parameter_count": "attention",
    "shared_value_attention": "search",
    "retrieval_competition": "competition",
    "RetrievalTransformer": "models",
    "RetrievalTransformerConfig": "models",
    "ContextualRetrieval": "tasks",
    "ContextualRetrievalConfig": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
