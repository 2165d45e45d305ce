"""CoRelNet's baselines on the same per-object encoder: an MLP on the concatenated encodings and a transformer.

Both apply the encoder to all N objects in one call and (like every model in
the CoRelNet repository, ``norm_type`` being global) context-normalise the
encodings by default.

* ``RelationalMLP``: y = MLP([z_1, ..., z_N]) (N d -> 256 -> classes): sensory
  and relational information are mixed from the first layer.
* ``RelationalTransformer``: z_i + p_i (learned positions), L post-norm blocks
  ``h <- LN(h + Attn(h)); h <- LN(h + FFN(h))`` with a registered attention
  by name (default ``multihead``, 8 heads), mean pool over objects, linear classifier.
* ``RelationalLSTM``: an LSTM (hidden 512, the reference's ``LSTM.py``) reads
  z_1 .. z_N in order; y = W h_N. Initialised as the reference: zero biases,
  Xavier-normal gate weights, gain 5/3 on the cell-candidate (tanh) block.

References:
    G. Kerg et al., arXiv:2206.05056, 2022 (the baselines of its Tables);
    A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, arXiv:1706.03762.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, positive
from etude.kinds import Model

from .contextnorm import ContextNorm
from .encoders import ObjectEncoder, ObjectModelConfig



@configclass
class RelationalMLPConfig(ObjectModelConfig):
    hidden: int = field(default=256, validator=positive, doc="hidden width of the MLP on the concatenation")


class RelationalMLP(Model):
    """An MLP on the concatenated per-object encodings (the 'MLP' baseline).

    Examples:
        >>> import torch
        >>> RelationalMLP(input_shape=(6, 32), num_classes=2, z_dim=16)(torch.randn(3, 6, 32)).shape
        torch.Size([3, 2])
    """

    Config = RelationalMLPConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        n, obj = c.input_shape[0], tuple(c.input_shape[1:])
        self.encoder = ObjectEncoder(c.encoder, obj, c.z_dim, c.encoder_options)
        self.norm = ContextNorm(c.z_dim) if c.context_norm == "all" else nn.Identity()
        from etude.data import MLP  # noqa: PLC0415

        self.decoder = MLP(n * c.z_dim, c.num_classes, hidden=(c.hidden,))

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.norm(self.encoder(x)).flatten(1))


@configclass
class RelationalTransformerConfig(ObjectModelConfig):
    z_dim: int = field(default=128, validator=positive, doc="encoding and model width d")
    layers: int = field(default=1, validator=positive, doc="transformer blocks L")
    attention: str = field(default="multihead", doc="registered attention of every block")
    attention_options: dict = field(factory=lambda: {"num_heads": 8}, doc="its config (embed_dim filled in)")
    ffn_dim: int = field(default=256, validator=positive, doc="feed-forward width")


class RelationalTransformer(Model):
    """Encoder, learned positions, L post-norm blocks of a registered attention, mean pool, classifier.

    Examples:
        >>> import torch
        >>> net = RelationalTransformer(input_shape=(6, 32), num_classes=2, z_dim=16, layers=2)
        >>> net(torch.randn(3, 6, 32)).shape
        torch.Size([3, 2])
    """

    Config = RelationalTransformerConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        c = self.config
        n, obj = c.input_shape[0], tuple(c.input_shape[1:])
        self.encoder = ObjectEncoder(c.encoder, obj, c.z_dim, c.encoder_options)
        self.norm = ContextNorm(c.z_dim) if c.context_norm == "all" else nn.Identity()
        self.positions = nn.Parameter(torch.randn(n, c.z_dim) * 0.02)
        self.attn = nn.ModuleList(etude.create("attention", c.attention, **{"embed_dim": c.z_dim, **c.attention_options})
                                  for _ in range(c.layers))
        self.ffn = nn.ModuleList(nn.Sequential(nn.Linear(c.z_dim, c.ffn_dim), nn.ReLU(), nn.Linear(c.ffn_dim, c.z_dim))
                                 for _ in range(c.layers))
        self.ln1 = nn.ModuleList(nn.LayerNorm(c.z_dim) for _ in range(c.layers))
        self.ln2 = nn.ModuleList(nn.LayerNorm(c.z_dim) for _ in range(c.layers))
        self.head = nn.Linear(c.z_dim, c.num_classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(self.encoder(x)) + self.positions
        for attn, ffn, ln1, ln2 in zip(self.attn, self.ffn, self.ln1, self.ln2, strict=True):
            h = ln1(h + attn(h)[0])
            h = ln2(h + ffn(h))
        return self.head(h.mean(1))


@configclass
class RelationalLSTMConfig(ObjectModelConfig):
    hidden: int = field(default=512, validator=positive, doc="LSTM width (the reference: 512)")


class RelationalLSTM(Model):
    """An LSTM over the per-object encodings in slot order, classifying from its last output (the 'LSTM' baseline).

    Examples:
        >>> import torch
        >>> RelationalLSTM(input_shape=(6, 32), num_classes=2, z_dim=16, hidden=32)(torch.randn(3, 6, 32)).shape
        torch.Size([3, 2])
    """

    Config = RelationalLSTMConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = ObjectEncoder(c.encoder, tuple(c.input_shape[1:]), c.z_dim, c.encoder_options)
        self.norm = ContextNorm(c.z_dim) if c.context_norm == "all" else nn.Identity()
        self.lstm = nn.LSTM(c.z_dim, c.hidden, batch_first=True)
        self.y_out = nn.Linear(c.hidden, c.num_classes)
        h = c.hidden
        with torch.no_grad():
            for name, p in self.lstm.named_parameters():
                if "bias" in name:
                    p.zero_()
                else:  # gate order i, f, g, o: sigmoid gates Xavier-normal, the tanh block with gain 5/3
                    nn.init.xavier_normal_(p[: 2 * h])
                    nn.init.xavier_normal_(p[2 * h: 3 * h], gain=5.0 / 3.0)
                    nn.init.xavier_normal_(p[3 * h:])
            nn.init.xavier_normal_(self.y_out.weight)
            self.y_out.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.lstm(self.norm(self.encoder(x)))
        return self.y_out(out[:, -1])


__all__ = ["RelationalLSTM", "RelationalLSTMConfig", "RelationalMLP", "RelationalMLPConfig", "RelationalTransformer", "RelationalTransformerConfig"]
