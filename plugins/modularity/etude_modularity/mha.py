"""The MHA (set) family of the rule networks: modular multi-head attention, as the official ``MHA/*/model.py``.

Every element of a set ``x`` (B, T, F) (data features, then the one-hot op
of its rule) is encoded by a shared MLP ``F -> e -> e``. One registered
attention mechanism (default the core's ``multihead``, at width e, with
``output_projection=False``) runs M x H heads of width ``e / (M H)`` over
the set, **diagonal masked** (an element attends to every other element,
never to itself, as the search-and-retrieve rules of
``task/rule-regression-set`` ask). Module m owns heads ``mH .. mH + H - 1``:
its input is their concatenated outputs and a per-module skip projection of
the element's own encoding (``GroupLinear(M, e, e / (M H))``), and its output
MLP is a :class:`~etude_modularity.group_linear.GroupLinear` stack
``(H + 1) e/(MH) -> I -> e [+ 1]`` with the official intermediate width

    I = floor(2e (M H (a + e) + a) / (M (a (H + 1) + M H e))),  a = attention width,

which keeps parameter counts close to the monolithic model (M x H heads of
the same width, skip ``e -> e/(MH)``, output MLP ``(MH + 1) e/(MH) -> d -> e``).
Routing per element: ``softmax_m`` of the modules' own last output (joint),
``softmax(MLP(op one-hot))`` with hidden width e/(MH) (op), the op one-hot
(GT); ``h = sum_m p_m h_m`` goes through the decoder ``e -> e -> out``.

Difference from the official code: the core's attention contract keeps
the attention width equal to its input width (``E == embed_dim``), so the
attention runs at width e where the official ``att_dim`` is 2e; heads are
half as wide and the intermediate width follows from a = e.

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> import torch
    >>> from etude_modularity.models import Modular
    >>> net = Modular(family="mha", rules=2, encoder_dim=8, in_features=10)
    >>> y, p = net(torch.randn(3, 5, 10), return_routing=True)
    >>> y.shape, p.shape
    (torch.Size([3, 5]), torch.Size([3, 5, 2]))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.data import MLP

from .group_linear import GroupLinear


def intermediate_width(dim: int, attention_dim: int, heads: int, modules: int) -> int:
    """The official per-module output-MLP width ``I`` (module docstring) for encoder width ``dim``."""
    num = 2 * dim * (modules * heads * (attention_dim + dim) + attention_dim)
    den = modules * (attention_dim * (heads + 1) + modules * heads * dim)
    return max(1, int(num / den))


class _SetBody(nn.Module):
    """Shared parts: per-element encoder, the registered attention (M x H heads), the decoder."""

    def __init__(self, c: Any) -> None:
        super().__init__()
        import etude  # noqa: PLC0415

        self.config = c
        e, m, h = c.encoder_dim, c.num_modules, c.heads
        self.total_heads, self.head_dim = m * h, e // (m * h)
        self.encoder = MLP(c.token_features, e, hidden=(e,))
        options = {"output_projection": False} if c.attention == "multihead" else {}
        options.update(c.attention_options)
        self.attention = etude.create("attention", c.attention, embed_dim=e, num_heads=self.total_heads, **options)
        self.decoder = MLP(e, c.token_outputs, hidden=(e,))

    def _check(self, x: Tensor) -> None:
        c = self.config
        if x.dim() != 3 or x.shape[-1] != c.token_features or x.shape[1] < 2:
            raise ValueError(f"the MHA family expects sets (B, T >= 2, F = {c.token_features}) (data features, then "
                             f"the one-hot op of {c.rules} rules), got shape {tuple(x.shape)}")

    def attend(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Encodings s (B, T, e) and the diagonal-masked attention output (B, T, e) (heads concatenated)."""
        self._check(x)
        b, t, _ = x.shape
        s = self.encoder(x.reshape(b * t, -1)).view(b, t, -1)
        mask = ~torch.eye(t, dtype=torch.bool, device=x.device)
        out, _ = self.attention(s, mask=mask)
        return s, out

    def decode(self, h: Tensor) -> Tensor:
        b, t, _ = h.shape
        y = self.decoder(h.reshape(b * t, -1)).view(b, t, -1)
        return y.squeeze(-1) if y.shape[-1] == 1 else y


class SetMonolithicBody(_SetBody):
    """Monolithic set model: M x H heads, skip ``e -> e/(MH)``, output MLP ``(MH + 1) e/(MH) -> d -> e``."""

    def __init__(self, c: Any) -> None:
        super().__init__(c)
        e = c.encoder_dim
        self.skip = nn.Linear(e, self.head_dim)
        self.output = MLP(self.head_dim * (self.total_heads + 1), e, hidden=(c.width,))

    def forward(self, x: Tensor) -> tuple[Tensor, None]:
        s, out = self.attend(x)
        b, t, _ = out.shape
        h = self.output(torch.cat([out, self.skip(s)], dim=-1).reshape(b * t, -1)).view(b, t, -1)
        return self.decode(h), None


class SetModularBody(_SetBody):
    """M modules, each owning H heads, a skip projection and a group-linear output MLP; routing per element."""

    def __init__(self, c: Any, routing: str) -> None:
        super().__init__(c)
        e, m, hd = c.encoder_dim, c.num_modules, self.head_dim
        self.routing = routing
        self.width = intermediate_width(e, e, c.heads, m)
        self.skip = GroupLinear(m, e, hd)
        self.modules_in = GroupLinear(m, hd * (c.heads + 1), self.width)
        self.modules_out = GroupLinear(m, self.width, e + (routing == "joint"))
        if routing == "op":
            self.scorer = MLP(c.rules, m, hidden=(hd,))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        c = self.config
        s, out = self.attend(x)
        b, t, e = s.shape
        m = c.num_modules
        heads = out.reshape(b * t, m, -1)                                   # module m: heads mH .. mH + H - 1
        inputs = torch.cat([heads, self.skip.forward_shared(s.reshape(b * t, e))], dim=-1)
        outputs = self.modules_out(torch.relu(self.modules_in(inputs)))   # (B T, M, e [+ 1])
        op = x[..., -c.rules:].reshape(b * t, c.rules)
        if self.routing == "joint":
            outputs, p = outputs[..., :-1], torch.softmax(outputs[..., -1], dim=-1)
        elif self.routing == "op":
            p = torch.softmax(self.scorer(op), dim=-1)
        else:
            p = op
        h = (outputs * p.unsqueeze(-1)).sum(1).view(b, t, e)
        return self.decode(h), p.view(b, t, m)


__all__ = ["SetModularBody", "SetMonolithicBody", "intermediate_width"]
