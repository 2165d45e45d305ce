"""Read-outs of a representation trajectory ``(B, T, latent)``: one time, the concatenation, a GRU, attention.

The trajectory ``(z_{t_0}, ..., z_{t_K})`` of a frozen DRL encoder is the
input; each model returns class logits (B, C). ``TimeMLP`` reads one time
index (the "single t" baseline) or the flattened concatenation;
``TimeRNN`` runs a GRU over t (t_0 first) and classifies its last state;
``TimeAttention`` is the paper's transformer mixer: ``Linear(latent ->
width)`` + dropout, a sinusoidal encoding of the time *index* added, a learned
CLS token appended, one post-norm block of multi-head self-attention (the
core's ``attention/multihead``, 4 heads) and a 2x ReLU feed-forward applied
``iterations`` (2) times with shared weights, and the class read from the
CLS token. ``need_weights=True`` also returns the CLS token's attention over
the time tokens, averaged over heads and iterations and renormalised over t.

References:
    S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points to Functions: Infinite-dimensional
    Representations in Diffusion Models", preprint 2022, arXiv:2210.13774 (unverified);
    A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, arXiv:1706.03762.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, in_range, positive
from etude.kinds import Model

__all__ = [
    "TimeAttention", "TimeAttentionConfig", "TimeMLP", "TimeMLPConfig", "TimeRNN", "TimeRNNConfig",
    "sinusoidal_encoding",
]


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _trajectory_shape(instance: Any, attribute: Any, value: tuple[int, ...]) -> None:
    if len(value) != 2 or min(value) < 1:
        raise FieldValueError(attribute.name, value, "(T, latent): T time points of latent features, both >= 1")


def _check_trajectory(x: Any, shape: tuple[int, int], owner: str) -> Tensor:
    if not isinstance(x, Tensor) or x.dim() != 3 or tuple(x.shape[1:]) != tuple(shape):
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{owner}: input must be a trajectory (B, T, latent) = (B, {shape[0]}, {shape[1]}) "
                         f"(input_shape), got {got}")
    return x


def sinusoidal_encoding(length: int, dim: int) -> Tensor:
    """Transformer positional encoding (length, dim): sin on even, cos on odd features, base 10000."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)[:, : dim // 2]
    return pe


@configclass
class TimeMLPConfig:
    input_shape: tuple[int, ...] = field(converter=_shape, validator=_trajectory_shape, doc="(T, latent) of the trajectory")
    out_features: int = field(validator=positive, doc="classes C")
    time_index: int | None = field(default=None, doc="read this time index only (0 = t_0); None: the concatenation over t")
    hidden: tuple[int, ...] = field(default=(256,), converter=_shape, validator=each(positive), doc="MLP hidden widths")
    dropout: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True), doc="dropout after hidden layers")

    def __attrs_post_init__(self) -> None:
        if self.time_index is not None and not 0 <= self.time_index < self.input_shape[0]:
            raise FieldValueError("time_index", self.time_index, f"None or in [0, {self.input_shape[0] - 1}] (T = {self.input_shape[0]})")


class TimeMLP(Model):
    """MLP read-out of one time of the trajectory (``time_index``) or of its concatenation over t.

    Examples:
        >>> import torch
        >>> TimeMLP(input_shape=(6, 16), out_features=20, time_index=2)(torch.randn(3, 6, 16)).shape
        torch.Size([3, 20])
    """

    Config = TimeMLPConfig

    def __init__(self, config: TimeMLPConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        from etude.data import MLP  # noqa: PLC0415

        c = self.config
        t, latent = c.input_shape
        width = latent if c.time_index is not None else t * latent
        self.mlp = MLP(in_features=width, out_features=c.out_features, hidden=c.hidden, dropout=c.dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = _check_trajectory(x, self.config.input_shape, "TimeMLP")
        k = self.config.time_index
        return self.mlp(x[:, k] if k is not None else x.reshape(x.shape[0], -1))


@configclass
class TimeRNNConfig:
    input_shape: tuple[int, ...] = field(converter=_shape, validator=_trajectory_shape, doc="(T, latent) of the trajectory")
    out_features: int = field(validator=positive, doc="classes C")
    hidden: int = field(default=256, validator=positive, doc="GRU state size")
    layers: int = field(default=1, validator=positive, doc="stacked GRU layers")


class TimeRNN(Model):
    """GRU over the trajectory (t_0 first), classes from the last hidden state.

    Examples:
        >>> import torch
        >>> TimeRNN(input_shape=(6, 16), out_features=20, hidden=32)(torch.randn(3, 6, 16)).shape
        torch.Size([3, 20])
    """

    Config = TimeRNNConfig

    def __init__(self, config: TimeRNNConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.gru = nn.GRU(c.input_shape[1], c.hidden, num_layers=c.layers, batch_first=True)
        self.head = nn.Linear(c.hidden, c.out_features)

    def forward(self, x: Tensor) -> Tensor:
        x = _check_trajectory(x, self.config.input_shape, "TimeRNN")
        _, h = self.gru(x)
        return self.head(h[-1])


@configclass
class TimeAttentionConfig:
    input_shape: tuple[int, ...] = field(converter=_shape, validator=_trajectory_shape, doc="(T, latent) of the trajectory")
    out_features: int = field(validator=positive, doc="classes C")
    width: int = field(default=256, validator=positive, doc="token width (the paper: 256)")
    num_heads: int = field(default=4, validator=positive, doc="attention heads (must divide width)")
    dropout: float = field(default=0.25, validator=in_range(0.0, 1.0, high_open=True),
                           doc="dropout after the input projection and in the feed-forward (the paper: 0.25)")
    ffn_multiplier: int = field(default=2, validator=positive, doc="feed-forward width = ffn_multiplier x width")
    iterations: int = field(default=2, validator=positive, doc="applications of the one shared block")
    time_encoding: bool = field(default=True, doc="add the sinusoidal encoding of the time index (False: the mixer "
                                "is invariant to permuting the time tokens)")
    attention: str = field(default="multihead", doc="registered attention mechanism of the block")

    def __attrs_post_init__(self) -> None:
        if self.width % self.num_heads:
            raise FieldValueError("num_heads", self.num_heads, f"a divisor of width={self.width}")


class TimeAttention(Model):
    """Transformer mixer over diffusion time with a CLS token (Mittal et al. 2022); see the module docstring.

    Block (post-norm, one set of weights applied ``iterations`` times)::

        h = LayerNorm(h + Attention(h));  h = LayerNorm(h + FFN(h)),  FFN = Linear-Dropout-ReLU-Linear-Dropout

    Examples:
        >>> import torch
        >>> mixer = TimeAttention(input_shape=(6, 16), out_features=20, width=32)
        >>> logits, attention = mixer(torch.randn(3, 6, 16), need_weights=True)
        >>> logits.shape, attention.shape, bool(torch.allclose(attention.sum(-1), torch.ones(3)))
        (torch.Size([3, 20]), torch.Size([3, 6]), True)
    """

    Config = TimeAttentionConfig

    def __init__(self, config: TimeAttentionConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        c = self.config
        t, latent = c.input_shape
        self.project = nn.Sequential(nn.Linear(latent, c.width), nn.Dropout(c.dropout))
        self.register_buffer("encoding", sinusoidal_encoding(t, c.width), persistent=False)
        self.cls = nn.Parameter(torch.empty(1, 1, c.width))
        nn.init.xavier_uniform_(self.cls)
        self.attention = etude.create("attention", c.attention, embed_dim=c.width, num_heads=c.num_heads)
        hidden = c.ffn_multiplier * c.width
        self.ffn = nn.Sequential(nn.Linear(c.width, hidden), nn.Dropout(c.dropout), nn.ReLU(),
                                 nn.Linear(hidden, c.width), nn.Dropout(c.dropout))
        self.norm1, self.norm2 = nn.LayerNorm(c.width), nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, c.out_features)

    def forward(self, x: Tensor, need_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Logits (B, C); with ``need_weights`` also the CLS attention over t (B, T), rows summing to 1."""
        from etude.kinds.attention import key_weights  # noqa: PLC0415

        c = self.config
        x = _check_trajectory(x, c.input_shape, "TimeAttention")
        h = self.project(x)
        if c.time_encoding:
            h = h + self.encoding.to(h.dtype)
        h = torch.cat([h, self.cls.to(h.dtype).expand(h.shape[0], 1, -1)], dim=1)
        cls_rows = []
        for _ in range(c.iterations):
            out, weights = self.attention(h, need_weights=need_weights)
            h = self.norm1(h + out)
            h = self.norm2(h + self.ffn(h))
            if need_weights:
                cls_rows.append(key_weights(weights)[:, -1, :-1])
        logits = self.head(h[:, -1])
        if not need_weights:
            return logits
        profile = torch.stack(cls_rows, 1).mean(1)
        return logits, profile / profile.sum(-1, keepdim=True).clamp_min(1e-12)

    @torch.no_grad()
    def attention_over_time(self, x: Tensor) -> Tensor:
        """The CLS token's attention over the T time tokens (B, T), in eval mode."""
        was = self.training
        self.eval()
        try:
            return self(x, need_weights=True)[1]
        finally:
            self.train(was)
