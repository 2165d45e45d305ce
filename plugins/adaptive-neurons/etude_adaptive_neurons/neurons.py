"""The gamma f-I curve family: static (learned per neuron) and adaptive (controller-driven)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from etude.config import configclass, field, in_range, one_of, positive
from etude.kinds import Neuron

__all__ = [
    "AdaptiveGammaNeuron",
    "AdaptiveGammaState",
    "GammaNeuron",
    "gamma",
    "inverse_softplus",
]

#: n·x above which the softplus branch is the identity (no overflow of e^{nx}).
SOFTPLUS_THRESHOLD = 20.0


def gamma(x: Tensor, n: Tensor | float, s: Tensor | float) -> Tensor:
    """The paper's activation ``γ(x; n, s) = (1 - s) log(1 + e^{n x}) / n + s σ(n x)``.

    ``n`` (gain, > 0) and ``s`` (saturation, in [0, 1]) broadcast against
    ``x``: scalars, per-unit vectors (U,) or full tensors (..., U). The
    softplus term switches to the identity when ``n x > 20`` (no overflow of
    ``e^{nx}``). Plain autograd differentiates it with respect to all three
    arguments.

    Examples:
        >>> import torch
        >>> gamma(torch.tensor([0.0]), 1.0, 1.0)   # n = 1, s = 1: the logistic sigmoid
        tensor([0.5000])
    """
    z = x * n
    soft = F.softplus(z, beta=1.0, threshold=SOFTPLUS_THRESHOLD) / n
    return soft + s * (torch.sigmoid(z) - soft)


def inverse_softplus(y: float | Tensor) -> Any:
    """``log(e^y - 1)``: the raw value whose softplus is ``y`` (> 0)."""
    if isinstance(y, Tensor):
        return y + torch.log(-torch.expm1(-y))
    return y + math.log(-math.expm1(-y))


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


# -- static gamma ------------------------------------------------------------
@configclass
class GammaConfig:
    num_units: int | None = field(
        default=None,
        doc="number of neurons with their own (n, s) (heterogeneous); None shares one (n, s) across all units",
    )
    n_init: float = field(default=1.0, validator=positive, doc="initial gain n (> 0)")
    s_init: float = field(default=0.0, validator=in_range(0.0, 1.0), doc="initial saturation s in [0, 1]")
    learnable: bool = field(default=True, doc="learn n and s by backpropagation; False keeps them fixed (buffers)")
    min_gain: float = field(default=1e-3, validator=positive, doc="ε in n = softplus(ρ_n) + ε, the smallest reachable gain")
    s_margin: float = field(
        default=1e-3,
        validator=in_range(0.0, 0.5, low_open=True, high_open=True),
        doc="a learnable s starts at clamp(s_init, margin, 1 - margin), since s = sigmoid(ρ_s) never reaches 0 or 1",
    )

    def __attrs_post_init__(self) -> None:
        if self.num_units is not None and (isinstance(self.num_units, bool) or self.num_units < 1):
            from etude.config import FieldValueError  # noqa: PLC0415

            raise FieldValueError("num_units", self.num_units, "a positive integer or None")
        if self.n_init <= self.min_gain and self.learnable:
            from etude.config import FieldValueError  # noqa: PLC0415

            raise FieldValueError("n_init", self.n_init, f"a number > min_gain={self.min_gain}")


class GammaNeuron(Neuron):
    """The γ f-I curve with learned gain ``n`` and saturation ``s``, shared or per neuron.

    ``γ(x; n, s) = (1 - s) log(1 + e^{n x}) / n + s σ(n x)`` interpolates
    between a softplus of slope-scale ``n`` (``s = 0``, tending to ReLU as
    ``n → ∞``) and a logistic of gain ``n`` (``s = 1``, tending to a step).
    With ``num_units`` set each neuron learns its own ``(n_i, s_i)``
    ("heterogeneous"); with ``num_units=None`` one pair is shared
    ("homogeneous"). Deliberate change from the reference code, which leaves
    them unconstrained: learnable parameters are stored raw and mapped as
    ``n = softplus(ρ_n) + ε`` and ``s = sigmoid(ρ_s)``, so ``n > 0`` and
    ``s ∈ [0, 1]`` hold after any optimiser step.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, "Neural networks with
        optimized single-neuron adaptation uncover biologically plausible
        regularization", PLOS Computational Biology 2024 (bioRxiv
        10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> neuron = GammaNeuron(num_units=3, n_init=2.0, s_init=0.5)
        >>> y, state = neuron(torch.zeros(4, 3))
        >>> y.shape, state
        (torch.Size([4, 3]), None)
    """

    Config = GammaConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        shape = (c.num_units,) if c.num_units is not None else ()
        if c.learnable:
            s0 = min(max(c.s_init, c.s_margin), 1.0 - c.s_margin)
            self.raw_n = nn.Parameter(torch.full(shape, inverse_softplus(c.n_init - c.min_gain)))
            self.raw_s = nn.Parameter(torch.full(shape, _logit(s0)))
        else:
            self.register_buffer("fixed_n", torch.full(shape, float(c.n_init)))
            self.register_buffer("fixed_s", torch.full(shape, float(c.s_init)))

    @property
    def n(self) -> Tensor:
        """The gain(s) n (> 0): a scalar tensor, or (num_units,)."""
        if self.config.learnable:
            return F.softplus(self.raw_n) + self.config.min_gain
        return self.fixed_n

    @property
    def s(self) -> Tensor:
        """The saturation(s) s in [0, 1]: a scalar tensor, or (num_units,)."""
        if self.config.learnable:
            return torch.sigmoid(self.raw_s)
        return self.fixed_s

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return gamma(x, self.n.to(x.dtype), self.s.to(x.dtype)), state

    def extra_repr(self) -> str:
        c = self.config
        return f"num_units={c.num_units}, learnable={c.learnable}"


# -- adaptive gamma ------------------------------------------------------------
class AdaptiveGammaState(NamedTuple):
    """State of :class:`AdaptiveGammaNeuron` after a step.

    ``g``: controller state (..., U, H); ``n``, ``s``: the gain and
    saturation (..., U) used at that step.
    """

    g: Tensor
    n: Tensor
    s: Tensor


@configclass
class AdaptiveGammaConfig:
    hidden_size: int = field(default=50, validator=positive, doc="controller ('supervisor') hidden units H, shared by all neurons")
    n_bias: float = field(default=5.0, validator=positive, doc="the n-readout starts at n ≈ n_bias + n_bias_spread · U(0, 1)")
    n_bias_spread: float = field(default=2.0, validator=in_range(0.0, 100.0), doc="width of the random initial gain offset")
    s_init: float = field(
        default=0.01, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
        doc="initial saturation (reference: s-readout bias 0, i.e. s ≈ 0; sigmoid needs s in (0, 1))",
    )
    n_readout_gain: float = field(default=0.1, validator=positive, doc="Xavier gain of the n readout weights")
    s_readout_gain: float = field(default=0.01, validator=positive, doc="Xavier gain of the s readout weights")
    recurrent_init: str = field(
        default="henaff", validator=one_of("henaff", "orthogonal", "xavier"),
        doc="controller recurrent weights: 'henaff' (orthogonal via matrix exponential), 'orthogonal' or 'xavier'",
    )
    min_gain: float = field(default=1e-3, validator=positive, doc="ε in n_t = softplus(·) + ε")


class AdaptiveGammaNeuron(Neuron):
    """The ANRU adaptation controller: a shared small RNN sets each neuron's (n_t, s_t) every step.

    For neuron ``i`` with pre-activation ``a_t^i`` the controller runs
    ``g_t^i = tanh(u a_t^i + W g_{t-1}^i + b)`` with weights ``(u, W, b)``
    shared across neurons and one state ``g^i`` per neuron, then reads out
    ``n_t^i = softplus(w_n·g_t^i + b_n) + ε`` and ``s_t^i = sigmoid(w_s·g_t^i + b_s)``
    and returns ``γ(a_t^i; n_t^i, s_t^i)``. The parameter count does not
    depend on the number of neurons. Stateful: one call is one time step;
    the state is an :class:`AdaptiveGammaState` ``(g, n, s)`` and a fresh
    :meth:`init_state` (or ``state=None``) resets it between sequences.
    Deliberate change from the reference code (which leaves the readouts
    unconstrained): the softplus / sigmoid maps keep ``n > 0``, ``s ∈ [0, 1]``.
    Initialisation follows the reference: n-readout gain 0.1 with
    ``n ≈ 5 + 2 U(0, 1)``, s-readout gain 0.01 with ``s ≈ 0``.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, "Neural networks with
        optimized single-neuron adaptation uncover biologically plausible
        regularization", PLOS Computational Biology 2024 (bioRxiv
        10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> neuron = AdaptiveGammaNeuron(hidden_size=4)
        >>> state = neuron.init_state((2, 3))
        >>> for t in range(5):
        ...     y, state = neuron(torch.randn(2, 3), state)
        >>> y.shape, state.g.shape, bool((state.n > 0).all())
        (torch.Size([2, 3]), torch.Size([2, 3, 4]), True)
    """

    Config = AdaptiveGammaConfig
    stateful = True

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        H = self.config.hidden_size
        self.input_weight = nn.Parameter(torch.empty(H))          # U_ag (H x 1)
        self.recurrent_weight = nn.Parameter(torch.empty(H, H))   # W_gg
        self.bias = nn.Parameter(torch.empty(H))                  # b_g
        self.readout_weight = nn.Parameter(torch.empty(2, H))     # rows: n, s
        self.readout_bias = nn.Parameter(torch.empty(2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        c, H = self.config, self.config.hidden_size
        with torch.no_grad():
            # U_ag: Kaiming normal on a (H, 1) matrix (fan_in 1), as the reference's input init.
            self.input_weight.normal_(0.0, math.sqrt(2.0))
            self.recurrent_weight.copy_(recurrent_matrix(H, c.recurrent_init))
            self.bias.zero_()
            std = math.sqrt(2.0 / (H + 1))  # Xavier normal for a (1, H) readout
            self.readout_weight[0].normal_(0.0, c.n_readout_gain * std)
            self.readout_weight[1].normal_(0.0, c.s_readout_gain * std)
            n0 = c.n_bias + c.n_bias_spread * float(torch.rand(()))
            self.readout_bias[0] = inverse_softplus(n0 - c.min_gain)
            self.readout_bias[1] = _logit(c.s_init)

    def init_state(self, shape, *, device=None, dtype=None) -> AdaptiveGammaState:
        shape = tuple(shape)
        dtype = dtype or self.readout_bias.dtype
        device = device or self.readout_bias.device
        g = torch.zeros(*shape, self.config.hidden_size, device=device, dtype=dtype)
        n, s = self._readout(g)
        return AdaptiveGammaState(g, n, s)

    def _readout(self, g: Tensor) -> tuple[Tensor, Tensor]:
        raw = F.linear(g, self.readout_weight.to(g.dtype), self.readout_bias.to(g.dtype))
        n = F.softplus(raw[..., 0]) + self.config.min_gain
        s = torch.sigmoid(raw[..., 1])
        return n, s

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, AdaptiveGammaState]:
        g = state.g if isinstance(state, AdaptiveGammaState) else state
        if not isinstance(g, Tensor) or g.shape != (*x.shape, self.config.hidden_size):
            got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(
                f"AdaptiveGammaNeuron: state.g must have shape {(*x.shape, self.config.hidden_size)} "
                f"(x.shape + (hidden_size,)), got {got}; start each sequence from "
                "neuron.init_state(x.shape) or pass state=None"
            )
        y, g, n, s = _AdaptiveStep.apply(
            x, g, self.input_weight, self.recurrent_weight, self.bias,
            self.readout_weight, self.readout_bias, self.config.min_gain,
        )
        return y, AdaptiveGammaState(g, n, s)

    def reference_step(self, x: Tensor, g: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The same step as :meth:`activate` with plain autograd ops (for tests and double backward)."""
        z = g @ self.recurrent_weight.T + x.unsqueeze(-1) * self.input_weight + self.bias
        g = torch.tanh(z)
        n, s = self._readout(g)
        return gamma(x, n, s), g, n, s


class _AdaptiveStep(torch.autograd.Function):
    """One controller + γ step with a hand-written backward (one graph node instead of ~20).

    Inputs ``a`` (..., U), ``g_prev`` (..., U, H), controller weights; outputs
    ``y, g, n, s``. The per-step cost of the adaptive neuron on CPU is dominated by
    per-op overhead on small tensors, so fusing the step into one autograd node
    matters more than FLOPs. ``tanh`` is computed as ``2 σ(2z) − 1``, about 3x
    faster than ``aten::tanh`` on CPU here. Checked against
    :meth:`AdaptiveGammaNeuron.reference_step` and by ``gradcheck``.
    """

    @staticmethod
    def forward(ctx: Any, a: Tensor, g_prev: Tensor, u: Tensor, W: Tensor, b: Tensor,
                W_out: Tensor, b_out: Tensor, eps: float):
        shape, H = a.shape, W.shape[0]
        a2, g2 = a.reshape(-1), g_prev.reshape(-1, H)
        dt = a.dtype
        u, W, b, W_out, b_out = u.to(dt), W.to(dt), b.to(dt), W_out.to(dt), b_out.to(dt)
        z = torch.addcmul(b, a2.unsqueeze(-1), u).addmm_(g2, W.t())  # b + a u + W g: the gemm adds in place
        g = z.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)  # tanh(z), in place
        r = torch.addmm(b_out, g, W_out.t())
        r0, r1 = r[:, 0], r[:, 1]
        n = F.softplus(r0) + eps
        s = torch.sigmoid(r1)
        q = a2 * n
        sg = torch.sigmoid(q)
        soft = F.softplus(q, beta=1.0, threshold=SOFTPLUS_THRESHOLD) / n
        y = soft + s * (sg - soft)
        ctx.save_for_backward(a2, g2, g, n, s, sg, soft, torch.sigmoid(r0), u, W, W_out)
        ctx.shapes = (shape, g_prev.shape)
        ctx.set_materialize_grads(False)  # unused outputs (n, s, the last g) get None, not zero tensors
        return y.view(shape), g.view(g_prev.shape), n.view(shape), s.view(shape)

    @staticmethod
    @once_differentiable  # double backward raises; use AdaptiveGammaNeuron.reference_step for it
    def backward(ctx: Any, gy: Tensor, gg_out: Tensor, gn_out: Tensor, gs_out: Tensor):
        a2, g2, g, n, s, sg, soft, dn_dr0, u, W, W_out = ctx.saved_tensors
        shape, g_shape = ctx.shapes
        gy = gy.reshape(-1) if gy is not None else torch.zeros_like(a2)
        dsg = sg * (1.0 - sg)
        one_minus_s = 1.0 - s
        gn = gy * (one_minus_s / n * (a2 * sg - soft) + s * a2 * dsg)
        gs = gy * (sg - soft)
        if gn_out is not None:
            gn = gn + gn_out.reshape(-1)
        if gs_out is not None:
            gs = gs + gs_out.reshape(-1)
        dr = torch.stack((gn * dn_dr0, gs * s * one_minus_s), dim=1)
        gg = dr @ W_out if gg_out is None else torch.addmm(gg_out.reshape(g.shape), dr, W_out)
        dz = torch.ops.aten.tanh_backward(gg, g)
        grads = [None] * 8
        needs = ctx.needs_input_grad
        if needs[0]:
            grads[0] = torch.addmv(gy * (one_minus_s * sg + s * n * dsg), dz, u).view(shape)
        if needs[1]:
            grads[1] = (dz @ W).view(g_shape)
        if needs[2] and needs[4]:  # u and b: one pass over dz
            grads[2], grads[4] = torch.stack((a2, torch.ones_like(a2))) @ dz
        elif needs[2]:
            grads[2] = a2 @ dz
        elif needs[4]:
            grads[4] = dz.sum(0)
        if needs[3]:
            grads[3] = dz.t() @ g2
        if needs[5]:
            grads[5] = dr.t() @ g
        if needs[6]:
            grads[6] = dr.sum(0)
        return tuple(grads)


def recurrent_matrix(size: int, scheme: str, generator: torch.Generator | None = None) -> Tensor:
    """A (size, size) recurrent initialisation.

    ``"henaff"``: the matrix exponential of a block-diagonal skew-symmetric
    matrix with 2x2 blocks of angle ``θ ~ U(-π, 0)`` (orthogonal, Henaff et
    al. 2016, as in the reference code); ``"orthogonal"``: a Haar-random
    orthogonal matrix; ``"xavier"``: Xavier normal.
    """
    if scheme == "henaff":
        theta = -math.pi * torch.rand(size // 2, generator=generator, dtype=torch.float64)
        A = torch.zeros(size, size, dtype=torch.float64)
        idx = torch.arange(0, 2 * (size // 2), 2)
        A[idx, idx + 1] = theta
        A = A - A.T
        return torch.linalg.matrix_exp(A).float()
    if scheme == "orthogonal":
        W = torch.empty(size, size)
        nn.init.orthogonal_(W, generator=generator)
        return W
    if scheme == "xavier":
        W = torch.empty(size, size)
        nn.init.xavier_normal_(W, generator=generator)
        return W
    raise ValueError(f"recurrent init must be 'henaff', 'orthogonal' or 'xavier', got {scheme!r}")
