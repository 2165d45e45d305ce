"""Monolithic, Modular (end-to-end), Modular-op and GT-Modular networks for the rule tasks, in three families.

``family="mlp"`` (official ``MLP/*/model.py``; this module), built from
the core's ``model/mlp``: a digit encoder ``1 -> e -> e`` applied to a and
to b, an op encoder ``R -> e -> e``, and a decoder ``d -> e -> out``.
Between them, on the concatenation ``s`` (3e):

- Monolithic: an MLP ``3e -> d -> d``.
- Modular (end-to-end, "joint"): M modules as one :class:`GroupLinear`
  stack ``3e -> d/M -> d + 1``; module m's last output is its score,
  ``p = softmax_m(score)``, ``h = sum_m p_m h_m``.
- Modular-op: the same modules (``3e -> d/M -> d``); ``p = softmax(Linear(op encoding))``.
- GT-Modular: the same modules with ``p`` the ground-truth op one-hot (M = R).

``family="mha"`` (sets (B, T, F), :mod:`etude_modularity.mha`): modules own
heads of one registered attention and a group-linear output MLP each;
``family="rnn"`` (sequences (B, T, F), :mod:`etude_modularity.rnn`): modules
are the cells of one ``GroupLSTMCell`` / ``GroupGRUCell``. Both route per
element / step with the same four kinds and return ``p`` (B, T, M).

With d = 2e the modules' widths follow the official formulas so
parameter counts stay comparable (``num_parameters()``). ``forward(x)``
returns predictions (MLP (B, out); MHA (B, T) or (B, T, out); RNN
(B, T, out)), so the core loop trains them unchanged;
``forward(x, return_routing=True)`` returns ``(predictions, p)`` (monolithic: None).

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> import torch
    >>> net = Modular(rules=4, encoder_dim=8)
    >>> y, p = net(torch.randn(5, 6), return_routing=True)
    >>> y.shape, p.shape
    (torch.Size([5, 1]), torch.Size([5, 4]))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.data import MLP
from etude.kinds import Model

from .group_linear import GroupLinear


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise FieldValueError(attribute.name, value, "None or a positive int")


def _options(value: Any) -> dict[str, Any]:
    return dict(value or {})


def _optional_shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


@configclass
class RuleModelConfig:
    rules: int = field(default=4, validator=positive, doc="number of rules R (the one-hot op is the last R input features)")
    in_features: int | None = field(default=None, validator=_optional_positive,
                                    doc="input width (MLP: 2 + rules; MHA / RNN: per element, or the per-example "
                                        "total T x F that procedure/supervised fills in with input_shape)")
    out_features: int = field(default=1, validator=positive,
                              doc="outputs (MLP: per example; MHA / RNN: per element or step; 1 for set regression, "
                                  "the state width D for sequences)")
    encoder_dim: int = field(default=32, validator=positive, doc="encoder width e")
    dim: int | None = field(default=None, validator=_optional_positive,
                            doc="model width d (None: 2e): MLP modules' total width, MHA monolithic output-MLP "
                                "hidden width, RNN monolithic hidden size")
    modules: int | None = field(default=None, validator=_optional_positive,
                                doc="number of modules M (None: R; GT-Modular needs M = R)")
    family: str = field(default="mlp", validator=one_of("mlp", "mha", "rnn"),
                        doc="'mlp' (inputs (B, 2 + R)), 'mha' (sets (B, T, F), task/rule-regression-set) or "
                            "'rnn' (sequences (B, T, F), task/rule-regression-sequence)")
    input_shape: tuple[int, ...] | None = field(default=None, converter=_optional_shape,
                                                doc="(T, F) of a set or sequence (filled in by procedure/supervised)")
    heads: int = field(default=2, validator=positive,
                       doc="MHA: heads per module H (the monolithic model has M x H heads, as the official README)")
    attention: str = field(default="multihead", doc="MHA: registered attention mechanism (M x H heads, width e)")
    attention_options: dict = field(factory=dict, converter=_options,
                                    doc="MHA: extra config of the attention (multihead: output_projection=False "
                                        "is set so each module's heads stay its own)")
    cell: str = field(default="lstm", validator=one_of("lstm", "gru"),
                      doc="RNN: recurrent cell (official: 'lstm'); modules are one GroupLSTMCell / GroupGRUCell")

    def __attrs_post_init__(self) -> None:
        if self.family == "mlp":
            if self.in_features is not None and self.in_features != 2 + self.rules:
                raise FieldValueError("in_features", self.in_features, f"2 + rules = {2 + self.rules} (a, b, one-hot op)")
            if self.num_modules > self.width:
                raise FieldValueError("modules", self.num_modules,
                                      f"<= dim = {self.width} (each module has dim // M units)")
            return
        if self.input_shape is not None and len(self.input_shape) != 2:
            raise FieldValueError("input_shape", self.input_shape, "(T, F): a set or sequence of T elements of F features")
        if self.token_features <= self.rules:
            raise FieldValueError("in_features", self.in_features,
                                  f"the per-element width F > rules = {self.rules} (data features, then the one-hot op)")
        if self.family == "mha" and self.encoder_dim % (self.num_modules * self.heads):
            raise FieldValueError("encoder_dim", self.encoder_dim,
                                  f"a multiple of modules x heads = {self.num_modules * self.heads} (the attention "
                                  "runs at width e with M x H heads)")

    @property
    def width(self) -> int:
        return 2 * self.encoder_dim if self.dim is None else self.dim

    @property
    def num_modules(self) -> int:
        return self.rules if self.modules is None else self.modules

    @property
    def _totals(self) -> bool:
        """True when in_features / out_features are per-example totals (T x ...) from procedure/supervised."""
        return (self.input_shape is not None and self.in_features is not None
                and self.in_features == self.input_shape[0] * self.input_shape[1] != self.input_shape[1])

    @property
    def token_features(self) -> int:
        """MHA / RNN: the per-element input width F."""
        if self.input_shape is not None:
            return self.input_shape[1]
        if self.in_features is None:
            raise FieldValueError("in_features", None, f"the per-element width F (or input_shape=(T, F)) for "
                                  f"family={self.family!r}")
        return self.in_features

    @property
    def token_outputs(self) -> int:
        """MHA / RNN: outputs per element (``out_features``, divided by T when it is a per-example total)."""
        if not self._totals:
            return self.out_features
        t = self.input_shape[0]
        if self.out_features % t:
            raise FieldValueError("out_features", self.out_features, f"a multiple of T = {t} (a per-example total)")
        return self.out_features // t


class _MLPBody(nn.Module):
    """The MLP family's shared encoders and decoder (built from the core's ``model/mlp``)."""

    def __init__(self, c: RuleModelConfig) -> None:
        super().__init__()
        self.config = c
        e, d = c.encoder_dim, c.width
        self.encoder_digit = MLP(1, e, hidden=(e,))
        self.encoder_operation = MLP(c.rules, e, hidden=(e,))
        self.decoder = MLP(d, c.out_features, hidden=(e,))

    def _encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r = self.config.rules
        if x.dim() != 2 or x.shape[1] != 2 + r:
            raise ValueError(f"the MLP family expects inputs (B, 2 + rules) = (B, {2 + r}) holding (a, b, one-hot op), "
                             f"got shape {tuple(x.shape)}; set inputs (B, T, F) need family='mha', sequences 'rnn'")
        a, b, op = x[:, 0:1], x[:, 1:2], x[:, 2:]
        op_code = self.encoder_operation(op)
        return torch.cat([self.encoder_digit(a), self.encoder_digit(b), op_code], dim=-1), op_code

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        h, routing = self.core(x)
        return self.decoder(h), routing


class _MLPMonolithic(_MLPBody):
    def __init__(self, c: RuleModelConfig) -> None:
        super().__init__(c)
        self.mlp = MLP(3 * c.encoder_dim, c.width, hidden=(c.width,))

    def core(self, x: Tensor) -> tuple[Tensor, None]:
        s, _ = self._encode(x)
        return self.mlp(s), None


class _MLPModules(_MLPBody):
    def __init__(self, c: RuleModelConfig, routing: str) -> None:
        super().__init__(c)
        m, d = c.num_modules, c.width
        self.routing = routing
        self.modules_in = GroupLinear(m, 3 * c.encoder_dim, d // m)
        self.modules_out = GroupLinear(m, d // m, d + (routing == "joint"))
        if routing == "op":
            self.scorer = nn.Linear(c.encoder_dim, m)

    def core(self, x: Tensor) -> tuple[Tensor, Tensor]:
        s, op_code = self._encode(x)
        outputs = self.modules_out(torch.relu(self.modules_in.forward_shared(s)))   # (B, M, d [+ 1])
        if self.routing == "joint":
            outputs, p = outputs[..., :-1], torch.softmax(outputs[..., -1], dim=1)
        elif self.routing == "op":
            p = torch.softmax(self.scorer(op_code), dim=-1)
        else:
            p = x[:, 2:]
        return (outputs * p.unsqueeze(-1)).sum(1), p


def _build_body(c: RuleModelConfig, routing: str) -> nn.Module:
    if c.family == "mlp":
        return _MLPMonolithic(c) if routing == "monolithic" else _MLPModules(c, routing)
    if c.family == "mha":
        from .mha import SetMonolithicBody, SetModularBody  # noqa: PLC0415

        return SetMonolithicBody(c) if routing == "monolithic" else SetModularBody(c, routing)
    from .rnn import SequenceMonolithicBody, SequenceModularBody  # noqa: PLC0415

    return SequenceMonolithicBody(c) if routing == "monolithic" else SequenceModularBody(c, routing)


class _RuleNetwork(Model):
    Config = RuleModelConfig
    routing = "monolithic"

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if self.routing == "gt" and self.config.num_modules != self.config.rules:
            raise FieldValueError("modules", self.config.modules, f"None or rules = {self.config.rules} for GT-Modular")
        self.body = _build_body(self.config, self.routing)

    def forward(self, x: Tensor, return_routing: bool = False) -> Any:
        y, routing = self.body(x)
        return (y, routing) if return_routing else y


class Monolithic(_RuleNetwork):
    """No modules: MLP family ``3e -> d -> d``; MHA family M x H heads and one output MLP; RNN one cell.

    Routing is None. See the module docstring for the families.

    Examples:
        >>> import torch
        >>> Monolithic(rules=2, encoder_dim=4)(torch.randn(3, 4)).shape
        torch.Size([3, 1])
    """

    routing = "monolithic"


class Modular(_RuleNetwork):
    """End-to-end ("joint") modular network: each module scores itself, ``p = softmax_m(score_m)``.

    Examples:
        >>> import torch
        >>> _, p = Modular(rules=3, encoder_dim=6)(torch.randn(2, 5), return_routing=True)
        >>> torch.allclose(p.sum(1), torch.ones(2))
        True
    """

    routing = "joint"


class ModularOp(_RuleNetwork):
    """Modular network whose router sees only the rule (MLP: ``softmax(Linear(op encoding))``; MHA, RNN: an MLP of the op one-hot).

    Examples:
        >>> import torch
        >>> ModularOp(rules=2, encoder_dim=4)(torch.randn(3, 4)).shape
        torch.Size([3, 1])
    """

    routing = "op"


class GTModular(_RuleNetwork):
    """Modular network routed by the ground truth: ``p`` is the op one-hot (module r serves rule r).

    Examples:
        >>> import torch
        >>> x = torch.tensor([[0.5, -1.0, 0.0, 1.0]])
        >>> GTModular(rules=2, encoder_dim=4)(x, return_routing=True)[1]
        tensor([[0., 1.]])
    """

    routing = "gt"


MODELS = {"monolithic": Monolithic, "modular": Modular, "modular-op": ModularOp, "gt-modular": GTModular}


@torch.no_grad()
def routing_of(model: nn.Module, inputs: Tensor, batch_size: int = 8192) -> Tensor:
    """The routing p (n, M) of a modular model on ``inputs``, in eval mode and chunks."""
    was = model.training
    model.eval()
    try:
        return torch.cat([model(inputs[i:i + batch_size], return_routing=True)[1]
                          for i in range(0, inputs.shape[0], batch_size)])
    finally:
        model.train(was)


__all__ = ["GTModular", "MODELS", "Modular", "ModularOp", "Monolithic", "RuleModelConfig", "routing_of"]
