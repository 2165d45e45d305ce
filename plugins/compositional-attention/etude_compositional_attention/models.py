"""The set model of the contextual-retrieval experiments, with a pluggable attention."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, one_of, positive
from etude.kinds import Model

__all__ = ["RetrievalTransformer", "RetrievalTransformerConfig"]


@configclass
class RetrievalTransformerConfig:
    in_dim: int = field(default=8, validator=positive, doc="per-element input features (v_s + v_p + v_s v_p for the task)")
    out_dim: int = field(default=1, validator=positive, doc="per-element outputs")
    width: int = field(default=32, validator=positive, doc="model width d (the attention's embed_dim)")
    attention: str = field(default="compositional", doc="registered attention mechanism, built with etude.create('attention', name, embed_dim=width, ...)")
    attention_options: dict[str, Any] = field(factory=dict, doc="further config of the attention (e.g. searches, retrievals, num_heads)")
    layers: int = field(default=1, validator=positive, doc="stacked attention blocks")
    residual: bool = field(default=False, doc="x + attention(x) in each block (off in the paper's one-layer model)")
    readout: str = field(
        default="mlp", validator=one_of("mlp", "linear"),
        doc="decoder: 'mlp' (Linear-ReLU-Linear, the paper's) or 'linear' (selection must happen inside attention)",
    )
    exclude_self: bool = field(default=True, doc="mask each element's attention to itself (the task's searches exclude self-matches)")


class RetrievalTransformer(Model):
    """Encoder MLP, stacked attention blocks, decoder: the paper's contextual-retrieval model.

    ``x (B, N, in_dim) -> encoder (Linear-ReLU-Linear to width d) -> L x
    attention -> decoder -> (B, N, out_dim)``. The attention is any registered
    ``attention`` mechanism chosen by name, so multi-head and compositional
    attention are compared with everything else equal. With
    ``exclude_self`` the attention mask hides the diagonal (the task's search
    never returns the element itself). No positional encoding: the model is
    permutation equivariant over elements. ``forward(x, need_weights=True)``
    also returns each block's attention weights.

    References:
        S. Mittal, S. C. Raparthy, I. Rish, Y. Bengio, G. Lajoie, "Compositional
        Attention: Disentangling Search and Retrieval", ICLR 2022, arXiv:2110.09419.

    Examples:
        >>> import torch
        >>> model = RetrievalTransformer(width=16, attention="multihead", attention_options={"num_heads": 2})
        >>> model(torch.randn(3, 10, 8)).shape
        torch.Size([3, 10, 1])
    """

    Config = RetrievalTransformerConfig

    def __init__(self, config: RetrievalTransformerConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        c = self.config
        if "embed_dim" in c.attention_options:
            raise ValueError("RetrievalTransformer: attention_options must not set embed_dim; it is the model's width")
        self.encoder = nn.Sequential(nn.Linear(c.in_dim, c.width), nn.ReLU(), nn.Linear(c.width, c.width))
        self.blocks = nn.ModuleList(
            etude.create("attention", c.attention, embed_dim=c.width, **c.attention_options) for _ in range(c.layers)
        )
        if c.readout == "mlp":
            self.decoder = nn.Sequential(nn.Linear(c.width, c.width), nn.ReLU(), nn.Linear(c.width, c.out_dim))
        else:
            self.decoder = nn.Linear(c.width, c.out_dim)

    def attention_parameters(self) -> int:
        """Parameters inside the attention blocks."""
        return sum(p.numel() for p in self.blocks.parameters())

    def forward(self, x: Tensor, need_weights: bool = False) -> Tensor | tuple[Tensor, list[Any]]:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != self.config.in_dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"RetrievalTransformer: x must be (B, N, in_dim={self.config.in_dim}), got {shape}")
        n = x.shape[1]
        mask = None
        if self.config.exclude_self:
            if n < 2:
                raise ValueError(f"RetrievalTransformer: exclude_self needs sequences of >= 2 elements, got N={n}")
            mask = ~torch.eye(n, dtype=torch.bool, device=x.device)
        h = self.encoder(x)
        weights = []
        for block in self.blocks:
            a, w = block(h, mask=mask, need_weights=need_weights)
            h = h + a if self.config.residual else a
            weights.append(w)
        out = self.decoder(h)
        return (out, weights) if need_weights else out
