"""Monolithic, Modular (end-to-end), Modular-op and GT-Modular networks for the rule tasks (MLP family).

Shared parts (Mittal et al. 2022, Section 3; official ``MLP/*/model.py``),
all built from the core's ``model/mlp``: a digit encoder ``1 -> e -> e``
applied to a and to b, an op encoder ``R -> e -> e``, and a decoder
``d -> e -> out``. Between them, on the concatenation ``s`` (3e):

- Monolithic: an MLP ``3e -> d -> d``.
- Modular (end-to-end, "joint"): M modules as one :class:`GroupLinear`
  stack ``3e -> d/M -> d + 1``; module m's last output is its score,
  ``p = softmax_m(score)``, ``h = sum_m p_m h_m``.
- Modular-op: the same modules (``3e -> d/M -> d``); ``p = softmax(Linear(op encoding))``.
- GT-Modular: the same modules with ``p`` the ground-truth op one-hot (M = R).

With d = 2e the modules' widths follow the official ``dim // num_rules``
so parameter counts stay comparable (``num_parameters()``). ``forward(x)``
returns predictions ((B, out) so the core loop trains them unchanged);
``forward(x, return_routing=True)`` returns ``(predictions, p)`` with p
(B, M) (monolithic: None).

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


@configclass
class RuleModelConfig:
    rules: int = field(default=4, validator=positive, doc="number of rules R (inputs are (B, 2 + R))")
    in_features: int | None = field(default=None, validator=_optional_positive,
                                    doc="input width; must be 2 + rules (filled in by procedure/supervised)")
    out_features: int = field(default=1, validator=positive, doc="outputs (1 for regression, 2 for classification)")
    encoder_dim: int = field(default=32, validator=positive, doc="encoder width e")
    dim: int | None = field(default=None, validator=_optional_positive, doc="model width d (None: 2e)")
    modules: int | None = field(default=None, validator=_optional_positive,
                                doc="number of modules M (None: R; GT-Modular needs M = R)")
    family: str = field(default="mlp", validator=one_of("mlp"),
                        doc="'mlp' (the MHA and RNN families are not implemented yet)")

    def __attrs_post_init__(self) -> None:
        if self.in_features is not None and self.in_features != 2 + self.rules:
            raise FieldValueError("in_features", self.in_features, f"2 + rules = {2 + self.rules} (a, b, one-hot op)")
        if self.num_modules > self.width:
            raise FieldValueError("modules", self.num_modules, f"<= dim = {self.width} (each module has dim // M units)")

    @property
    def width(self) -> int:
        return 2 * self.encoder_dim if self.dim is None else self.dim

    @property
    def num_modules(self) -> int:
        return self.rules if self.modules is None else self.modules


class _RuleNetwork(Model):
    Config = RuleModelConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        e, d = c.encoder_dim, c.width
        self.encoder_digit = MLP(1, e, hidden=(e,))
        self.encoder_operation = MLP(c.rules, e, hidden=(e,))
        self.decoder = MLP(d, c.out_features, hidden=(e,))

    def _encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r = self.config.rules
        if x.dim() != 2 or x.shape[1] != 2 + r:
            raise ValueError(f"{type(self).__name__} expects inputs (B, 2 + rules) = (B, {2 + r}) "
                             f"holding (a, b, one-hot op), got shape {tuple(x.shape)}")
        a, b, op = x[:, 0:1], x[:, 1:2], x[:, 2:]
        op_code = self.encoder_operation(op)
        return torch.cat([self.encoder_digit(a), self.encoder_digit(b), op_code], dim=-1), op_code

    def forward(self, x: Tensor, return_routing: bool = False) -> Any:
        h, routing = self.core(x)
        y = self.decoder(h)
        return (y, routing) if return_routing else y

    def core(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """The hidden representation h (B, d) fed to the decoder and the routing (B, M) (None if monolithic)."""
        raise NotImplementedError


class Monolithic(_RuleNetwork):
    """One MLP ``3e -> d -> d`` between the encoders and the decoder (no modules; routing None).

    Examples:
        >>> import torch
        >>> Monolithic(rules=2, encoder_dim=4)(torch.randn(3, 4)).shape
        torch.Size([3, 1])
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.mlp = MLP(3 * c.encoder_dim, c.width, hidden=(c.width,))

    def core(self, x: Tensor) -> tuple[Tensor, None]:
        s, _ = self._encode(x)
        return self.mlp(s), None


class _Modules(_RuleNetwork):
    extra_output = 0

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        m, d = c.num_modules, c.width
        self.modules_in = GroupLinear(m, 3 * c.encoder_dim, d // m)
        self.modules_out = GroupLinear(m, d // m, d + self.extra_output)

    def module_outputs(self, s: Tensor) -> Tensor:
        """Every module's output on the shared input s (B, 3e): (B, M, d [+ 1])."""
        return self.modules_out(torch.relu(self.modules_in.forward_shared(s)))

    def route(self, x: Tensor, outputs: Tensor, op_code: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def core(self, x: Tensor) -> tuple[Tensor, Tensor]:
        s, op_code = self._encode(x)
        h, p = self.route(x, self.module_outputs(s), op_code)
        return (h * p.unsqueeze(-1)).sum(1), p


class Modular(_Modules):
    """End-to-end ("joint") modular network: each module scores itself, ``p = softmax_m(score_m)``.

    Examples:
        >>> import torch
        >>> _, p = Modular(rules=3, encoder_dim=6)(torch.randn(2, 5), return_routing=True)
        >>> torch.allclose(p.sum(1), torch.ones(2))
        True
    """

    extra_output = 1

    def route(self, x: Tensor, outputs: Tensor, op_code: Tensor) -> tuple[Tensor, Tensor]:
        return outputs[..., :-1], torch.softmax(outputs[..., -1], dim=1)


class ModularOp(_Modules):
    """Modular network whose router sees only the rule: ``p = softmax(Linear(op encoding))``.

    Examples:
        >>> import torch
        >>> ModularOp(rules=2, encoder_dim=4)(torch.randn(3, 4)).shape
        torch.Size([3, 1])
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.scorer = nn.Linear(self.config.encoder_dim, self.config.num_modules)

    def route(self, x: Tensor, outputs: Tensor, op_code: Tensor) -> tuple[Tensor, Tensor]:
        return outputs, torch.softmax(self.scorer(op_code), dim=-1)


class GTModular(_Modules):
    """Modular network routed by the ground truth: ``p`` is the op one-hot (module r serves rule r).

    Examples:
        >>> import torch
        >>> x = torch.tensor([[0.5, -1.0, 0.0, 1.0]])
        >>> GTModular(rules=2, encoder_dim=4)(x, return_routing=True)[1]
        tensor([[0., 1.]])
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        if self.config.num_modules != self.config.rules:
            raise FieldValueError("modules", self.config.modules, f"None or rules = {self.config.rules} for GT-Modular")

    def route(self, x: Tensor, outputs: Tensor, op_code: Tensor) -> tuple[Tensor, Tensor]:
        return outputs, x[:, 2:]


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
