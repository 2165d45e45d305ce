"""Set encoders: a padded batch of datasets (D, N, F) with a mask (D, N) to one summary (D, C).

- :class:`DeepSetsEncoder` (``model/deepsets-encoder``): rho(pool_n phi(z_n)), masked
  mean / sum / max pooling; permutation invariant.
- :class:`TransformerEncoder` (``model/transformer-encoder``): a learned [CLS] token,
  no positional encoding, pre-LN blocks of a registered attention mechanism
  (default the core's ``attention/multihead``), padding masked out; invariant.
- :class:`GRUEncoder` (``model/gru-encoder``): a GRU read in order; *not* invariant
  (the paper's surprise is that it still beats DeepSets).

References:
    S. Mittal, N. L. Bracher, G. Lajoie, P. Jaini, M. A. Brubaker, "Amortized In-Context
    Bayesian Posterior Estimation", arXiv:2502.06601 (2025), section 3.2.
    M. Zaheer et al., "Deep Sets", NeurIPS 2017, arXiv:1703.06114.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, one_of, positive
from etude.kinds import Model

_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh}


def _check_inputs(inputs: Tensor, mask: Tensor | None, in_features: int, owner: str) -> Tensor:
    if inputs.dim() != 3 or inputs.shape[-1] != in_features:
        raise ValueError(
            f"{owner}: inputs must have shape (D datasets, N elements, in_features={in_features}), "
            f"got {tuple(inputs.shape)}; set in_features to the width of one encoded observation"
        )
    d, n = inputs.shape[:2]
    if mask is None:
        return torch.ones(d, n, dtype=torch.bool, device=inputs.device)
    if mask.shape != (d, n):
        raise ValueError(f"{owner}: mask must have shape (D, N) = {(d, n)}, got {tuple(mask.shape)}")
    return mask.bool()


def _mlp(sizes: list[int], activation: str, final_activation: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


@configclass
class DeepSetsConfig:
    in_features: int = field(validator=positive, doc="width F of one encoded observation")
    hidden: int = field(default=128, validator=positive, doc="width of the per-element and readout networks")
    layers: int = field(default=3, validator=positive, doc="linear layers of the per-element network phi")
    out_features: int = field(default=128, validator=positive, doc="width C of the summary")
    pooling: str = field(default="mean", validator=one_of("mean", "sum", "max"), doc="masked pooling over elements")
    log_n: bool = field(default=True, doc="append log(n) to the pooled vector (mean pooling alone cannot see n)")
    activation: str = field(default="gelu", validator=one_of(*_ACTIVATIONS), doc="nonlinearity")


class DeepSetsEncoder(Model):
    """DeepSets summary ``rho([pool_{n: mask} phi(z_n), log n])`` of a padded set.

    ``phi`` maps each element (F -> hidden, ``layers`` linear layers with the
    activation after each); the pool is a masked mean, sum or max over the
    real elements; ``rho`` (two linear layers) maps to the summary. With mean
    pooling the summary cannot tell n = 16 from n = 64 although the GM
    posterior's variance is 1/(n + 1), so ``log_n=True`` (the default) appends
    log n; ``log_n=False`` is the reference code's encoder.

    Examples:
        >>> import torch
        >>> enc = DeepSetsEncoder(in_features=2, hidden=16, out_features=8)
        >>> enc(torch.randn(4, 10, 2), torch.ones(4, 10, dtype=torch.bool)).shape
        torch.Size([4, 8])
    """

    Config = DeepSetsConfig

    def __init__(self, config: DeepSetsConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.phi = _mlp([c.in_features] + [c.hidden] * c.layers, c.activation, final_activation=True)
        self.rho = _mlp([c.hidden + int(c.log_n), c.hidden, c.out_features], c.activation)

    def forward(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        c = self.config
        mask = _check_inputs(inputs, mask, c.in_features, "DeepSetsEncoder")
        h = self.phi(inputs)
        m = mask.unsqueeze(-1).to(h)
        n = m.sum(1).clamp_min(1.0)
        if c.pooling == "mean":
            pooled = (h * m).sum(1) / n
        elif c.pooling == "sum":
            pooled = (h * m).sum(1)
        else:
            pooled = h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(1)
        if c.log_n:
            pooled = torch.cat([pooled, n.log()], dim=-1)
        return self.rho(pooled)


@configclass
class TransformerEncoderConfig:
    in_features: int = field(validator=positive, doc="width F of one encoded observation")
    hidden: int = field(default=256, validator=positive, doc="model width (paper: 256)")
    num_heads: int = field(default=4, validator=positive, doc="attention heads (paper: 4)")
    layers: int = field(default=4, validator=positive, doc="pre-LN blocks (paper: 4)")
    mlp_ratio: int = field(default=4, validator=positive, doc="feed-forward width = mlp_ratio * hidden")
    out_features: int = field(default=256, validator=positive, doc="width C of the summary")
    attention: str = field(default="multihead", doc="registered attention mechanism for every block")
    attention_options: dict[str, Any] = field(factory=dict, doc="further config of the attention")
    dropout: float = field(default=0.0, doc="dropout in the blocks")


class _Block(nn.Module):
    def __init__(self, c: TransformerEncoderConfig) -> None:
        super().__init__()
        import etude  # noqa: PLC0415

        self.norm1 = nn.LayerNorm(c.hidden)
        self.attn = etude.create("attention", c.attention, embed_dim=c.hidden, num_heads=c.num_heads, **c.attention_options)
        self.norm2 = nn.LayerNorm(c.hidden)
        self.mlp = nn.Sequential(nn.Linear(c.hidden, c.mlp_ratio * c.hidden), nn.GELU(),
                                 nn.Linear(c.mlp_ratio * c.hidden, c.hidden))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, h: Tensor, attn_mask: Tensor) -> Tensor:
        out = self.attn(self.norm1(h), mask=attn_mask)
        out = out[0] if isinstance(out, tuple) else out
        h = h + self.drop(out)
        return h + self.drop(self.mlp(self.norm2(h)))


class TransformerEncoder(Model):
    """Set Transformer summary: the output at a learned [CLS] token after pre-LN attention blocks.

    Observations are embedded linearly, a learned [CLS] vector is prepended,
    and ``layers`` pre-LN blocks ``h += Attn(LN(h)); h += MLP(LN(h))`` run
    with a key mask hiding padding (True = attend, the core's convention). No
    positional encoding, so the summary is invariant to permutations of the
    real elements. The attention is ``etude.create("attention", attention, ...)``.

    Examples:
        >>> import torch
        >>> enc = TransformerEncoder(in_features=2, hidden=16, num_heads=2, layers=1, out_features=8)
        >>> enc(torch.randn(3, 7, 2), torch.ones(3, 7, dtype=torch.bool)).shape
        torch.Size([3, 8])
    """

    Config = TransformerEncoderConfig

    def __init__(self, config: TransformerEncoderConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.embed = nn.Linear(c.in_features, c.hidden)
        self.cls = nn.Parameter(torch.randn(c.hidden) / math.sqrt(c.hidden))
        self.blocks = nn.ModuleList(_Block(c) for _ in range(c.layers))
        self.norm = nn.LayerNorm(c.hidden)
        self.readout = nn.Linear(c.hidden, c.out_features)

    def forward(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        c = self.config
        mask = _check_inputs(inputs, mask, c.in_features, "TransformerEncoder")
        d = inputs.shape[0]
        h = torch.cat([self.cls.to(inputs).expand(d, 1, c.hidden), self.embed(inputs)], dim=1)
        keys = torch.cat([torch.ones(d, 1, dtype=torch.bool, device=mask.device), mask], dim=1)
        attn_mask = keys.unsqueeze(1).expand(d, keys.shape[1], keys.shape[1])
        for block in self.blocks:
            h = block(h, attn_mask)
        return self.readout(self.norm(h[:, 0]))


@configclass
class GRUEncoderConfig:
    in_features: int = field(validator=positive, doc="width F of one encoded observation")
    hidden: int = field(default=256, validator=positive, doc="GRU state width")
    layers: int = field(default=1, validator=positive, doc="stacked GRU layers")
    out_features: int = field(default=256, validator=positive, doc="width C of the summary")


class GRUEncoder(Model):
    """GRU summary: the last state after reading the real elements in order (not permutation invariant).

    Real elements are moved first (stable, so their order is kept) and the
    state after the n-th is read out, so padding never reaches the summary.

    Examples:
        >>> import torch
        >>> enc = GRUEncoder(in_features=2, hidden=16, out_features=8)
        >>> enc(torch.randn(3, 7, 2)).shape
        torch.Size([3, 8])
    """

    Config = GRUEncoderConfig

    def __init__(self, config: GRUEncoderConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.gru = nn.GRU(c.in_features, c.hidden, num_layers=c.layers, batch_first=True)
        self.readout = nn.Linear(c.hidden, c.out_features)

    def forward(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor:
        mask = _check_inputs(inputs, mask, self.config.in_features, "GRUEncoder")
        order = torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices
        packed = torch.gather(inputs, 1, order.unsqueeze(-1).expand_as(inputs))
        out, _ = self.gru(packed)
        last = (mask.sum(1) - 1).clamp_min(0)
        h = out[torch.arange(out.shape[0], device=out.device), last]
        return self.readout(h)


ENCODERS = {"deepsets": DeepSetsEncoder, "transformer": TransformerEncoder, "gru": GRUEncoder}
