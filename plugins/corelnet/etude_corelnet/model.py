"""CoRelNet (Kerg et al., 2022): a relational bottleneck, the decoder sees only object-object similarities.

    z_i = E(x_i)                          (per-object encoder, all N objects in one call)
    z <- ContextNorm(z)                   (over the objects of one example)
    R = softmax_row(Z Z^T)  in R^{N x N}  (relation matrix)
    y = MLP(flatten(R))                   (Linear(n_R, 256) - ReLU - Linear(256, classes))

R is unchanged by any orthogonal map applied to every z_i (Z Q Q^T Z^T = Z Z^T),
which is why the decoder cannot latch on to the identity of the objects and
generalises to objects never seen in training.

Options: ``similarity`` "dot" (the paper), "cosine", or "attention" (R read
with :func:`etude.kinds.attention.key_weights` from a registered attention
applied to Z: with ``multihead`` and one head, softmax(Z W_q (Z W_k)^T / sqrt(d)),
the paper's asymmetric variant); ``mask`` "none" (the paper formula) or
"lower" (row i only covers j <= i, the repository default); ``reduced``
(flatten the lower triangle, N(N+1)/2 features); ``preset="repository"`` sets
mask="lower", reduced=True; ``concat_sensory`` (the ``_cat`` ablation: Z joins
R at the decoder, breaking the partition).

References:
    G. Kerg, S. Mittal, D. Rolnick, Y. Bengio, B. Richards, G. Lajoie, "On Neural
    Architecture Inductive Biases for Relational Tasks", preprint 2022, arXiv:2206.05056.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.kinds import Model

from .contextnorm import ContextNorm
from .encoders import ObjectEncoder, _shape, check_input_shape

#: mask / reduced per preset: the paper's formula, and the official repository's default.
PRESETS = {"paper": {"mask": "none", "reduced": False}, "repository": {"mask": "lower", "reduced": True}}


def _segments(value: Any) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(i) for i in s) for s in value)


@configclass
class CoRelNetConfig:
    input_shape: tuple[int, ...] = field(converter=_shape, validator=check_input_shape,
                                         doc="(N, *object_shape): N objects per example, e.g. (6, 32) or (6, 32, 32)")
    num_classes: int = field(validator=positive, doc="decoder outputs (choices of the task)")
    encoder: str = field(default="mlp", doc="registered model encoding one object ('mlp' for vectors, 'cnn' for glyphs)")
    encoder_options: dict = field(factory=dict, doc="config of the encoder (its in/out sizes are filled in)")
    z_dim: int = field(default=128, validator=positive, doc="encoding width d (the paper: 128)")
    similarity: str = field(default="dot", validator=one_of("dot", "cosine", "attention"),
                            doc="'dot': softmax_row(Z Z^T) (the paper); 'cosine'; 'attention': a registered mechanism's weights")
    attention: str = field(default="multihead", doc="registered attention for similarity='attention'")
    attention_options: dict = field(factory=lambda: {"num_heads": 1},
                                    doc="config of that attention (embed_dim is filled in); 1 head: the asymmetric variant")
    preset: str = field(default="paper", validator=one_of(*PRESETS),
                        doc="'paper' (full softmax, N^2 features) or 'repository' (lower mask, reduced); mask/reduced override it")
    mask: str | None = field(default=None, validator=lambda i, a, v: v is None or one_of("none", "lower")(i, a, v),
                             doc="'none' or 'lower' (row i covers columns j <= i); None: the preset's")
    reduced: bool | None = field(default=None, doc="flatten only the lower triangle, N(N+1)/2 features; None: the preset's")
    context_norm: str = field(default="all", validator=one_of("none", "all", "segmented"),
                              doc="context normalisation over all objects, per segment, or none")
    segments: tuple[tuple[int, ...], ...] = field(factory=tuple, converter=_segments,
                                                  doc="slot groups for context_norm='segmented', e.g. ((0, 1), (2, 3), (4, 5))")
    concat_sensory: bool = field(default=False, doc="the '_cat' ablation: flatten(Z) joins flatten(R) at the decoder")
    decoder_hidden: int = field(default=256, validator=positive, doc="hidden width of the decoder MLP")

    def __attrs_post_init__(self) -> None:
        if self.context_norm == "segmented" and not self.segments:
            raise FieldValueError("segments", self.segments, "slot groups when context_norm='segmented' "
                                  "(a task's task_segments, e.g. ((0, 1), (2, 3), (4, 5)))")


class CoRelNet(Model):
    """CoRelNet: encoder, context norm, relation matrix R, and an MLP decoder on flatten(R) only.

    ``forward(x)`` takes (B, N, *object_shape) and returns logits (B, classes);
    :meth:`encode` gives Z (B, N, d) after context norm, :meth:`relation` R
    (B, N, N), :meth:`decode_relation` the logits from R (and Z for the
    ``_cat`` ablation only). See the module docstring for the equations.

    References:
        G. Kerg et al., "On Neural Architecture Inductive Biases for Relational Tasks", 2022, arXiv:2206.05056.

    Examples:
        >>> import torch
        >>> net = CoRelNet(input_shape=(6, 32), num_classes=2, z_dim=16, encoder_options={"hidden": (16,)})
        >>> x = torch.randn(4, 6, 32)
        >>> net(x).shape, net.relation(net.encode(x)).shape, net.decoder_in_features
        (torch.Size([4, 2]), torch.Size([4, 6, 6]), 36)
    """

    Config = CoRelNetConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.num_objects, self.object_shape = c.input_shape[0], tuple(c.input_shape[1:])
        preset = PRESETS[c.preset]
        self.mask = preset["mask"] if c.mask is None else c.mask
        self.reduced = preset["reduced"] if c.reduced is None else bool(c.reduced)
        n = self.num_objects
        self.encoder = ObjectEncoder(c.encoder, self.object_shape, c.z_dim, c.encoder_options)
        self.norm = ContextNorm(c.z_dim, c.segments if c.context_norm == "segmented" else ()) \
            if c.context_norm != "none" else nn.Identity()
        if c.similarity == "attention":
            import etude  # noqa: PLC0415

            options = {"embed_dim": c.z_dim, **c.attention_options}
            self.attention = etude.create("attention", c.attention, **options)
            self._freeze_unused_attention_parameters()
        else:
            self.attention = None
        self.register_buffer("allowed", torch.ones(n, n, dtype=torch.bool).tril() if self.mask == "lower"
                             else torch.ones(n, n, dtype=torch.bool), persistent=False)
        rows, cols = torch.tril_indices(n, n)
        self.register_buffer("tril_rows", rows, persistent=False)
        self.register_buffer("tril_cols", cols, persistent=False)
        n_r = rows.numel() if self.reduced else n * n
        self.decoder_in_features = n_r + (n * c.z_dim if c.concat_sensory else 0)
        from etude.data import MLP  # noqa: PLC0415

        self.decoder = MLP(self.decoder_in_features, c.num_classes, hidden=(c.decoder_hidden,))

    def _freeze_unused_attention_parameters(self) -> None:
        """Parameters of the attention that R does not depend on (e.g. value and output projections) stop training."""
        probe = torch.randn(2, self.num_objects, self.config.z_dim, generator=torch.Generator().manual_seed(0))
        from etude.kinds.attention import key_weights  # noqa: PLC0415

        _, weights = self.attention(probe, need_weights=True)
        (key_weights(weights) * torch.randn(key_weights(weights).shape)).sum().backward()
        for p in self.attention.parameters():
            if p.grad is None:
                p.requires_grad_(False)
            p.grad = None

    def encode(self, x: Tensor) -> Tensor:
        """Z (B, N, d): every object encoded in one batched call, then context-normalised."""
        if x.dim() != len(self.config.input_shape) + 1 or tuple(x.shape[1:]) != self.config.input_shape:
            raise ValueError(f"CoRelNet expects inputs (B, {', '.join(map(str, self.config.input_shape))}), "
                             f"got {tuple(x.shape)}; set input_shape to the task's")
        return self.norm(self.encoder(x))

    def relation(self, z: Tensor) -> Tensor:
        """R (B, N, N) from Z (B, N, d): row-softmax similarities (masked rows cover j <= i only)."""
        c = self.config
        if c.similarity == "attention":
            from etude.kinds.attention import key_weights  # noqa: PLC0415

            mask = None if self.mask == "none" else self.allowed.expand(z.shape[0], -1, -1)
            _, weights = self.attention(z, mask=mask, need_weights=True)
            return key_weights(weights)
        if c.similarity == "cosine":
            z = nn.functional.normalize(z, dim=-1)
        scores = z @ z.transpose(1, 2)
        if self.mask == "lower":
            scores = scores.masked_fill(~self.allowed, float("-inf"))
        return torch.softmax(scores, dim=-1)

    def relation_features(self, r: Tensor) -> Tensor:
        """flatten(R): N^2 entries, or the N(N+1)/2 lower-triangle entries (row-major) when reduced."""
        if self.reduced:
            return r[:, self.tril_rows, self.tril_cols]
        return r.flatten(1)

    def decode_relation(self, r: Tensor, z: Tensor | None = None) -> Tensor:
        """Logits from R (and from Z only with ``concat_sensory``; otherwise Z is ignored)."""
        features = self.relation_features(r)
        if self.config.concat_sensory:
            if z is None:
                raise ValueError("concat_sensory=True: decode_relation needs the encodings z as well")
            features = torch.cat([features, z.flatten(1)], dim=1)
        return self.decoder(features)

    def forward(self, x: Tensor) -> Tensor:
        z = self.encode(x)
        return self.decode_relation(self.relation(z), z)


__all__ = ["PRESETS", "CoRelNet", "CoRelNetConfig"]
