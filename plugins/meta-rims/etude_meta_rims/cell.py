"""The RIM cell: K recurrent modules that compete to read the input and talk through attention.

One step of Recurrent Independent Mechanisms (Goyal et al., ICLR 2021),
batched over the K modules (no Python loop over modules):

1. **Input attention with a null slot.** A zero slot is prepended to the
   input slots ``x_t`` (B, S, input_size) and every slot is embedded to
   width E by one shared ``Linear`` (so the null slot's embedding is that
   layer's bias, as the official null key ``W 0 + b``). Module k's query
   comes from its previous state by a group-linear map, ``q_k = h_{t-1,k}
   W^q_k``; any registered attention mechanism (default ``multihead``, one
   head, no output projection: the official read value is the attended
   value itself) returns ``A_k`` (B, K, E) and its weights.
2. **Null probability.** ``p_k`` = the head-mean attention probability on
   slot 0 (:func:`etude.kinds.attention.key_weights`), ``info["null_attention"]``.
3. **Top-k competition.** The ``active`` = k_A modules with the *lowest*
   null probability are active (probabilities, never raw logits: the null
   key's logit differs per module). Selection is ``torch.sort(stable=True)``
   ascending, so equal probabilities go to the lower module index
   (``torch.topk`` promises no tie order). ``info["active"]`` (B, K) bool.
4. **Independent dynamics.** One group LSTM / GRU step for all K modules
   (:class:`~etude_modularity.group_linear.GroupLSTMCell`, separate weights
   per module): ``h~_k, c~_k = LSTM_k(A_k, (h_{t-1,k}, c_{t-1,k}))``.
5. **Communication.** Per-module projections (group-linear) of the new
   states, a second registered attention over the K module tokens (default
   ``multihead``, 4 heads of width 16), and the official gated residual
   ``h~_k += sigmoid(W_g o_k) * tanh(W_o o_k)``. Inactive modules' states
   enter it gradient-blocked: ``torch.where(active, h~, h~.detach())``
   (the official ``blocked_grad``).
6. **Inactive modules keep their state exactly**:
   ``h_t = torch.where(active, h~, h_{t-1})`` and likewise ``c_t``.

The state is :class:`RIMState` ``(h, c)``, each (B, K, hidden_size); a GRU
cell carries ``c = h``. Parameters split into the modules' own recurrent
weights (:meth:`RIMCell.module_parameters`, Meta-RIMs' fast θ) and the
attention side (:meth:`RIMCell.attention_parameters`: slot embedding,
queries, both mechanisms, communication projections and gate; Meta-RIMs'
slow φ).

This module is a stable public API: ``etude-brims`` stacks unmodified
:class:`RIMCell` s. Changes are additive only.

References:
    A. Goyal, A. Lamb, J. Hoffmann, S. Sodhani, S. Levine, Y. Bengio, B. Schölkopf,
    "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893 (official code
    ``anirudh9119/RIMs``, ``event_based/blocks_core.py``, read for the equations and defaults).

Examples:
    >>> import torch
    >>> cell = RIMCell(input_size=5, hidden_size=8, num_modules=4, active=2)
    >>> h, state, info = cell(torch.randn(3, 1, 5))
    >>> h.shape, info["active"].sum(1).tolist()
    (torch.Size([3, 4, 8]), [2, 2, 2])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, one_of, positive
from etude.kinds import Model
from etude.kinds.attention import key_weights
from etude_modularity.group_linear import GroupGRUCell, GroupLinear, GroupLSTMCell


class RIMState(NamedTuple):
    """The recurrent state of a :class:`RIMCell`: ``h`` and ``c``, each (B, K, hidden_size) (GRU: ``c is h``)."""

    h: Tensor
    c: Tensor


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


def _optional_dict(value: Any) -> dict | None:
    return None if value is None else dict(value)


@configclass
class RIMCellConfig:
    """Configuration of one RIM step (defaults: the official ``experiment_copying.sh 600 6 4 50 200``)."""

    input_size: int = field(validator=positive, doc="width of each input slot (B, S, input_size)")
    hidden_size: int = field(default=100, validator=positive, doc="state width d_h per module (official 600 / 6)")
    num_modules: int = field(default=6, validator=positive, doc="number of modules K")
    active: int = field(default=4, validator=positive, doc="modules updated per step k_A (<= num_modules)")
    cell: str = field(default="lstm", validator=one_of("lstm", "gru"), doc="the modules' recurrent cell")
    input_embed_dim: int | None = field(
        default=None, validator=_optional_positive,
        doc="width E of the embedded slots and the read value A_k (None: 4 * hidden_size, the official value width)",
    )
    input_attention: str = field(default="multihead", doc="registered attention mechanism of the input attention")
    input_attention_options: dict | None = field(
        default=None, converter=_optional_dict,
        doc="config of the input attention (embed_dim is set; None: for multihead num_heads=1 and no output "
            "projection, as the official input attention, else the mechanism's defaults)",
    )
    input_dropout: float = field(default=0.1, validator=in_range(0.0, 1.0, high_open=True),
                                 doc="dropout on the read value A_k in training (official attention dropout 0.1)")
    communication: bool = field(default=True, doc="attention among modules after the cell step (False: none)")
    comm_embed_dim: int = field(default=64, validator=positive,
                                doc="token width of the communication attention (official 4 heads x 16)")
    comm_attention: str = field(default="multihead", doc="registered attention mechanism among the modules")
    comm_attention_options: dict | None = field(
        default=None, converter=_optional_dict,
        doc="config of the communication attention (embed_dim is set; None: num_heads=4 for multihead)",
    )
    comm_dropout: float = field(default=0.1, validator=in_range(0.0, 1.0, high_open=True),
                                doc="dropout on the communication output before tanh (official 0.1)")
    blocked_grad: bool = field(default=True,
                               doc="inactive modules' new states enter communication detached (official blocked_grad)")

    def __attrs_post_init__(self) -> None:
        if self.active > self.num_modules:
            raise FieldValueError("active", self.active, f"at most num_modules={self.num_modules}")

    @property
    def embed_dim(self) -> int:
        """E, the slot-embedding and read-value width."""
        return self.input_embed_dim if self.input_embed_dim is not None else 4 * self.hidden_size


def _attention(name: str, options: dict | None, embed_dim: int, default_heads: int) -> nn.Module:
    import etude  # noqa: PLC0415

    defaults = {"num_heads": default_heads, "output_projection": default_heads > 1}
    opts = dict(options) if options is not None else (defaults if name == "multihead" else {})
    if "embed_dim" in opts:
        raise FieldValueError("attention options", opts, "options without 'embed_dim' (the cell sets it)")
    return etude.create("attention", name, embed_dim=embed_dim, **opts)


def select_active(null_attention: Tensor, active: int) -> Tensor:
    """(B, K) bool mask of the ``active`` modules with the lowest null probability, ties to the lower index.

    Uses an ascending ``torch.sort(stable=True)``: among equal probabilities
    the module with the lower index comes first, on every device.

    Examples:
        >>> import torch
        >>> select_active(torch.tensor([[0.5, 0.2, 0.5, 0.5]]), 2).tolist()
        [[True, True, False, False]]
    """
    b, k = null_attention.shape
    if active >= k:
        return torch.ones(b, k, dtype=torch.bool, device=null_attention.device)
    order = torch.sort(null_attention.detach(), dim=1, stable=True).indices[:, :active]
    mask = torch.zeros(b, k, dtype=torch.bool, device=null_attention.device)
    return mask.scatter(1, order, True)


class RIMCell(Model):
    """One step of Recurrent Independent Mechanisms: null-slot input attention, top-k, group cell, communication.

    ``forward(slots, state=None, *, slot_mask=None) -> (h, state, info)``:
    ``slots`` (B, S, input_size) float (S >= 1 input slots; the cell adds
    the null slot), ``state`` a :class:`RIMState` (zeros when None),
    ``slot_mask`` (B, S) bool, True = the slot may be read (the null slot
    is always readable). Returns the new ``h`` (B, K, hidden_size), the new
    :class:`RIMState` and ``info`` with ``"active"`` (B, K) bool,
    ``"null_attention"`` (B, K) and ``"input_attention"`` (B, K, S + 1), the
    head-mean input-attention probabilities (slot 0 = null).

    The method and its six steps are in the module docstring; the config is
    :class:`RIMCellConfig` (keyword overrides or a config object).

    References:
        A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893.

    Examples:
        >>> import torch
        >>> cell = RIMCell(input_size=3, hidden_size=4, num_modules=3, active=1, cell="gru")
        >>> _, state, info = cell(torch.randn(2, 2, 3))
        >>> state.h.shape, bool(torch.equal(state.h, state.c)), info["null_attention"].shape
        (torch.Size([2, 3, 4]), True, torch.Size([2, 3]))
    """

    Config = RIMCellConfig

    def __init__(self, config: RIMCellConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        e, k, d = c.embed_dim, c.num_modules, c.hidden_size
        self.num_modules, self.hidden_size, self.active, self.embed_dim = k, d, c.active, e
        # attention side (phi)
        self.slot_embed = nn.Linear(c.input_size, e)
        self.query = GroupLinear(k, d, e)
        self.input_attention = _attention(c.input_attention, c.input_attention_options, e, default_heads=1)
        self.input_dropout = nn.Dropout(c.input_dropout)
        if c.communication:
            self.comm_tokens = GroupLinear(k, d, c.comm_embed_dim)
            self.comm_attention = _attention(c.comm_attention, c.comm_attention_options, c.comm_embed_dim,
                                             default_heads=4)
            self.comm_out = nn.Linear(c.comm_embed_dim, d)
            self.comm_gate = nn.Linear(c.comm_embed_dim, d)
            self.comm_dropout = nn.Dropout(c.comm_dropout)
        # module side (theta)
        self.rnn = (GroupLSTMCell if c.cell == "lstm" else GroupGRUCell)(k, e, d)

    # -- parameter groups (Meta-RIMs) ------------------------------------------------
    def module_parameters(self) -> list[nn.Parameter]:
        """θ: the modules' own recurrent weights, stacked (K, ...) in :attr:`rnn` (row k = module k)."""
        return list(self.rnn.parameters())

    def attention_parameters(self) -> list[nn.Parameter]:
        """φ: slot embedding, queries, both attention mechanisms, communication projections and gate."""
        ids = {id(p) for p in self.rnn.parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def initial_state(self, batch_size: int, *, device: Any = None, dtype: torch.dtype | None = None) -> RIMState:
        """Zeros (B, K, hidden_size) for ``h`` and ``c`` on the cell's device and dtype unless given."""
        ref = self.rnn.weight_hh
        h = torch.zeros(batch_size, self.num_modules, self.hidden_size,
                        device=ref.device if device is None else device, dtype=ref.dtype if dtype is None else dtype)
        return RIMState(h, h.clone() if self.config.cell == "lstm" else h)

    def _check(self, slots: Tensor, state: RIMState | None, slot_mask: Tensor | None) -> RIMState:
        c = self.config
        if not isinstance(slots, Tensor) or slots.dim() != 3 or slots.shape[-1] != c.input_size or slots.shape[1] < 1:
            shape = tuple(slots.shape) if isinstance(slots, Tensor) else type(slots).__name__
            raise ValueError(f"RIMCell: slots must be (B, S >= 1, input_size={c.input_size}), got {shape}; "
                             "a single input x (B, input_size) is x.unsqueeze(1)")
        if not slots.is_floating_point():
            raise ValueError(f"RIMCell: slots must be a float tensor, got dtype {slots.dtype}")
        b = slots.shape[0]
        if state is None:
            return self.initial_state(b, device=slots.device, dtype=slots.dtype)
        if not isinstance(state, tuple) or len(state) != 2:
            raise ValueError("RIMCell: state must be a RIMState (h, c) or None")
        want = (b, self.num_modules, self.hidden_size)
        for name, t in zip(("h", "c"), state, strict=True):
            if not isinstance(t, Tensor) or tuple(t.shape) != want:
                got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
                raise ValueError(f"RIMCell: state.{name} must be (B, num_modules, hidden_size) = {want}, got {got}")
        if slot_mask is not None and (slot_mask.dtype != torch.bool or tuple(slot_mask.shape) != tuple(slots.shape[:2])):
            raise ValueError(f"RIMCell: slot_mask must be a bool (B, S) = {tuple(slots.shape[:2])} tensor "
                             f"(True = may be read), got {slot_mask.dtype} {tuple(slot_mask.shape)}")
        return RIMState(*state)

    def forward(self, slots: Tensor, state: RIMState | None = None, *,
                slot_mask: Tensor | None = None) -> tuple[Tensor, RIMState, dict[str, Tensor]]:
        if state is None and slot_mask is not None:
            self._check(slots, self.initial_state(slots.shape[0], device=slots.device, dtype=slots.dtype), slot_mask)
        state = self._check(slots, state, slot_mask)
        h_old, c_old = state
        b = slots.shape[0]
        # 1. null slot + embedding; per-module queries; input attention
        padded = torch.cat([slots.new_zeros(b, 1, slots.shape[-1]), slots], dim=1)
        keys = self.slot_embed(padded)  # (B, S + 1, E)
        queries = self.query(h_old)  # (B, K, E)
        mask = None
        if slot_mask is not None:
            full = torch.cat([slot_mask.new_ones(b, 1), slot_mask], dim=1)  # (B, S + 1)
            mask = full.unsqueeze(1).expand(b, self.num_modules, -1)
        read, weights = self.input_attention(queries, keys, keys, mask=mask, need_weights=True)
        probs = key_weights(weights)  # (B, K, S + 1)
        # 2-3. null probability and top-k selection on probabilities
        null = probs[..., 0]
        active = select_active(null, self.active)
        # 4. one group cell step for all modules
        read = self.input_dropout(read)
        if self.config.cell == "lstm":
            h_new, c_new = self.rnn(read, (h_old, c_old))
        else:
            h_new = self.rnn(read, h_old)
            c_new = h_new
        gate = active.unsqueeze(-1)
        # 5. communication among modules (inactive states gradient-blocked)
        if self.config.communication:
            tokens_in = torch.where(gate, h_new, h_new.detach()) if self.config.blocked_grad else h_new
            out, _ = self.comm_attention(self.comm_tokens(tokens_in))
            h_new = h_new + torch.sigmoid(self.comm_gate(out)) * torch.tanh(self.comm_dropout(self.comm_out(out)))
        # 6. inactive modules keep their state exactly
        h = torch.where(gate, h_new, h_old)
        c = h if self.config.cell == "gru" else torch.where(gate, c_new, c_old)
        return h, RIMState(h, c), {"active": active, "null_attention": null, "input_attention": probs}

    def extra_repr(self) -> str:
        c = self.config
        return (f"input_size={c.input_size}, hidden_size={c.hidden_size}, num_modules={c.num_modules}, "
                f"active={c.active}, cell={c.cell!r}, embed_dim={self.embed_dim}")


__all__ = ["RIMCell", "RIMCellConfig", "RIMState", "select_active"]
