"""BRIMs: a stack of RIM layers that read bottom-up signals from step t and top-down signals from step t - 1.

Bidirectional Recurrent Independent Mechanisms (Mittal et al., ICML 2020).
Layer l of L is one unmodified :class:`~etude_meta_rims.cell.RIMCell`
(null slot, top-k competition on null probabilities, group LSTM,
communication, exact state copy of inactive modules). At step t its
modules attend over the slots

    [ null, bottom-up b_t^l, top-down d_t^l ]

with b_t^1 = P^bu_1 x_t and b_t^l = P^bu_l vec(h_t^{l-1}) for l > 1, and
d_t^l = P^td_l vec(h_{t-1}^{src(l)}) where src(l) = l + 1
(``top_down_source="above"``, the paper) or L (``"top"``, the official
code). Each ``P`` is its own ``Linear`` per layer and slot kind, from the
flattened (B, K d_h) layer state to the cell's slot width; the cell adds
the null slot. Top-down always comes from t - 1 and bottom-up from t, so a
step has no cycle and outputs up to t never depend on inputs after t.
With ``use_inactive=False`` the inactive modules of layer l - 1 are zeroed
in layer l's bottom-up slot (the official default, True, passes the whole
state). The readout is one ``Linear`` on the top layer's state (official
``rnn_models.py``: decoder on ``hx[-1]``), with dropout on the encoded input
(layer 1's bottom-up slots, the official encoder) and the readout input.

Wirings: ``top_down="paper"`` (every layer but the top reads the layer
above), ``"official"`` (only layer 0 reads the top layer's previous state;
with L = 1 its own previous state; ``top_down_source="top"``), ``"none"``
(all False: stacked RIMs, the RIMs baseline), or an explicit tuple of
per-layer bools.

References:
    S. Mittal, A. Lamb, A. Goyal, V. Voleti, M. Shanahan, G. Lajoie, M. Mozer, Y. Bengio,
    "Learning to Combine Top-Down and Bottom-Up Signals in Recurrent Neural Networks with
    Attention over Modules", ICML 2020, arXiv:2006.16981 (official code ``sarthmit/BRIMs``,
    ``MNIST/blocks.py``, ``blocks_core_all.py``, ``rnn_models.py``, read for the wiring and defaults).

Examples:
    >>> import torch
    >>> model = BRIMs(input_size=3, output_size=4, hidden_size=16, num_modules=4, active=2, readout="all")
    >>> logits, trace = model(torch.randn(2, 5, 3), return_trace=True)
    >>> logits.shape, trace["layers"][0]["slots"], trace["layers"][1]["slots"]
    (torch.Size([2, 5, 4]), ('null', 'bottom-up', 'top-down'), ('null', 'bottom-up'))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, in_range, one_of, positive
from etude.kinds import Model
from etude_meta_rims.cell import RIMCell, RIMCellConfig, RIMState

WIRINGS = ("paper", "official", "none")
_CELL_OWNED = ("input_size", "hidden_size", "num_modules", "active")


def _int_tuple(value: Any) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _top_down(value: Any) -> str | tuple[bool, ...]:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _check_top_down(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, str):
        if value not in WIRINGS:
            raise FieldValueError("top_down", value, f"one of {WIRINGS} or a tuple of per-layer bools")
        return
    if not isinstance(value, tuple) or not value or not all(isinstance(v, bool) for v in value):
        raise FieldValueError("top_down", value, f"one of {WIRINGS} or a non-empty tuple of per-layer bools")


def _optional_source(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and value not in ("above", "top"):
        raise FieldValueError("top_down_source", value, "'above', 'top' or None")


@configclass
class BRIMsConfig:
    """Configuration of :class:`BRIMs` (defaults: ``run_mnist_multi.sh``, 2 layers of 600 units, 6 modules, top-k 4).

    ``hidden_size``, ``num_modules``, ``active`` and ``slot_size`` take one int (every layer) or one per
    layer and are stored as tuples; ``top_down`` is a wiring name or a tuple of per-layer bools.
    """

    input_size: int = field(validator=positive, doc="features per time step")
    output_size: int = field(validator=positive, doc="readout width (classes)")
    num_layers: int = field(default=2, validator=positive, doc="layers L (run_mnist.sh: 1, run_mnist_multi.sh: 2)")
    hidden_size: Any = field(default=(600,), converter=_int_tuple, validator=each(positive),
                                         doc="units per layer K * d_h (one int: every layer; official nhid 600)")
    num_modules: Any = field(default=(6,), converter=_int_tuple, validator=each(positive),
                                         doc="modules K per layer (one int: every layer)")
    active: Any = field(default=(4,), converter=_int_tuple, validator=each(positive),
                                    doc="active modules k_A per layer (one int: every layer)")
    slot_size: Any = field(default=None, converter=lambda v: None if v is None else _int_tuple(v),
                                              doc="width of layer l's bottom-up / top-down slots (None: its "
                                                  "hidden_size, the official emsize = nhid)")
    top_down: Any = field(default="paper", converter=_top_down, validator=_check_top_down,
                                             doc="'paper', 'official', 'none' (stacked RIMs) or per-layer bools")
    top_down_source: str | None = field(default=None, validator=_optional_source,
                                        doc="'above' (layer l + 1) or 'top' (layer L); None: 'top' for the "
                                            "'official' wiring, else 'above'")
    use_inactive: bool = field(default=True, doc="pass inactive modules of layer l - 1 upward (False: zero them)")
    cell: str = field(default="lstm", validator=one_of("lstm", "gru"), doc="the modules' recurrent cell")
    input_attention: str = field(default="multihead", doc="registered attention of every cell's input attention")
    input_attention_options: dict | None = field(
        default=None, converter=lambda v: None if v is None else dict(v),
        doc="its config (None: multihead, 4 heads, no output projection; official 4 input heads)")
    comm_attention: str = field(default="multihead", doc="registered attention among each layer's modules")
    comm_attention_options: dict | None = field(
        default=None, converter=lambda v: None if v is None else dict(v),
        doc="its config (None: multihead, 4 heads; official 4 heads of 32)")
    comm_embed_dim: int = field(default=128, validator=positive, doc="communication token width (official 4 x 32)")
    readout: str = field(default="last", validator=one_of("all", "last"),
                         doc="'all': logits per step (B, T, O); 'last': at the last step (B, O)")
    dropout: float = field(default=0.5, validator=in_range(0.0, 1.0, high_open=True),
                           doc="dropout on the encoded input and the readout input (official 0.5)")
    cell_options: dict = field(factory=dict, converter=dict,
                               doc="further RIMCellConfig fields for every layer (input_dropout, comm_dropout, ...)")

    def __attrs_post_init__(self) -> None:
        n = self.num_layers
        for name in ("hidden_size", "num_modules", "active") + (("slot_size",) if self.slot_size is not None else ()):
            value = getattr(self, name)
            if len(value) not in (1, n):
                raise FieldValueError(name, value, f"one int or {n} values (num_layers={n})")
        for layer in range(n):
            h, k, a = self.layer_hidden(layer), self.layer_modules(layer), self.layer_active(layer)
            if h % k:
                raise FieldValueError("hidden_size", self.hidden_size, f"divisible by num_modules={k} (layer {layer})")
            if a > k:
                raise FieldValueError("active", self.active, f"at most num_modules={k} (layer {layer})")
        if isinstance(self.top_down, tuple) and len(self.top_down) != n:
            raise FieldValueError("top_down", self.top_down, f"{n} bools (num_layers={n})")
        if self.top_down == "official" and self.top_down_source == "above":
            raise FieldValueError("top_down_source", "above", "'top' or None with top_down='official'")
        if self.source == "above" and self.top_down_flags[-1]:
            raise FieldValueError("top_down", self.top_down, "False for the top layer (it has no layer above); "
                                  "top_down_source='top' lets it read its own previous state")
        clash = sorted(set(_CELL_OWNED + ("cell", "input_attention", "input_attention_options", "comm_attention",
                                          "comm_attention_options", "comm_embed_dim")) & set(self.cell_options))
        if clash:
            raise FieldValueError("cell_options", self.cell_options, f"options without {clash} (set them on BRIMs)")
        unknown = sorted(set(self.cell_options) - {f.name for f in RIMCellConfig.__attrs_attrs__})
        if unknown:
            raise FieldValueError("cell_options", self.cell_options, f"RIMCellConfig fields only, not {unknown}")

    def _per_layer(self, value: tuple[int, ...], layer: int) -> int:
        return value[0] if len(value) == 1 else value[layer]

    def layer_hidden(self, layer: int) -> int:
        return self._per_layer(self.hidden_size, layer)

    def layer_modules(self, layer: int) -> int:
        return self._per_layer(self.num_modules, layer)

    def layer_active(self, layer: int) -> int:
        return self._per_layer(self.active, layer)

    def layer_slot(self, layer: int) -> int:
        return self.layer_hidden(layer) if self.slot_size is None else self._per_layer(self.slot_size, layer)

    @property
    def source(self) -> str:
        """The resolved top-down source, 'above' or 'top'."""
        if self.top_down_source is not None:
            return self.top_down_source
        return "top" if self.top_down == "official" else "above"

    @property
    def top_down_flags(self) -> tuple[bool, ...]:
        """The resolved per-layer top-down flags."""
        n = self.num_layers
        if self.top_down == "paper":
            return (True,) * (n - 1) + (False,)
        if self.top_down == "official":
            return (True,) + (False,) * (n - 1)
        if self.top_down == "none":
            return (False,) * n
        return self.top_down


class BRIMs(Model):
    """Bidirectional RIMs over a sequence: ``(B, T, input_size) -> logits``, one ``RIMCell`` per layer.

    ``forward(x, state=None, *, return_trace=False)``: ``state`` a list of
    one :class:`~etude_meta_rims.cell.RIMState` per layer (zeros when
    None). Returns the logits ((B, T, O) or (B, O), see ``readout``); with
    ``return_trace=True`` ``(logits, trace)``, ``trace["layers"][l]``
    holding ``"active"`` (T, B, K_l) bool, ``"null_attention"`` (T, B, K_l),
    ``"slot_attention"`` (T, B, K_l, S_l + 1) (head-mean input-attention
    probabilities from :func:`etude.kinds.attention.key_weights`), ``"slots"``
    (their names: null, bottom-up[, top-down]) and ``"slot_mass"`` (T, B,
    S_l + 1), the module-mean mass per slot; ``trace["state"]`` is the final
    state. The method is in the module docstring.

    References:
        S. Mittal et al., "Learning to Combine Top-Down and Bottom-Up Signals in Recurrent Neural
        Networks with Attention over Modules", ICML 2020, arXiv:2006.16981.

    Examples:
        >>> import torch
        >>> official = BRIMs.official(input_size=1, output_size=10, hidden_size=16, num_modules=4, active=2)
        >>> official.config.top_down_flags, official.config.source
        ((True, False), 'top')
        >>> official(torch.randn(3, 6, 1)).shape
        torch.Size([3, 10])
    """

    Config = BRIMsConfig

    def __init__(self, config: BRIMsConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.num_layers = c.num_layers
        self.top_down_flags = c.top_down_flags
        self.source = c.source
        in_heads = c.input_attention_options
        if in_heads is None and c.input_attention == "multihead":
            in_heads = {"num_heads": 4, "output_projection": False}
        comm_heads = c.comm_attention_options
        if comm_heads is None and c.comm_attention == "multihead":
            comm_heads = {"num_heads": 4}
        cells, bottom_up, top_down = [], [], []
        for layer in range(c.num_layers):
            slot = c.layer_slot(layer)
            cells.append(RIMCell(
                input_size=slot, hidden_size=c.layer_hidden(layer) // c.layer_modules(layer),
                num_modules=c.layer_modules(layer), active=c.layer_active(layer), cell=c.cell,
                input_attention=c.input_attention, input_attention_options=in_heads,
                comm_attention=c.comm_attention, comm_attention_options=comm_heads,
                comm_embed_dim=c.comm_embed_dim, **c.cell_options,
            ))
            below = c.input_size if layer == 0 else c.layer_hidden(layer - 1)
            bottom_up.append(nn.Linear(below, slot))
            if self.top_down_flags[layer]:
                src = self.source_layer(layer)
                top_down.append(nn.Linear(c.layer_hidden(src), slot))
            else:
                top_down.append(None)
        self.cells = nn.ModuleList(cells)
        self.bottom_up = nn.ModuleList(bottom_up)
        self.top_down = nn.ModuleDict({str(i): m for i, m in enumerate(top_down) if m is not None})
        self.drop = nn.Dropout(c.dropout)
        self.decoder = nn.Linear(c.layer_hidden(c.num_layers - 1), c.output_size)

    @classmethod
    def official(cls, **overrides: Any) -> BRIMs:
        """The official code's wiring: only layer 0 reads the top layer's previous state (L = 1: its own)."""
        return cls(**{"top_down": "official", **overrides})

    @classmethod
    def stacked_rims(cls, **overrides: Any) -> BRIMs:
        """All ``top_down`` False: stacked RIMs, the RIMs baseline with the same layers and readout."""
        return cls(**{"top_down": "none", **overrides})

    def source_layer(self, layer: int) -> int:
        """The layer whose previous state feeds ``layer``'s top-down slot."""
        return self.num_layers - 1 if self.source == "top" else layer + 1

    def slot_names(self, layer: int) -> tuple[str, ...]:
        """The keys of ``layer``'s input attention: null, bottom-up, and top-down when it is on."""
        return ("null", "bottom-up", "top-down") if self.top_down_flags[layer] else ("null", "bottom-up")

    def initial_state(self, batch_size: int, *, device: Any = None, dtype: torch.dtype | None = None) -> list[RIMState]:
        """Zeros for every layer."""
        return [cell.initial_state(batch_size, device=device, dtype=dtype) for cell in self.cells]

    def _check(self, x: Any, state: list[RIMState] | None) -> list[RIMState]:
        c = self.config
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != c.input_size or x.shape[1] < 1:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"BRIMs: inputs must be (B, T >= 1, input_size={c.input_size}) float, got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"BRIMs: inputs must be a float tensor, got dtype {x.dtype}")
        if state is None:
            return self.initial_state(x.shape[0], device=x.device, dtype=x.dtype)
        if not isinstance(state, (list, tuple)) or len(state) != self.num_layers:
            raise ValueError(f"BRIMs: state must be a list of {self.num_layers} RIMState (one per layer) or None")
        return [RIMState(*s) for s in state]

    def forward(self, x: Tensor, state: list[RIMState] | None = None, *,
                return_trace: bool = False) -> Tensor | tuple[Tensor, dict[str, Any]]:
        states = self._check(x, state)
        encoded = self.drop(self.bottom_up[0](x))  # layer 1's bottom-up slots for every step (official encoder)
        last = self.config.readout == "last"
        use_inactive = self.config.use_inactive
        outs: list[Tensor] = []
        traces: list[dict[str, list[Tensor]]] = [{"active": [], "null_attention": [], "slot_attention": []}
                                                 for _ in range(self.num_layers)]
        steps = x.shape[1]
        for t in range(steps):
            previous = states  # every top-down read is from step t - 1
            below = encoded[:, t]
            new_states: list[RIMState] = []
            for layer, cell in enumerate(self.cells):
                slots = [below if layer == 0 else self.bottom_up[layer](below)]
                if self.top_down_flags[layer]:
                    slots.append(self.top_down[str(layer)](previous[self.source_layer(layer)].h.flatten(1)))
                h, st, info = cell(torch.stack(slots, dim=1), previous[layer])
                new_states.append(st)
                below = (h if use_inactive else h * info["active"].unsqueeze(-1).to(h.dtype)).flatten(1)
                if return_trace:
                    tr = traces[layer]
                    tr["active"].append(info["active"])
                    tr["null_attention"].append(info["null_attention"])
                    tr["slot_attention"].append(info["input_attention"])
            states = new_states
            if not last or t == steps - 1:
                outs.append(states[-1].h.flatten(1))
        feats = outs[-1] if last else torch.stack(outs, dim=1)
        logits = self.decoder(self.drop(feats))
        if not return_trace:
            return logits
        layers = []
        for layer, tr in enumerate(traces):
            probs = torch.stack(tr["slot_attention"])
            layers.append({"active": torch.stack(tr["active"]), "null_attention": torch.stack(tr["null_attention"]),
                           "slot_attention": probs, "slot_mass": probs.mean(2), "slots": self.slot_names(layer)})
        return logits, {"layers": layers, "state": states}

    def extra_repr(self) -> str:
        return f"num_layers={self.num_layers}, top_down={self.top_down_flags}, source={self.source!r}"


__all__ = ["WIRINGS", "BRIMs", "BRIMsConfig"]
