"""The Emergent Symbols through Binding Network (ESBN; Webb, Sinha & Cohen, ICLR 2021), a CoRelNet baseline.

An LSTM controller never sees the object encodings; it writes keys into a
key-value memory whose values are the (context-normalised) encodings, and
reads keys back by similarity of the current encoding to the stored values:

    h_t = LSTM(k_r,t-1 , h_t-1)          k_w,t = ReLU(W_k h_t)    g_t = sigmoid(W_g h_t)
    s_i = z_t . M_v,i (i < t)            w = softmax(s)           c_i = sigmoid(gamma s_i + beta)
    k_r,t = g_t sum_i w_i [M_k,i ; c_i]  (0 at t = 0)             then M_k,t <- k_w,t, M_v,t <- z_t

over t = 0..N (one extra step with z = 0 reads the key retrieved for the last
object); the output is W_y h_N. Sizes as in the reference: hidden 512, keys 256.

References:
    T. W. Webb, I. Sinha, J. D. Cohen, "Emergent Symbols through Binding in External Memory",
    ICLR 2021, arXiv:2012.14601; G. Kerg et al., arXiv:2206.05056, 2022 (the baseline).
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
class ESBNConfig(ObjectModelConfig):
    z_dim: int = field(default=128, validator=positive, doc="encoding width (memory values)")
    hidden: int = field(default=512, validator=positive, doc="LSTM controller width")
    key_dim: int = field(default=256, validator=positive, doc="memory key width")


class ESBN(Model):
    """ESBN: LSTM controller with a key-value binding memory (values: encodings, keys: written by the controller).

    Examples:
        >>> import torch
        >>> ESBN(input_shape=(6, 32), num_classes=2, z_dim=16, hidden=32, key_dim=8)(torch.randn(3, 6, 32)).shape
        torch.Size([3, 2])
    """

    Config = ESBNConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = ObjectEncoder(c.encoder, tuple(c.input_shape[1:]), c.z_dim, c.encoder_options)
        self.norm = ContextNorm(c.z_dim) if c.context_norm == "all" else nn.Identity()
        self.lstm = nn.LSTMCell(c.key_dim + 1, c.hidden)
        self.key_out = nn.Linear(c.hidden, c.key_dim)
        self.gate_out = nn.Linear(c.hidden, 1)
        self.y_out = nn.Linear(c.hidden, c.num_classes)
        self.confidence_gain = nn.Parameter(torch.ones(1))
        self.confidence_bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        c = self.config
        z = self.norm(self.encoder(x))  # (B, N, d)
        b, n, _ = z.shape
        z = torch.cat([z, z.new_zeros(b, 1, c.z_dim)], dim=1)  # the extra read step
        h = z.new_zeros(b, c.hidden)
        cell = z.new_zeros(b, c.hidden)
        key_r = z.new_zeros(b, c.key_dim + 1)
        keys, values = [], []
        for t in range(n + 1):
            h, cell = self.lstm(key_r, (h, cell))
            key_w = torch.relu(self.key_out(h))
            gate = torch.sigmoid(self.gate_out(h))
            z_t = z[:, t]
            if t == 0:
                key_r = z.new_zeros(b, c.key_dim + 1)
            else:
                m_k, m_v = torch.stack(keys, 1), torch.stack(values, 1)  # (B, t, key), (B, t, d)
                scores = (m_v * z_t[:, None]).sum(-1)
                weights = torch.softmax(scores, dim=1)
                confidence = torch.sigmoid(scores * self.confidence_gain + self.confidence_bias)
                key_r = gate * (torch.cat([m_k, confidence[..., None]], dim=2) * weights[..., None]).sum(1)
            keys.append(key_w)
            values.append(z_t)
        return self.y_out(h)


__all__ = ["ESBN", "ESBNConfig"]
