"""Compositional attention: S searches and R retrievals composed per token."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from etude.builtin.attention import attention_weights, expand_mask, zero_empty_rows
from etude.config import FieldValueError, configclass, field, in_range, one_of, positive
from etude.kinds import AttentionMechanism

from etude_compositional_attention.competition import retrieval_competition, retrieval_logits
from etude_compositional_attention.search import shared_value_attention

__all__ = ["CompositionalAttention", "CompositionalAttentionConfig", "attention_parameter_count"]


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


@configclass
class CompositionalAttentionConfig:
    embed_dim: int = field(validator=positive, doc="model width E of query, key, value and output")
    searches: int = field(default=2, validator=positive, doc="number of searches S (query-key attention maps)")
    retrievals: int = field(default=2, validator=positive, doc="number of retrievals R (value projections shared by all searches)")
    search_dim: int | None = field(
        default=None, validator=_optional_positive, doc="per-search query/key dim d_k (default embed_dim // searches)"
    )
    value_dim: int | None = field(
        default=None, validator=_optional_positive, doc="per-retrieval value dim d_v (default embed_dim // retrievals)"
    )
    retrieval_dim: int | None = field(
        default=None, validator=_optional_positive, doc="retrieval query/key dim d_r (default d_k, as in the official code)"
    )
    retrieval: str = field(
        default="dot", validator=one_of("dot", "mlp"),
        doc="retrieval score: 'dot' = <q_s, O_sr W_k> / sqrt(d_r); 'mlp' = MLP(concat(O_sr, q_s)) (the paper's ablation)",
    )
    separate_keys: bool = field(default=False, doc="one retrieval-key projection per retrieval instead of one shared W_k")
    q_compose: bool = field(default=False, doc="retrieval query computed from the search query Q_s instead of from x")
    gumbel: bool = field(default=False, doc="Gumbel-softmax (tau = 1) in the retrieval competition during training")
    concat_input: bool = field(
        default=False, doc="concatenate a d_v projection of the query token before the output projection (contextual-retrieval model)"
    )
    dropout: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True), doc="search-attention dropout in training")
    bias: bool = field(default=True, doc="biases in every projection")

    def __attrs_post_init__(self) -> None:
        if self.search_dim is None and self.embed_dim % self.searches:
            raise FieldValueError(
                "searches", self.searches, f"a divisor of embed_dim={self.embed_dim} (or set search_dim explicitly)"
            )
        if self.value_dim is None and self.embed_dim % self.retrievals:
            raise FieldValueError(
                "retrievals", self.retrievals, f"a divisor of embed_dim={self.embed_dim} (or set value_dim explicitly)"
            )

    @property
    def d_k(self) -> int:
        return self.search_dim or self.embed_dim // self.searches

    @property
    def d_v(self) -> int:
        return self.value_dim or self.embed_dim // self.retrievals

    @property
    def d_r(self) -> int:
        return self.retrieval_dim or self.d_k


class CompositionalAttention(AttentionMechanism):
    """Compositional attention (Mittal et al., 2022): searches and retrievals composed per token.

    Multi-head attention ties each head's search (query-key attention) to one
    value projection. Compositional attention has S searches
    ``A_s = softmax(Q_s K_s^T / sqrt(d_k))`` and R retrievals ``V_r = x W^v_r``
    shared by all searches; every pairing ``O_sr = A_s V_r`` is computed, and
    each token chooses per search with a soft competition over r:
    ``c_sr = softmax_r(<x W^q_s, O_sr W^k> / sqrt(d_r))``,
    ``O_s = sum_r c_sr O_sr``, ``y = concat_s(O_s) W^o``. The search step
    runs on 4-D (B, S, T, .) tensors with the R value projections side by
    side as one value shared by the searches: an explicit softmax for small
    inputs, query blocks for larger ones on CPU (the weights kept for
    backward up to 4 MB, recomputed above: O(T) memory), one fused
    ``scaled_dot_product_attention`` call elsewhere (see ``_search``); the
    competition (:func:`retrieval_competition`) is post-processing. In
    self-attention (``key`` and ``value`` are ``query``, or omitted) the
    query, key and value projections and the retrieval queries mapped
    through the shared retrieval key run as one matmul.

    With ``need_weights=True`` the weights are a dict: ``"search"`` (B, S, Tq, Tk)
    attention rows (masked entries 0) and ``"retrieval"`` (B, S, Tq, R) choice
    weights (sum to 1 over R). A query row with no key to attend (in every
    search, for a 4-D mask) outputs exactly zeros, as every attention
    mechanism does (the kind's contract), with or without ``concat_input``;
    a search with no key for a query contributes a zero context. Masks: bool,
    True = attend, broadcast to (B, Tq, Tk) or (B, S, Tq, Tk).

    ``fixed_retrieval`` (default None) is an analysis hook: an (S, R) tensor of
    retrieval weights that replaces the learned competition (e.g. the identity
    pairing, which makes S = R compositional attention exactly multi-head
    attention).

    References:
        S. Mittal, S. C. Raparthy, I. Rish, Y. Bengio, G. Lajoie, "Compositional
        Attention: Disentangling Search and Retrieval", ICLR 2022, arXiv:2110.09419.

    Examples:
        >>> import torch
        >>> attn = CompositionalAttention(embed_dim=16, searches=4, retrievals=2)
        >>> out, w = attn(torch.randn(2, 5, 16), need_weights=True)
        >>> out.shape, w["search"].shape, w["retrieval"].shape
        (torch.Size([2, 5, 16]), torch.Size([2, 4, 5, 5]), torch.Size([2, 4, 5, 2]))
    """

    Config = CompositionalAttentionConfig
    #: device types that take the explicit search path up to ``explicit_max_scores`` scores
    explicit_on: tuple[str, ...] = ("cpu",)
    #: the explicit path's limit on B S Tq Tk: 2^17 scores (512 KB in float32). Measured on CPU, the
    #: explicit path is faster than the blocked one below about that (fewer calls) and slower above,
    #: where its whole (B, S, Tq, Tk) temporaries cost more than the blocked path's reused buffers.
    explicit_max_scores: int = 2**17
    #: device types whose larger searches run blocked at the true widths (:func:`shared_value_attention`)
    blocked_on: tuple[str, ...] = ("cpu",)
    #: queries per block of the blocked path
    search_block: int = 64
    #: the blocked path keeps the weights for backward up to this many scores B S Tq Tk (4 MB in
    #: float32) and recomputes them above (O(T) memory). Measured on CPU, keeping them makes the
    #: search 8-14% faster at T = 128-512 (batch 4, 4 searches).
    keep_weights_max_scores: int = 2**20
    #: device types whose SDPA path zero-pads query/key or value to one head width (see ``_search``)
    pad_values_on: tuple[str, ...] = ("cpu",)

    def __init__(self, config: CompositionalAttentionConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.embed_dim = c.embed_dim
        self.searches, self.retrievals = c.searches, c.retrievals
        self.d_k, self.d_v, self.d_r = c.d_k, c.d_v, c.d_r
        S, R, E, b = c.searches, c.retrievals, c.embed_dim, c.bias
        self.q_proj = nn.Linear(E, S * self.d_k, bias=b)
        self.k_proj = nn.Linear(E, S * self.d_k, bias=b)
        self.v_proj = nn.Linear(E, R * self.d_v, bias=b)  # the R value projections side by side
        if c.q_compose:
            self.retrieval_query = nn.Linear(self.d_k, self.d_r, bias=b)  # shared over searches, applied to Q_s
        else:
            self.retrieval_query = nn.Linear(E, S * self.d_r, bias=b)
        if c.retrieval == "dot":
            if c.separate_keys:
                self.retrieval_key_weight = nn.Parameter(torch.empty(R, self.d_v, self.d_r))
                self.retrieval_key_bias = nn.Parameter(torch.zeros(R, self.d_r)) if b else None
                bound = 1.0 / self.d_v**0.5
                nn.init.uniform_(self.retrieval_key_weight, -bound, bound)
            else:
                self.retrieval_key = nn.Linear(self.d_v, self.d_r, bias=b)
        else:
            self.score_hidden = nn.Linear(self.d_v + self.d_r, self.d_r, bias=b)
            self.score_out = nn.Linear(self.d_r, 1, bias=b)
        extra = 1 if c.concat_input else 0
        if c.concat_input:
            self.input_proj = nn.Linear(E, self.d_v, bias=b)
        self.out_proj = nn.Linear((S + extra) * self.d_v, E, bias=b)
        self.fixed_retrieval: Tensor | None = None

    # -- pieces ---------------------------------------------------------------
    def _split(self, x: Tensor, heads: int, dim: int) -> Tensor:
        b, t, _ = x.shape
        return x.view(b, t, heads, dim).transpose(1, 2)  # (B, heads, T, dim)

    def _retrieval_logits(self, rq: Tensor, pairs: Tensor) -> Tensor:
        """Scores (B, S, Tq, R) of every retrieval for every (token, search); ``rq``: (B, S, Tq, d_r)."""
        c = self.config
        if c.retrieval == "dot":
            if c.separate_keys:
                rk = torch.einsum("bstrv,rvd->bstrd", pairs, self.retrieval_key_weight)
                if self.retrieval_key_bias is not None:
                    rk = rk + self.retrieval_key_bias
            else:
                # <q, O_sr W^k + b> = <O_sr, q W^k> + <q, b>: one (d_r x d_v) product per (token, search)
                # instead of one per pairing (the fast path, retrieval_competition, uses the same identity)
                ub = rq @ self._key_map()
                return retrieval_logits(pairs, ub[..., : self.d_v], ub[..., self.d_v] if ub.shape[-1] > self.d_v else None)
            return (rk * rq.unsqueeze(-2)).sum(dim=-1) / self.d_r**0.5
        hidden = torch.cat([pairs, rq.unsqueeze(-2).expand(*pairs.shape[:-1], self.d_r)], dim=-1)
        return self.score_out(F.relu(self.score_hidden(hidden))).squeeze(-1)

    def _fast_competition(self) -> bool:
        """The default competition (dot scores, one shared key, learned softmax) runs on :func:`retrieval_competition`."""
        c = self.config
        return c.retrieval == "dot" and not c.separate_keys and self.fixed_retrieval is None and not (c.gumbel and self.training)

    def _key_map(self) -> Tensor:
        """(d_r, d_v [+ 1]) map from a retrieval query to ``u = q W^k / sqrt(d_r)`` [and ``beta = <q, b> / sqrt(d_r)``]."""
        key = self.retrieval_key
        m = key.weight if key.bias is None else torch.cat([key.weight, key.bias.unsqueeze(-1)], dim=-1)
        return m * self.d_r**-0.5

    def _folded_retrieval_query(self) -> tuple[Tensor, Tensor | None]:
        """Weight and bias of the linear map x -> (u_s, beta_s) per search: the retrieval query times the key map.

        ``u_s = (x W^q_s + b^q_s) W^k / sqrt(d_r)``, so the product of the two
        weights is one (E -> S (d_v [+ 1])) layer, folded into the fused input
        projection: the retrieval keys cost no matmul over tokens.
        """
        m = self._key_map()  # (d_r, w)
        layer = self.retrieval_query
        weight = torch.matmul(m.t(), layer.weight.view(self.searches, self.d_r, -1)).flatten(0, 1)  # (S w, E)
        bias = None if layer.bias is None else (layer.bias.view(self.searches, self.d_r) @ m).flatten()
        return weight, bias

    def _projections(
        self, query: Tensor, key: Tensor, value: Tensor, fold: bool
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None, bool]:
        """Q (B, Tq, S d_k), K (B, Tk, S d_k), V (B, Tk, R d_v), the retrieval part and whether it is folded.

        The retrieval part is None with ``q_compose``; otherwise the retrieval
        queries (B, Tq, S d_r), or with ``fold`` and self-attention the folded
        (u, beta) of :meth:`_folded_retrieval_query` (B, Tq, S w). Self-attention
        (one input tensor) concatenates the weight matrices and runs one
        matmul; its outputs are views of one tensor.
        """
        rq_layer = None if self.config.q_compose else self.retrieval_query
        if query is key and key is value:
            weights = [self.q_proj.weight, self.k_proj.weight, self.v_proj.weight]
            biases = [self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]
            folded = fold and rq_layer is not None
            if folded:
                w, b = self._folded_retrieval_query()
                weights.append(w)
                biases.append(b)
            elif rq_layer is not None:
                weights.append(rq_layer.weight)
                biases.append(rq_layer.bias)
            bias = torch.cat(biases) if self.config.bias else None
            parts = F.linear(query, torch.cat(weights), bias).split([w.shape[0] for w in weights], dim=-1)
            return parts[0], parts[1], parts[2], (parts[3] if rq_layer is not None else None), folded
        rq = rq_layer(query) if rq_layer is not None else None
        return self.q_proj(query), self.k_proj(key), self.v_proj(value), rq, False

    def _retrieval_weights(self, logits: Tensor) -> Tensor:
        if self.fixed_retrieval is not None:
            fixed = self.fixed_retrieval.to(dtype=logits.dtype, device=logits.device)
            if fixed.shape != (self.searches, self.retrievals):
                raise ValueError(
                    f"fixed_retrieval must have shape (searches, retrievals)=({self.searches}, {self.retrievals}), "
                    f"got {tuple(fixed.shape)}"
                )
            return fixed[:, None, :].expand_as(logits)
        if self.config.gumbel and self.training:
            return F.gumbel_softmax(logits, tau=1.0, dim=-1)
        return torch.softmax(logits, dim=-1)

    def _check_mask(self, attn_mask: Tensor | None) -> None:
        if attn_mask is not None and attn_mask.dim() == 4 and attn_mask.shape[1] not in (1, self.searches):
            raise ValueError(
                f"CompositionalAttention: a 4-D mask needs a head axis of 1 or searches={self.searches}, "
                f"got shape {tuple(attn_mask.shape)}"
            )
        if attn_mask is not None and attn_mask.dim() > 4:
            raise ValueError(f"CompositionalAttention: mask must have at most 4 dims, got {tuple(attn_mask.shape)}")

    def _search(self, q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None, dropout: float) -> Tensor:
        """All S x R pairings ``A_s V_r`` as (B, S, Tq, R * d_v): the R values side by side, shared by the S searches.

        Three exact paths:

        - explicit (on ``explicit_on`` devices, CPU by default, with at most
          :attr:`explicit_max_scores` scores B S Tq Tk, or with dropout):
          ``softmax(Q K^T / sqrt(d_k))`` as one tensor times the shared value
          in one batched matmul of (B, S Tq, Tk) by (B, Tk, R d_v). No
          query-key product is repeated and no value is copied; the (B, S, Tq,
          Tk) weights are kept for backward (512 KB in float32 at the default limit).
        - blocked (on ``blocked_on`` devices, CPU by default, above that size):
          :func:`~etude_compositional_attention.search.shared_value_attention`,
          the same products at the true query/key and value widths in blocks
          of :attr:`search_block` queries; the weights are kept for backward up
          to :attr:`keep_weights_max_scores` scores and recomputed above (O(T)
          memory, as in flash attention).
        - SDPA elsewhere: one ``scaled_dot_product_attention`` call with the
          value broadcast over the searches without a copy (CUDA's
          memory-efficient kernel takes the wide value). PyTorch's CPU flash
          kernel needs equal query and value head dims, so on
          ``pad_values_on`` devices the narrower of (query/key, value) is
          zero-padded to the wider one (the scale stays 1 / sqrt(d_k)).
        """
        b, S, tq, d_k = q.shape
        tk, width = v.shape[1], v.shape[2]
        device = q.device.type
        if device in self.explicit_on and (dropout > 0 or b * S * tq * tk <= self.explicit_max_scores):
            scores = (q * d_k**-0.5) @ k.transpose(-1, -2)  # (B, S, Tq, Tk)
            if attn_mask is not None:
                scores = scores.masked_fill(~attn_mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            if attn_mask is not None:  # empty rows: 0, not NaN (and no NaN reaches the value's gradient)
                weights = weights.masked_fill(~attn_mask.any(dim=-1, keepdim=True), 0.0)
            if dropout > 0:
                weights = F.dropout(weights, dropout)
            return (weights.reshape(b, S * tq, tk) @ v).view(b, S, tq, width)
        if device in self.blocked_on and dropout == 0:
            keep = b * S * tq * tk <= self.keep_weights_max_scores
            return shared_value_attention(q, k, v, attn_mask, block=self.search_block, keep_weights=keep)
        if device not in self.pad_values_on or width == d_k:
            return F.scaled_dot_product_attention(q, k, v.unsqueeze(1).expand(b, S, tk, width), attn_mask=attn_mask, dropout_p=dropout)
        wide = max(width, d_k)
        if d_k < wide:
            q, k = F.pad(q, (0, wide - d_k)), F.pad(k, (0, wide - d_k))
        if width < wide:
            v = F.pad(v, (0, wide - width))
        v = v.unsqueeze(1).expand(b, S, tk, wide)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout, scale=d_k**-0.5)
        return out if width == wide else out[..., :width]

    # -- forward --------------------------------------------------------------
    def attend(self, query, key, value, *, mask, need_weights):
        S, R, d_v = self.searches, self.retrievals, self.d_v
        b, tq, _ = query.shape
        fast = self._fast_competition()
        q, k, v, r, folded = self._projections(query, key, value, fold=fast)
        q = self._split(q, S, self.d_k)  # (B, S, Tq, d_k)
        k = self._split(k, S, self.d_k)  # (B, S, Tk, d_k)
        if folded:
            ub = self._split(r, S, r.shape[-1] // S)  # (B, S, Tq, d_v [+ 1])
        else:
            rq = self.retrieval_query(q) if r is None else self._split(r, S, self.d_r)  # (B, S, Tq, d_r)
            ub = rq @ self._key_map() if fast else None
        attn_mask = expand_mask(mask)
        self._check_mask(attn_mask)
        dropout = self.config.dropout if self.training else 0.0
        ctx = self._search(q, k, v, attn_mask, dropout)
        ctx = zero_empty_rows(ctx, attn_mask)  # (B, S, Tq, R * d_v)
        pairs = ctx.unflatten(-1, (R, d_v))  # O_sr: (B, S, Tq, R, d_v)
        if fast:
            beta = ub[..., d_v] if ub.shape[-1] > d_v else None
            u = ub[..., :d_v]
            out, choice = retrieval_competition(pairs, u, beta)  # (B, S, Tq, d_v), (B, S, Tq, R)
        else:
            choice = self._retrieval_weights(self._retrieval_logits(rq, pairs))  # (B, S, Tq, R)
            out = (choice.unsqueeze(-1) * pairs).sum(dim=-2)  # (B, S, Tq, d_v)
        out = out.transpose(1, 2).reshape(b, tq, S * d_v)
        if self.config.concat_input:
            out = torch.cat([out, self.input_proj(query)], dim=-1)
        out = self.out_proj(out)
        if not need_weights:
            return out, None
        return out, {"search": attention_weights(q, k, attn_mask), "retrieval": choice}


def attention_parameter_count(
    embed_dim: int,
    searches: int,
    retrievals: int,
    *,
    search_dim: int | None = None,
    value_dim: int | None = None,
    retrieval_dim: int | None = None,
    bias: bool = True,
    separate_keys: bool = False,
    q_compose: bool = False,
    concat_input: bool = False,
) -> int:
    """Closed-form parameter count of dot-product :class:`CompositionalAttention`.

    Weights: 2 E S d_k (query, key) + E R d_v (values) + E S d_r (retrieval
    queries) + d_v d_r (shared retrieval key; R d_v d_r if separate) + S d_v E
    (output), plus the biases of each projection when ``bias``.
    """
    E, S, R = embed_dim, searches, retrievals
    d_k = search_dim or E // S
    d_v = value_dim or E // R
    d_r = retrieval_dim or d_k
    extra = 1 if concat_input else 0
    n = 2 * (E * S * d_k + bias * S * d_k)  # q, k
    n += E * R * d_v + bias * R * d_v  # values
    n += (d_k * d_r + bias * d_r) if q_compose else (E * S * d_r + bias * S * d_r)  # retrieval queries
    keys = R if separate_keys else 1
    n += keys * (d_v * d_r + bias * d_r)  # retrieval keys
    if concat_input:
        n += E * d_v + bias * d_v
    n += (S + extra) * d_v * E + bias * E  # output
    return int(n)
