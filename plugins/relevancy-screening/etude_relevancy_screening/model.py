"""Self-attentive recurrent networks: RNN, MemRNN and RelRNN / RelLSTM (Kerg et al., NeurIPS 2020)."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, non_negative, one_of, positive
from etude.kinds import Model, key_weights

from .memory import FullMemory, RelevancyMemory

__all__ = ["SelfAttentiveRNN", "SelfAttentiveRNNConfig", "Trace"]


def _options(value: Any) -> dict[str, Any]:
    return {} if value is None else dict(value)


def _optional_shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


@configclass
class SelfAttentiveRNNConfig:
    input_size: int | None = field(default=None, validator=_optional_positive,
                                   doc="features per step (None: the last entry of input_shape)")
    input_shape: tuple[int, ...] | None = field(default=None, converter=_optional_shape,
                                                doc="per-example input shape (T, features); filled in by procedure/supervised")
    num_classes: int = field(default=10, validator=positive, doc="outputs of the per-step linear readout")
    readout: str = field(default="every", validator=one_of("every", "last"),
                         doc="'every': logits at every step (B, T, C); 'last': from the last state only (B, C), "
                         "sequence classification (psMNIST)")
    hidden_size: int = field(default=128, validator=positive, doc="hidden units (official --nhid)")
    cell: str = field(default="rnn", validator=one_of("rnn", "lstm"), doc="'rnn' (h = φ(U x + V s)) or 'lstm' (gates on [s, x])")
    memory: str = field(default="relevancy", validator=one_of("none", "full", "relevancy"),
                        doc="'none' (RNN / LSTM), 'full' (MemRNN: attend to every past state) or 'relevancy' (RelRNN / RelLSTM)")
    buffer_size: int = field(default=10, validator=positive, doc="short-term buffer ν (official --lastk)")
    relevant_size: int = field(default=15, validator=non_negative, doc="relevant set size ρ (official --rsize; 0: sliding window)")
    attention: str = field(default="additive", doc="registered attention mechanism (query s_{t-1}, keys = memory slots)")
    attention_options: dict = field(factory=dict, converter=_options, doc="config of the attention (embed_dim is filled in)")
    neuron: str = field(default="modrelu", doc="registered neuron φ of the RNN cell (num_units filled in when it has one)")
    neuron_options: dict = field(factory=dict, converter=_options, doc="config of the neuron")
    recurrent_init: str = field(default="henaff", validator=one_of("henaff", "orthogonal", "xavier"),
                                doc="initialisation of V (etude-adaptive-neurons' recurrent_matrix)")
    recurrent_gain: float = field(default=1.0, validator=positive, doc="V is recurrent_gain x the initial matrix (< 1: contractive)")

    def __attrs_post_init__(self) -> None:
        if self.input_size is None and not self.input_shape:
            raise FieldValueError("input_size", None, "an integer >= 1 (or give input_shape=(T, features))")


@attrs.define
class Trace:
    """What :meth:`SelfAttentiveRNN.unroll` records: logits (B, T, C), hidden states, attended slots, the memory."""

    logits: Tensor
    hiddens: list[Tensor]
    attended: Tensor | None  # (T, B) number of memory slots each example may attend to at each step
    memory: Any


class SelfAttentiveRNN(Model):
    """A recurrent network that attends to its own past states: RNN, MemRNN, RelRNN or RelLSTM.

    Step t (as the official code): ``c_t = attention(query = s_{t-1}, keys = values =
    memory slots)``, ``s_t = ½ (h_{t-1} + c_t)``, ``h_t = φ(U x_t + V s_t)`` (for
    ``cell="lstm"`` the gates read ``[s_t, x_t]``), then ``h_t`` enters the
    memory; the readout is linear at every step. ``memory="full"`` (MemRNN)
    attends to all of ``h_0 .. h_{t-1}`` (cost O(t) per step),
    ``"relevancy"`` (RelRNN) to the last ν states and at most ρ older ones
    kept by relevancy screening (:class:`~etude_relevancy_screening.memory.RelevancyMemory`,
    cost O(ν + ρ)), ``"none"`` is the plain RNN ``h_t = φ(U x_t + V h_{t-1})``.
    The attention and the neuron are chosen by registry name (default
    additive attention and modReLU); mechanisms with heads are read through
    :func:`etude.kinds.attention.key_weights`. V starts at
    ``recurrent_gain`` x the Henaff orthogonal matrix (from
    ``etude_adaptive_neurons.neurons.recurrent_matrix``), U and the readout
    Xavier-normal. Limits: ``buffer_size >= T`` equals ``"full"``;
    ``relevant_size=0`` is a sliding window of ν states.

    Input (B, T, input_size) float; output logits (B, T, num_classes), or
    (B, num_classes) from the last state with ``readout="last"`` (sequence
    classification, as the official ``sMNISTtask.py``).

    References:
        G. Kerg, B. Kanuparthi, A. Goyal, K. Goyette, Y. Bengio, G. Lajoie, "Untangling tradeoffs between
        recurrence and self-attention in artificial neural networks", NeurIPS 2020, arXiv:2006.09471;
        M. Henaff, A. Szlam, Y. LeCun, "Recurrent Orthogonal Networks and Long-Memory Tasks", ICML 2016,
        arXiv:1602.06662 (the initialisation).

    Examples:
        >>> import torch
        >>> net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=8, buffer_size=2, relevant_size=2)
        >>> net(torch.randn(5, 7, 4)).shape
        torch.Size([5, 7, 3])
    """

    Config = SelfAttentiveRNNConfig

    def __init__(self, config: SelfAttentiveRNNConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415
        from etude.config import config_class  # noqa: PLC0415
        from etude_adaptive_neurons.neurons import recurrent_matrix  # noqa: PLC0415

        c = self.config
        self.input_size = c.input_size if c.input_size is not None else int(c.input_shape[-1])
        H = c.hidden_size
        if c.cell == "rnn":
            self.U = nn.Linear(self.input_size, H)
            nn.init.xavier_normal_(self.U.weight)
            self.V = nn.Linear(H, H, bias=False)
            with torch.no_grad():
                self.V.weight.copy_(c.recurrent_gain * recurrent_matrix(H, c.recurrent_init))
            options = dict(c.neuron_options)
            cls = config_class(etude.get_registry().get("neuron", c.neuron).load())
            if cls is not None and "num_units" in {f.name for f in attrs.fields(cls)}:
                options.setdefault("num_units", H)
            self.neuron = etude.create("neuron", c.neuron, **options)
        else:
            self.gates = nn.Linear(H + self.input_size, 4 * H)  # forget, input, output, candidate
            nn.init.xavier_normal_(self.gates.weight)
        self.attention = None
        if c.memory != "none":
            self.attention = etude.create("attention", c.attention, embed_dim=H, **c.attention_options)
        self.readout = nn.Linear(H, c.num_classes)
        nn.init.xavier_normal_(self.readout.weight)

    def new_memory(self, batch: int, *, device=None, dtype=None) -> RelevancyMemory | FullMemory | None:
        """An empty memory of the configured kind for ``batch`` sequences."""
        c = self.config
        if c.memory == "relevancy":
            return RelevancyMemory(batch, c.hidden_size, c.buffer_size, c.relevant_size, device=device, dtype=dtype)
        if c.memory == "full":
            return FullMemory(batch, c.hidden_size, device=device, dtype=dtype)
        return None

    def forward(self, x: Tensor) -> Tensor:
        logits = self.unroll(x).logits
        return logits[:, -1] if self.config.readout == "last" else logits

    def unroll(self, x: Tensor, *, record: bool = False) -> Trace:
        """Run the sequence; with ``record=True`` also keep the number of attended slots per step."""
        c = self.config
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"SelfAttentiveRNN: x must be (B, T, input_size={self.input_size}) float, got "
                             f"{tuple(getattr(x, 'shape', ()))}; one-hot encode token sequences first")
        if not x.is_floating_point():
            raise TypeError(f"SelfAttentiveRNN: x must be a floating tensor, got {x.dtype}")
        B, T, _ = x.shape
        H = c.hidden_size
        h = x.new_zeros(B, H)
        s = x.new_zeros(B, H)
        cell = x.new_zeros(B, H) if c.cell == "lstm" else None
        memory = self.new_memory(B, device=x.device, dtype=x.dtype)
        screening = bool(getattr(memory, "needs_weights", True))  # memories that screen read the weights
        drive = self.U(x) if c.cell == "rnn" else None  # U x_t for every t in one matmul
        hiddens, attended = [], []
        for t in range(T):
            weights = None
            if memory is None:
                s = h
            else:
                keys, mask = memory.slots()
                if record:
                    attended.append(mask.sum(dim=1))
                if t == 0:
                    context = torch.zeros_like(h)
                    weights = x.new_zeros(B, mask.shape[1])
                else:
                    out, w = self.attention(s.unsqueeze(1), keys, keys, mask=mask.unsqueeze(1), need_weights=screening)
                    context = out.squeeze(1)
                    weights = key_weights(w).squeeze(1) if screening else None
                s = 0.5 * (h + context)
            if c.cell == "rnn":
                h, _ = self.neuron(drive[:, t] + self.V(s))
            else:
                f, i, o, g = self.gates(torch.cat([s, x[:, t]], dim=1)).chunk(4, dim=1)
                cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(cell)
            if memory is not None:
                memory.update(h, weights)
            hiddens.append(h)
        logits = self.readout(torch.stack(hiddens, dim=1))
        return Trace(logits=logits, hiddens=hiddens, attended=torch.stack(attended) if record else None, memory=memory)
