"""Additive (Bahdanau) attention as the self-attentive RNNs of Kerg et al. (2020) use it."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, positive
from etude.kinds import AttentionMechanism

__all__ = ["AdditiveAttention", "AdditiveAttentionConfig"]


@configclass
class AdditiveAttentionConfig:
    embed_dim: int = field(validator=positive, doc="width E of query, keys, values and output")
    value_projection: bool = field(default=False, doc="project the values with a learned E x E matrix (off: the "
                                   "paper attends to the raw hidden states)")
    output_projection: bool = field(default=False, doc="project the attended sum with a learned E x E matrix")


class AdditiveAttention(AttentionMechanism):
    """Additive attention: ``e_i = vᵀ tanh(W_q q + W_k k_i)``, ``α = softmax(e)`` over allowed keys, ``Σ α_i v_i``.

    The score of the self-attentive RNNs of Kerg et al.: the query is the
    recurrent state ``s_{t-1}``, keys and values are past hidden states
    ``h_i``, so by default values are read raw (``value_projection=False``)
    and the attended sum is returned as is (``output_projection=False``),
    as in the official code (``Va``, ``Ua`` without bias, ``v`` Xavier-normal).
    Every query and key pair is scored in one batched op: ``(B, Tq, 1, E) +
    (B, 1, Tk, E)`` through ``tanh`` and a dot with ``v``. Masks follow the
    SDPA convention (True = may attend); ``need_weights=True`` returns the
    probabilities (B, Tq, Tk), masked keys exactly 0. Stateless.

    References:
        D. Bahdanau, K. Cho, Y. Bengio, "Neural Machine Translation by Jointly Learning to Align and
        Translate", ICLR 2015, arXiv:1409.0473;
        G. Kerg, B. Kanuparthi, A. Goyal, K. Goyette, Y. Bengio, G. Lajoie, "Untangling tradeoffs between
        recurrence and self-attention in artificial neural networks", NeurIPS 2020, arXiv:2006.09471.

    Examples:
        >>> import torch
        >>> attn = AdditiveAttention(embed_dim=8)
        >>> out, w = attn(torch.randn(2, 1, 8), torch.randn(2, 5, 8), need_weights=True)
        >>> out.shape, w.shape, bool(torch.allclose(w.sum(-1), torch.ones(2, 1)))
        (torch.Size([2, 1, 8]), torch.Size([2, 1, 5]), True)
    """

    Config = AdditiveAttentionConfig

    def __init__(self, config: AdditiveAttentionConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.embed_dim = c.embed_dim
        self.query_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=False)  # W_q (official: Va)
        self.key_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=False)  # W_k (official: Ua)
        self.v = nn.Parameter(torch.empty(1, c.embed_dim))
        nn.init.xavier_normal_(self.v)
        self.value_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=False) if c.value_projection else None
        self.out_proj = nn.Linear(c.embed_dim, c.embed_dim, bias=False) if c.output_projection else None

    def scores(self, query: Tensor, key: Tensor, mask: Tensor | None = None) -> Tensor:
        """Scores ``e`` (B, Tq, Tk) with disallowed keys at -inf."""
        hidden = torch.tanh(self.query_proj(query).unsqueeze(2) + self.key_proj(key).unsqueeze(1))
        e = hidden @ self.v.squeeze(0)
        if mask is not None:
            if mask.dim() == 4:
                mask = mask.any(dim=1)
            e = e.masked_fill(~mask, float("-inf"))
        return e

    def attend(self, query, key, value, *, mask, need_weights):
        weights = torch.softmax(self.scores(query, key, mask), dim=-1)
        weights = torch.nan_to_num(weights, nan=0.0)  # a fully masked query row: all -inf -> 0
        if self.value_proj is not None:
            value = self.value_proj(value)
        out = weights @ value
        if self.out_proj is not None:
            out = self.out_proj(out)
        return out, (weights if need_weights else None)
