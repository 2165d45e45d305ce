"""Wrappers that put a recurrent core between an encoder and a decoder: video prediction and language modelling.

- :class:`VideoPredictor`: conv encoder (32 x 32 frame -> ``embed_dim``),
  a recurrent core ``(B, T, embed_dim) -> (B, T, core_out)`` (BRIMs,
  stacked RIMs or an LSTM, ``readout="all"``), deconv decoder back to
  32 x 32 logits; trained with per-pixel binary cross-entropy on the next
  frame, evaluated by :func:`rollout_bce` (the model feeds its own
  predictions back for ``horizon`` frames).
- :class:`LanguageModel`: token embedding, the core (``readout="all"``,
  ``output_size`` = vocabulary), per-step logits.

References:
    S. Mittal et al., "Learning to Combine Top-Down and Bottom-Up Signals in Recurrent Neural Networks
    with Attention over Modules", ICML 2020, arXiv:2006.16981 (Section 4: bouncing balls, language
    modelling).

Examples:
    >>> import torch
    >>> from etude_meta_rims.models import LSTMBaseline
    >>> net = VideoPredictor(LSTMBaseline(input_size=16, output_size=16, hidden_size=8, dropout=0.0), embed_dim=16)
    >>> net(torch.rand(2, 3, 1024)).shape
    torch.Size([2, 3, 1024])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class VideoPredictor(nn.Module):
    """Conv encoder -> recurrent core -> deconv decoder, next-frame logits (B, T, size * size); size 32."""

    def __init__(self, core: nn.Module, *, embed_dim: int, core_out: int | None = None, size: int = 32) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"VideoPredictor: size must be divisible by 4, got {size}")
        self.size, self.core = size, core
        side = size // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * side * side, embed_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(core_out or embed_dim, 32 * side * side), nn.ReLU(), nn.Unflatten(1, (32, side, side)),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(), nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),
        )

    def forward(self, frames: Tensor) -> Tensor:
        b, t, p = frames.shape
        if p != self.size * self.size:
            raise ValueError(f"VideoPredictor: frames must be (B, T, {self.size * self.size}), got {tuple(frames.shape)}")
        z = self.encoder(frames.reshape(b * t, 1, self.size, self.size)).view(b, t, -1)
        h = self.core(z)
        return self.decoder(h.reshape(b * t, -1)).view(b, t, p)


def rollout_bce(model: VideoPredictor, frames: Tensor, *, context: int, horizon: int) -> float:
    """Mean per-pixel BCE of a ``horizon``-frame closed-loop rollout after ``context`` true frames.

    ``frames`` (B, T, P) with T >= context + horizon. The model sees the
    true frames 0..context-1, then its own sigmoid predictions; the whole
    prefix is re-run at every step (so any core works, stateful or not).
    """
    if frames.shape[1] < context + horizon:
        raise ValueError(f"rollout_bce: need T >= context + horizon = {context + horizon}, got {frames.shape[1]}")
    model.eval()
    seq = frames[:, :context]
    losses = []
    with torch.no_grad():
        for step in range(horizon):
            logits = model(seq)[:, -1]
            target = frames[:, context + step]
            losses.append(F.binary_cross_entropy_with_logits(logits, target))
            seq = torch.cat([seq, torch.sigmoid(logits).unsqueeze(1)], dim=1)
    return float(torch.stack(losses).mean())


class LanguageModel(nn.Module):
    """Token embedding -> recurrent core with ``readout="all"`` and ``output_size`` = vocabulary -> logits (B, T, V)."""

    def __init__(self, core: nn.Module, *, vocab_size: int, embed_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.core = core

    def forward(self, tokens: Tensor) -> Tensor:
        if tokens.dim() != 2 or tokens.dtype != torch.long:
            raise ValueError(f"LanguageModel: tokens must be (B, T) int64, got {tokens.dtype} {tuple(tokens.shape)}")
        return self.core(self.drop(self.embedding(tokens)))


__all__ = ["LanguageModel", "VideoPredictor", "rollout_bce"]
