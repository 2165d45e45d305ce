"""Multi-head attention on ``torch.nn.functional.scaled_dot_product_attention``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from etude.config import configclass, field, in_range, positive
from etude.kinds import AttentionMechanism


@configclass
class MultiHeadAttentionConfig:
    embed_dim: int = field(validator=positive, doc="model width E of query, key, value and output")
    num_heads: int = field(default=4, validator=positive, doc="number of heads H (must divide embed_dim)")
    dropout: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True), doc="attention dropout in training")
    bias: bool = field(default=True, doc="bias in the input and output projections")
    output_projection: bool = field(default=True, doc="project the concatenated heads (False: return the "
                                    "concatenated head outputs, so each head's output stays its own)")

    def __attrs_post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            from etude.config import FieldValueError  # noqa: PLC0415

            raise FieldValueError("num_heads", self.num_heads, f"a divisor of embed_dim={self.embed_dim}")


class MultiHeadAttention(AttentionMechanism):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017).

    Each head h projects query, key and value to E/H dimensions and computes
    ``softmax(Q_h K_h^T / sqrt(E/H)) V_h``; heads are concatenated and
    projected. The core runs as one fused ``scaled_dot_product_attention``
    call on (B, H, T, E/H) tensors; weights are computed separately only when
    ``need_weights=True`` (then shape (B, H, Tq, Tk)).

    References:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, arXiv:1706.03762.

    Examples:
        >>> import torch
        >>> attn = MultiHeadAttention(embed_dim=16, num_heads=4)
        >>> out, w = attn(torch.randn(2, 5, 16))
        >>> out.shape, w
        (torch.Size([2, 5, 16]), None)
    """

    Config = MultiHeadAttentionConfig

    def __init__(self, config: MultiHeadAttentionConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.embed_dim, self.num_heads, self.head_dim = c.embed_dim, c.num_heads, c.embed_dim // c.num_heads
        self.q_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=c.bias)
        self.k_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=c.bias)
        self.v_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=c.bias)
        self.out_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=c.bias) if c.output_projection else nn.Identity()

    def _heads(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def attend(self, query, key, value, *, mask, need_weights):
        q, k, v = self._heads(self.q_proj(query)), self._heads(self.k_proj(key)), self._heads(self.v_proj(value))
        attn_mask = expand_mask(mask)
        dropout = self.config.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout)
        out = zero_empty_rows(out, attn_mask)
        b, _, t, _ = out.shape
        out = self.out_proj(out.transpose(1, 2).reshape(b, t, self.embed_dim))
        weights = attention_weights(q, k, attn_mask) if need_weights else None
        return out, weights


def expand_mask(mask: Tensor | None) -> Tensor | None:
    """(B, Tq, Tk) or (Tq, Tk) masks gain a head axis; (B, H, Tq, Tk) pass through."""
    if mask is None:
        return None
    if mask.dim() == 3:
        return mask.unsqueeze(1)
    return mask


def zero_empty_rows(out: Tensor, attn_mask: Tensor | None) -> Tensor:
    """Queries that may attend to nothing output 0 (SDPA gives NaN there)."""
    if attn_mask is None:
        return out
    empty = ~attn_mask.any(dim=-1, keepdim=True)  # (.., Tq, 1)
    return out.masked_fill(empty, 0.0)  # no host sync (and works on the meta device)


def attention_weights(q: Tensor, k: Tensor, attn_mask: Tensor | None) -> Tensor:
    """softmax(q k^T / sqrt(d)) with masked entries 0 and empty rows all 0."""
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return torch.nan_to_num(weights, nan=0.0)
