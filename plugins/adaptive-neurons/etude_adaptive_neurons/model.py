"""ANRU: an Elman recurrent network whose units are any registered neuron."""

from __future__ import annotations

import math
from typing import Any

import attrs
import torch
from torch import Tensor, nn

import etude
from etude.config import config_class, configclass, field, one_of, positive
from etude.kinds import Model, Neuron

from .neurons import recurrent_matrix

__all__ = ["ANRU", "build_neuron"]


def build_neuron(name: str, num_units: int, options: dict[str, Any] | None = None) -> Neuron:
    """``etude.create("neuron", name, **options)``, adding ``num_units`` only if that neuron's config has it."""
    options = dict(options or {})
    factory = etude.registry.get_registry().get("neuron", name).load()
    cls = config_class(factory)
    if cls is not None and "num_units" in attrs.fields_dict(cls) and "num_units" not in options:
        options["num_units"] = num_units
    neuron = etude.create("neuron", name, **options)
    if not isinstance(neuron, Neuron):
        raise TypeError(f"neuron/{name} built a {type(neuron).__name__}, not an etude.kinds.Neuron")
    return neuron


@configclass
class ANRUConfig:
    input_size: int = field(default=1, validator=positive, doc="features per time step")
    hidden_size: int = field(default=64, validator=positive, doc="recurrent units N")
    num_classes: int = field(default=10, validator=positive, doc="outputs of the linear readout of the last hidden state")
    neuron: str = field(
        default="adaptive-gamma",
        doc="registered neuron name for the units: 'adaptive-gamma' gives the paper's ANRU; "
        "'gamma', 'relu', 'tanh', ... give the baselines with everything else equal",
    )
    neuron_options: dict[str, Any] = field(factory=dict, doc="configuration passed to the neuron (num_units is added when it has one)")
    recurrent_init: str = field(
        default="henaff", validator=one_of("henaff", "orthogonal", "xavier"),
        doc="W_hh initialisation: 'henaff' (orthogonal via matrix exponential, the paper's), 'orthogonal', 'xavier'",
    )
    input_init: str = field(default="kaiming", validator=one_of("kaiming", "xavier"), doc="U_xh initialisation")


class ANRU(Model):
    """Elman RNN ``h_t = f(U x_t + W h_{t-1} + b + drive_t)`` with any registered neuron ``f``.

    With ``neuron="adaptive-gamma"`` this is the paper's Adaptive
    Nonlinearity Recurrent Unit (ANRU): each unit's f-I curve
    ``γ(·; n_t, s_t)`` is set at every step by a controller that reads the
    unit's pre-activation ``a_t = U x_t + W h_{t-1} + b``. Any other neuron
    (``"gamma"`` with learned per-unit ``(n_i, s_i)``, ``"relu"``, ``"tanh"``)
    gives the paper's baselines with the same weights, initialisation (W
    orthogonal "henaff", U Kaiming) and readout. ``forward(x)`` maps a batch
    of sequences (B, T, input_size) to logits (B, num_classes) read from the
    last hidden state; ``external_drive`` adds the paper's external drive to
    the pre-activation; ``return_trace=True`` also returns per-step hidden
    states, pre-activations and, for adaptive neurons, ``n_t`` and ``s_t``.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, "Neural networks with
        optimized single-neuron adaptation uncover biologically plausible
        regularization", PLOS Computational Biology 2024 (bioRxiv
        10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> model = ANRU(hidden_size=8, neuron="adaptive-gamma", neuron_options={"hidden_size": 4})
        >>> model(torch.rand(2, 5, 1)).shape
        torch.Size([2, 10])
        >>> ANRU(hidden_size=8, neuron="relu")(torch.rand(2, 5, 1)).shape
        torch.Size([2, 10])
    """

    Config = ANRUConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.input_layer = nn.Linear(c.input_size, c.hidden_size, bias=True)
        self.recurrent_layer = nn.Linear(c.hidden_size, c.hidden_size, bias=False)
        self.readout = nn.Linear(c.hidden_size, c.num_classes)
        self.reset_parameters()
        # built last, so that the shared weights draw the same random numbers whatever the neuron
        self.neuron = build_neuron(c.neuron, c.hidden_size, c.neuron_options)

    def reset_parameters(self) -> None:
        c = self.config
        with torch.no_grad():
            if c.input_init == "kaiming":
                nn.init.kaiming_normal_(self.input_layer.weight)
            else:
                nn.init.xavier_normal_(self.input_layer.weight)
            self.input_layer.bias.zero_()
            self.recurrent_layer.weight.copy_(recurrent_matrix(c.hidden_size, c.recurrent_init))
            bound = 1.0 / math.sqrt(c.hidden_size)
            self.readout.weight.uniform_(-bound, bound)
            self.readout.bias.zero_()

    def _check(self, x: Tensor) -> Tensor:
        c = self.config
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"ANRU: x must be a floating tensor (B, T, {c.input_size}), got {getattr(x, 'dtype', type(x))}")
        if x.dim() == 2 and c.input_size == 1:
            x = x.unsqueeze(-1)
        if x.dim() != 3 or x.shape[-1] != c.input_size or x.shape[1] == 0:
            raise ValueError(
                f"ANRU: x must have shape (batch, time, input_size={c.input_size}) with time >= 1, "
                f"got {tuple(x.shape)}; (batch, time) is accepted when input_size is 1"
            )
        if not torch.isfinite(x).all():
            raise ValueError("ANRU: x contains NaN or inf")
        return x

    def forward(
        self, x: Tensor, *, external_drive: Tensor | float | None = None, return_trace: bool = False
    ) -> Tensor | dict[str, Tensor]:
        """Logits (B, num_classes); with ``return_trace`` a dict adding per-step traces (B, T, N).

        ``external_drive``: added to every unit's pre-activation; a number,
        a (T,) tensor (one value per step) or a (B, T, N) tensor.
        """
        x = self._check(x)
        B, T, _ = x.shape
        N = self.config.hidden_size
        drive = _drive_per_step(external_drive, B, T, N, x)
        # all input projections at once, as T views: their backward is one stack, where indexing
        # inputs[:, t] per step would zero-fill and add a whole (B, T, N) gradient per step (O(T^2))
        inputs = self.input_layer(x).unbind(1)
        W = self.recurrent_layer.weight
        h = x.new_zeros(B, N)
        state = self.neuron.init_state((B, N), device=x.device, dtype=x.dtype) if self.neuron.stateful else None
        trace: dict[str, list[Tensor]] = {"hidden": [], "preactivation": [], "n": [], "s": []}
        for t in range(T):
            a = torch.addmm(inputs[t], h, W.T)
            if drive is not None:
                a = a + drive[t]
            h, state = self.neuron(a, state)
            if return_trace:
                trace["hidden"].append(h)
                trace["preactivation"].append(a)
                if hasattr(state, "n") and hasattr(state, "s"):
                    trace["n"].append(state.n)
                    trace["s"].append(state.s)
        logits = self.readout(h)
        if not return_trace:
            return logits
        out = {"logits": logits}
        out.update({k: torch.stack(v, dim=1) for k, v in trace.items() if v})
        return out


def _drive_per_step(drive: Any, B: int, T: int, N: int, x: Tensor) -> Any:
    """``drive`` as something indexable by step ``t`` that broadcasts to (B, N), or None."""
    if drive is None:
        return None
    if isinstance(drive, (int, float)):
        return [float(drive)] * T
    if not isinstance(drive, Tensor):
        raise TypeError(f"ANRU: external_drive must be a number or a tensor, got {type(drive).__name__}")
    drive = drive.to(device=x.device, dtype=x.dtype)
    if drive.dim() == 1 and drive.shape[0] == T:
        return drive.view(T, 1, 1)
    if drive.shape == (B, T, N):
        return drive.transpose(0, 1)
    raise ValueError(f"ANRU: external_drive must be a number, a ({T},) tensor or a ({B}, {T}, {N}) tensor, got {tuple(drive.shape)}")
