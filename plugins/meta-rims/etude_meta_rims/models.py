"""Sequence models: RIMs (the cell unrolled over time with a readout) and the LSTM baseline of equal size.

:class:`RIMs` runs a :class:`~etude_meta_rims.cell.RIMCell` over the time
axis (the only Python loop: time steps are sequential), one input slot per
step (optionally a shared linear encoder first), and reads out from the
concatenated module states ``h_t`` (B, K * d_h) with one ``Linear``:
per step (``readout="all"``, sequence labelling such as copying) or at the
last step (``"last"``, sequence classification such as sequential MNIST).
Dropout (official ``rnn_models.py``: 0.5) is applied to the encoder output
and to the readout input. :class:`LSTMBaseline` is the same wrapper around
a fused ``nn.LSTM``; :func:`match_parameters` sizes it to a model's
parameter count, as the paper's comparisons do.

References:
    A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893
    (official ``event_based/rnn_models.py``, ``baseline_lstm_model.py``).

Examples:
    >>> import torch
    >>> rims = RIMs(input_size=4, output_size=3, hidden_size=8, num_modules=4, active=2)
    >>> logits, trace = rims(torch.randn(2, 5, 4), return_trace=True)
    >>> logits.shape, trace["active"].shape
    (torch.Size([2, 5, 3]), torch.Size([5, 2, 4]))
    >>> lstm = match_parameters(rims)
    >>> abs(lstm.num_parameters() - rims.num_parameters()) / rims.num_parameters() < 0.02
    True
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, one_of, positive
from etude.kinds import Model

from .cell import RIMCell, RIMState


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


def _check_sequence(name: str, x: Any, input_size: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != input_size or x.shape[1] < 1:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: inputs must be (B, T >= 1, input_size={input_size}) float, got {shape}; "
                         "token sequences need one-hot encoding first (task option one_hot=True)")
    if not x.is_floating_point():
        raise ValueError(f"{name}: inputs must be a float tensor, got dtype {x.dtype}")


@configclass
class RIMsConfig:
    input_size: int = field(validator=positive, doc="features per time step")
    output_size: int = field(validator=positive, doc="readout width (classes, or 1 for regression)")
    hidden_size: int = field(default=100, validator=positive, doc="state width d_h per module")
    num_modules: int = field(default=6, validator=positive, doc="modules K")
    active: int = field(default=4, validator=positive, doc="active modules per step k_A")
    cell: str = field(default="lstm", validator=one_of("lstm", "gru"), doc="the modules' recurrent cell")
    encoder_dim: int | None = field(default=None, validator=_optional_positive,
                                    doc="width of a shared linear input encoder (None: the raw input is the slot)")
    readout: str = field(default="all", validator=one_of("all", "last"),
                         doc="'all': logits at every step (B, T, O); 'last': at the last step (B, O)")
    dropout: float = field(default=0.5, validator=in_range(0.0, 1.0, high_open=True),
                           doc="dropout on the encoder output and the readout input (official 0.5)")
    cell_options: dict = field(factory=dict, converter=dict,
                               doc="further RIMCellConfig fields (input_attention, communication, comm_embed_dim, ...)")

    def __attrs_post_init__(self) -> None:
        if self.active > self.num_modules:
            raise FieldValueError("active", self.active, f"at most num_modules={self.num_modules}")
        clash = sorted({"input_size", "hidden_size", "num_modules", "active", "cell"} & set(self.cell_options))
        if clash:
            raise FieldValueError("cell_options", self.cell_options, f"options without {clash} (set them on RIMs)")


class RIMs(Model):
    """Recurrent Independent Mechanisms over a sequence: ``(B, T, input_size) -> logits``.

    ``forward(x, state=None, *, return_trace=False)`` returns the logits
    ((B, T, O) or (B, O), see ``readout``); with ``return_trace=True`` it
    returns ``(logits, trace)``, ``trace`` holding ``"active"`` (T, B, K)
    bool, ``"null_attention"`` (T, B, K) and the final ``"state"``.
    Parameter groups for Meta-RIMs: :meth:`module_parameters` (θ),
    :meth:`attention_parameters` (φ), :meth:`other_parameters` (encoder and
    readout, slow in every Meta-RIMs mode).

    References:
        A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893.

    Examples:
        >>> import torch
        >>> model = RIMs(input_size=1, output_size=10, hidden_size=8, num_modules=4, active=2, readout="last")
        >>> model(torch.randn(3, 7, 1)).shape
        torch.Size([3, 10])
    """

    Config = RIMsConfig

    def __init__(self, config: RIMsConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = nn.Linear(c.input_size, c.encoder_dim) if c.encoder_dim is not None else None
        slot = c.encoder_dim if c.encoder_dim is not None else c.input_size
        self.cell = RIMCell(input_size=slot, hidden_size=c.hidden_size, num_modules=c.num_modules,
                            active=c.active, cell=c.cell, **c.cell_options)
        self.drop = nn.Dropout(c.dropout)
        self.decoder = nn.Linear(c.num_modules * c.hidden_size, c.output_size)

    def module_parameters(self) -> list[nn.Parameter]:
        """θ: the modules' recurrent weights (the cell's group LSTM / GRU)."""
        return self.cell.module_parameters()

    def attention_parameters(self) -> list[nn.Parameter]:
        """φ: both attentions with their projections, gate and slot embedding."""
        return self.cell.attention_parameters()

    def other_parameters(self) -> list[nn.Parameter]:
        """Encoder and readout (neither θ nor φ in the paper; slow in every Meta-RIMs mode)."""
        ids = {id(p) for p in self.cell.parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def forward(self, x: Tensor, state: RIMState | None = None, *,
                return_trace: bool = False) -> Tensor | tuple[Tensor, dict[str, Any]]:
        _check_sequence("RIMs", x, self.config.input_size)
        inp = self.drop(self.encoder(x)) if self.encoder is not None else x
        hs, actives, nulls = [], [], []
        last = self.config.readout == "last"
        for t in range(inp.shape[1]):
            h, state, info = self.cell(inp[:, t:t + 1], state)
            if not last or t == inp.shape[1] - 1:
                hs.append(h.flatten(1))
            if return_trace:
                actives.append(info["active"])
                nulls.append(info["null_attention"])
        feats = hs[-1] if last else torch.stack(hs, dim=1)
        logits = self.decoder(self.drop(feats))
        if not return_trace:
            return logits
        return logits, {"active": torch.stack(actives), "null_attention": torch.stack(nulls), "state": state}


@configclass
class LSTMBaselineConfig:
    input_size: int = field(validator=positive, doc="features per time step")
    output_size: int = field(validator=positive, doc="readout width")
    hidden_size: int = field(default=600, validator=positive, doc="LSTM width (official baseline 600)")
    num_layers: int = field(default=1, validator=positive, doc="stacked LSTM layers")
    encoder_dim: int | None = field(default=None, validator=_optional_positive,
                                    doc="width of a linear input encoder (None: raw inputs)")
    readout: str = field(default="all", validator=one_of("all", "last"), doc="'all' (B, T, O) or 'last' (B, O)")
    dropout: float = field(default=0.5, validator=in_range(0.0, 1.0, high_open=True),
                           doc="dropout on the encoder output and the readout input")


class LSTMBaseline(Model):
    """A fused ``nn.LSTM`` with the same encoder / readout / dropout wrapper as :class:`RIMs`.

    ``forward(x, state=None)`` -> logits ((B, T, O) or (B, O)). Use
    :func:`match_parameters` to size it to another model.

    Examples:
        >>> import torch
        >>> LSTMBaseline(input_size=3, output_size=2, hidden_size=16)(torch.randn(4, 6, 3)).shape
        torch.Size([4, 6, 2])
    """

    Config = LSTMBaselineConfig

    def __init__(self, config: LSTMBaselineConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = nn.Linear(c.input_size, c.encoder_dim) if c.encoder_dim is not None else None
        width = c.encoder_dim if c.encoder_dim is not None else c.input_size
        self.lstm = nn.LSTM(width, c.hidden_size, num_layers=c.num_layers, batch_first=True)
        self.drop = nn.Dropout(c.dropout)
        self.decoder = nn.Linear(c.hidden_size, c.output_size)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> Tensor:
        _check_sequence("LSTMBaseline", x, self.config.input_size)
        inp = self.drop(self.encoder(x)) if self.encoder is not None else x
        out, _ = self.lstm(inp, state)
        feats = out[:, -1] if self.config.readout == "last" else out
        return self.decoder(self.drop(feats))


def lstm_parameter_count(hidden_size: int, *, input_size: int, output_size: int, num_layers: int = 1,
                         encoder_dim: int | None = None) -> int:
    """Exact parameter count of an :class:`LSTMBaseline` (two bias vectors per layer, as ``nn.LSTM``)."""
    h = hidden_size
    width = encoder_dim if encoder_dim is not None else input_size
    count = (encoder_dim * input_size + encoder_dim) if encoder_dim is not None else 0
    count += 4 * h * (width + h) + 8 * h + (num_layers - 1) * (4 * h * (2 * h) + 8 * h)
    return count + h * output_size + output_size


def match_parameters(model: nn.Module | int, *, input_size: int | None = None, output_size: int | None = None,
                     **options: Any) -> LSTMBaseline:
    """An :class:`LSTMBaseline` whose parameter count is the closest to ``model``'s (or to an int count).

    ``input_size``, ``output_size``, ``readout``, ``encoder_dim`` and
    ``dropout`` default to the model's config when it has them (a
    :class:`RIMs` or anything with such fields); further ``options`` are
    :class:`LSTMBaselineConfig` fields. The hidden size is the integer
    minimising ``|count(h) - target|`` (the count is quadratic in h).

    Examples:
        >>> lstm = match_parameters(10_000, input_size=4, output_size=2)
        >>> lstm.config.hidden_size, lstm.num_parameters()
        (47, 10012)
    """
    if isinstance(model, bool) or not isinstance(model, (int, nn.Module)):
        raise TypeError(f"match_parameters: model must be an nn.Module or a parameter count, got {type(model).__name__}")
    cfg = getattr(model, "config", None)
    target = model if isinstance(model, int) else sum(p.numel() for p in model.parameters() if p.requires_grad)
    for name in ("readout", "encoder_dim", "dropout"):
        if name not in options and cfg is not None and hasattr(cfg, name):
            options[name] = getattr(cfg, name)
    input_size = input_size if input_size is not None else getattr(cfg, "input_size", None)
    output_size = output_size if output_size is not None else getattr(cfg, "output_size", None)
    if input_size is None or output_size is None:
        raise ValueError("match_parameters: pass input_size and output_size (the model's config has none)")
    layers = int(options.get("num_layers", 1))
    count = {"input_size": input_size, "output_size": output_size, "num_layers": layers,
             "encoder_dim": options.get("encoder_dim")}
    if target < lstm_parameter_count(1, **count):
        raise ValueError(f"match_parameters: target {target} is below the smallest LSTM baseline "
                         f"({lstm_parameter_count(1, **count)} parameters with hidden_size=1)")
    # count(h) increases with h: bisect for the first h with count >= target, then take the closer neighbour
    low, high = 1, 2
    while lstm_parameter_count(high, **count) < target:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if lstm_parameter_count(mid, **count) < target else (low, mid)
    best = min((low, high), key=lambda h: (abs(lstm_parameter_count(h, **count) - target), h))
    return LSTMBaseline(input_size=input_size, output_size=output_size, hidden_size=best, **options)


__all__ = ["LSTMBaseline", "LSTMBaselineConfig", "RIMs", "RIMsConfig", "lstm_parameter_count", "match_parameters"]
