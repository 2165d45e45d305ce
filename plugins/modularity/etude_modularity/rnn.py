"""The RNN (sequence) family of the rule networks: modular recurrent cells, as the official ``RNN/*/model.py``.

Every step of a sequence ``x`` (B, T, F) (data, then the one-hot op of the
step's rule) is encoded by a shared MLP ``F -> e -> e``. The monolithic
model runs one ``nn.LSTMCell`` (or ``nn.GRUCell``) of hidden size d; the
modular models run M cells as one
:class:`~etude_modularity.group_linear.GroupLSTMCell` /
:class:`~etude_modularity.group_linear.GroupGRUCell` without biases, all
reading the step's encoding and the *shared* routed state: every module
computes its candidate ``(h_m, c_m)`` from the previous ``(h, c)``, and the
new state is ``h = sum_m p_m h_m`` (and ``c = sum_m p_m c_m``). Routing per
step: ``softmax_m`` of ``GroupLinear(M, 2 g H, 1)(relu([x W_ih[m], h W_hh[m]]))``,
each module scoring its own gate pre-activations (joint);
``softmax(MLP(op one-hot))`` with hidden width H (op); the op one-hot (GT).
Cells and scorers have no biases, as the official modular cell.
The decoder ``H -> H -> out`` reads every step's state.

Module width H solves the official parameter-matching quadratic, for g
gates (g = 4 for the LSTM gives the official formula exactly):

    (g M + 1) H^2 + (g M e + 1) H = (g + 1) d^2 + d (g e + 1).

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> import torch
    >>> from etude_modularity.models import GTModular
    >>> net = GTModular(family="rnn", rules=2, encoder_dim=8, in_features=6, out_features=4)
    >>> y, p = net(torch.randn(3, 5, 6), return_routing=True)
    >>> y.shape, p.shape
    (torch.Size([3, 5, 4]), torch.Size([3, 5, 2]))
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.data import MLP

from .group_linear import GroupGRUCell, GroupLinear, GroupLSTMCell

GATES = {"lstm": 4, "gru": 3}


def module_hidden_size(encoder_dim: int, dim: int, modules: int, gates: int = 4) -> int:
    """Per-module hidden size H from the parameter-matching quadratic of the module docstring."""
    a = gates * modules + 1
    b = gates * modules * encoder_dim + 1
    c = (gates + 1) * dim * dim + dim * (gates * encoder_dim + 1)
    return max(1, int((math.sqrt(b * b + 4 * a * c) - b) / (2 * a)))


class _SequenceBody(nn.Module):
    def __init__(self, c: Any, hidden: int) -> None:
        super().__init__()
        self.config = c
        self.hidden = hidden
        self.encoder = MLP(c.token_features, c.encoder_dim, hidden=(c.encoder_dim,))

    def _make_decoder(self) -> None:
        self.decoder = MLP(self.hidden, self.config.token_outputs, hidden=(self.hidden,))

    def encode(self, x: Tensor) -> Tensor:
        c = self.config
        if x.dim() != 3 or x.shape[-1] != c.token_features:
            raise ValueError(f"the RNN family expects sequences (B, T, F = {c.token_features}) (data, then the "
                             f"one-hot op of {c.rules} rules), got shape {tuple(x.shape)}")
        b, t, _ = x.shape
        return self.encoder(x.reshape(b * t, -1)).view(b, t, -1)

    def decode(self, states: Tensor) -> Tensor:
        b, t, _ = states.shape
        return self.decoder(states.reshape(b * t, -1)).view(b, t, -1)


class SequenceMonolithicBody(_SequenceBody):
    """One ``nn.LSTMCell`` / ``nn.GRUCell`` of hidden size d over the encoded steps."""

    def __init__(self, c: Any) -> None:
        super().__init__(c, c.width)
        cell = nn.LSTMCell if c.cell == "lstm" else nn.GRUCell
        self.rnn = cell(c.encoder_dim, c.width)
        self._make_decoder()

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        s = self.encode(x)
        h = s.new_zeros(s.shape[0], self.hidden)
        c = torch.zeros_like(h)
        states = []
        for t in range(s.shape[1]):
            if self.config.cell == "lstm":
                h, c = self.rnn(s[:, t], (h, c))
            else:
                h = self.rnn(s[:, t], h)
            states.append(h)
        return self.decode(torch.stack(states, 1)), None


class SequenceModularBody(_SequenceBody):
    """M bias-free cells in one group cell, routed per step, sharing the routed state."""

    def __init__(self, c: Any, routing: str) -> None:
        gates = GATES[c.cell]
        m = c.num_modules
        super().__init__(c, module_hidden_size(c.encoder_dim, c.width, m, gates))
        self.routing = routing
        cell = GroupLSTMCell if c.cell == "lstm" else GroupGRUCell
        self.rnn = cell(m, c.encoder_dim, self.hidden, bias=False)
        # bias-free scorers, as the official modular cell (built with bias=False throughout)
        if routing == "joint":
            self.scorer = GroupLinear(m, 2 * gates * self.hidden, 1, bias=False)
        elif routing == "op":
            self.scorer = MLP(c.rules, m, hidden=(self.hidden,), bias=False)
        self._make_decoder()

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        cfg = self.config
        s = self.encode(x)
        b, steps, e = s.shape
        m = cfg.num_modules
        op = x[..., -cfg.rules:]
        # every step's input projections at once: (B, T, M, g H)
        gi_all = self.rnn.input_projections(s.reshape(b * steps, e)).view(b, steps, m, -1)
        if self.routing == "op":
            p_all = torch.softmax(self.scorer(op.reshape(b * steps, -1)), dim=-1).view(b, steps, m)
        h = s.new_zeros(b, self.hidden)
        c = torch.zeros_like(h)
        states, routing = [], []
        for t in range(steps):
            gi = gi_all[:, t]
            gh = self.rnn.hidden_projections(h)                            # shared state, one GEMM
            if self.routing == "joint":
                p = torch.softmax(self.scorer(torch.relu(torch.cat([gi, gh], dim=-1))).squeeze(-1), dim=-1)
            elif self.routing == "op":
                p = p_all[:, t]
            else:
                p = op[:, t]
            w = p.unsqueeze(-1)
            if cfg.cell == "lstm":
                h_m, c_m = self.rnn.combine(gi, gh, c.unsqueeze(1))
                h, c = (h_m * w).sum(1), (c_m * w).sum(1)
            else:
                h = (self.rnn.combine(gi, gh, h.unsqueeze(1)) * w).sum(1)
            states.append(h)
            routing.append(p)
        return self.decode(torch.stack(states, 1)), torch.stack(routing, 1)


__all__ = ["SequenceModularBody", "SequenceMonolithicBody", "module_hidden_size"]
