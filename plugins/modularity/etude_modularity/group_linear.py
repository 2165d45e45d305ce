"""Group-linear layers: G independent linear maps / recurrent cells evaluated as one batched matmul.

A stable public library (used by ``etude-meta-rims`` and ``etude-brims``).
Every layer stores its G groups' weights stacked, ``(G, in, out)``, and
runs them with a single :func:`torch.einsum` (a batched matmul over the
group axis), so there is no Python loop over groups anywhere. Inputs are
``(B, G, in)``: row ``g`` of every example goes through group ``g`` only,
so perturbing group ``j``'s input leaves every other group's output
bit-identical.

Initialisation follows PyTorch's own ``nn.Linear`` / ``nn.LSTMCell`` /
``nn.GRUCell`` bounds (uniform in +-1/sqrt(fan_in) for the linear layer's
weight and bias, +-1/sqrt(hidden) for the cells), so a group layer is
distributed as G freshly built torch layers. :meth:`from_modules` and
:meth:`to_modules` convert both ways with copied weights.

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713
    (the modular MLPs); A. Goyal et al., "Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893
    (group-wise recurrent cells).

Examples:
    >>> import torch
    >>> layer = GroupLinear(4, 8, 3)
    >>> layer(torch.randn(5, 4, 8)).shape
    torch.Size([5, 4, 3])
    >>> cell = GroupGRUCell(4, 8, 6)
    >>> cell(torch.randn(5, 4, 8)).shape
    torch.Size([5, 4, 6])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn


def _check_positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_input(layer: str, x: Tensor, groups: int, features: int, name: str = "input") -> None:
    if x.dim() != 3 or x.shape[1] != groups or x.shape[2] != features:
        raise ValueError(
            f"{layer} expects {name} of shape (B, groups={groups}, {features}), got {tuple(x.shape)}; "
            f"broadcast a shared input with x.unsqueeze(1).expand(-1, {groups}, -1)"
        )


def group_matmul(x: Tensor, weight: Tensor) -> Tensor:
    """``(B, G, i) x (G, i, o) -> (B, G, o)``: group ``g`` of every example times ``weight[g]`` (one einsum)."""
    return torch.einsum("bgi,gio->bgo", x, weight)


class GroupLinear(nn.Module):
    """G independent linear layers ``y[:, g] = x[:, g] @ W[g] + b[g]``, in one batched matmul.

    Args:
        groups: number of groups G (modules).
        in_features: input width per group.
        out_features: output width per group.
        bias: add a per-group bias.

    Shapes: ``(B, G, in_features) -> (B, G, out_features)``; ``weight`` is
    ``(G, in_features, out_features)`` (note: transposed relative to
    ``nn.Linear.weight``), ``bias`` is ``(G, out_features)``.

    Examples:
        >>> import torch
        >>> layers = [torch.nn.Linear(3, 2) for _ in range(4)]
        >>> group = GroupLinear.from_modules(layers)
        >>> x = torch.randn(5, 4, 3)
        >>> torch.allclose(group(x)[:, 1], layers[1](x[:, 1]))
        True
    """

    def __init__(self, groups: int, in_features: int, out_features: int, bias: bool = True,
                 *, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.groups = _check_positive("groups", groups)
        self.in_features = _check_positive("in_features", in_features)
        self.out_features = _check_positive("out_features", out_features)
        kw = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(groups, in_features, out_features, **kw))
        self.bias = nn.Parameter(torch.empty(groups, out_features, **kw)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(in_features), as ``nn.Linear`` (weight and bias)."""
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        _check_input("GroupLinear", x, self.groups, self.in_features)
        y = group_matmul(x, self.weight)
        return y if self.bias is None else y + self.bias

    def forward_shared(self, x: Tensor) -> Tensor:
        """Every group on the same input: ``(B, in) -> (B, G, out)``, as one (B, in) x (in, G*out) GEMM.

        Equal to ``forward(x.unsqueeze(1).expand(-1, G, -1))`` without
        materialising G copies of the input (the first layer of a modular
        MLP, whose modules all read the shared encoding).
        """
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"GroupLinear.forward_shared expects input of shape (B, {self.in_features}), "
                             f"got {tuple(x.shape)}")
        w = self.weight.permute(1, 0, 2).reshape(self.in_features, self.groups * self.out_features)
        y = (x @ w).view(x.shape[0], self.groups, self.out_features)
        return y if self.bias is None else y + self.bias

    @classmethod
    def from_modules(cls, layers: Sequence[nn.Linear]) -> GroupLinear:
        """A group layer holding copies of the weights of ``layers`` (G ``nn.Linear`` of equal shape)."""
        if not layers or not all(isinstance(m, nn.Linear) for m in layers):
            raise TypeError("from_modules needs a non-empty sequence of nn.Linear")
        first = layers[0]
        if any(m.weight.shape != first.weight.shape or (m.bias is None) != (first.bias is None) for m in layers):
            raise ValueError("from_modules needs layers of one shape, all with or all without bias")
        out = cls(len(layers), first.in_features, first.out_features, first.bias is not None,
                  device=first.weight.device, dtype=first.weight.dtype)
        with torch.no_grad():
            out.weight.copy_(torch.stack([m.weight.t() for m in layers]))
            if out.bias is not None:
                out.bias.copy_(torch.stack([m.bias for m in layers]))
        return out

    def extra_repr(self) -> str:
        return (f"groups={self.groups}, in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class _GroupCell(nn.Module):
    """Shared parts of the group recurrent cells: stacked (G, in, gates*H) and (G, H, gates*H) weights."""

    gates = 1
    torch_cell: type[nn.Module] = nn.RNNCell

    def __init__(self, groups: int, input_size: int, hidden_size: int, bias: bool = True,
                 *, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.groups = _check_positive("groups", groups)
        self.input_size = _check_positive("input_size", input_size)
        self.hidden_size = _check_positive("hidden_size", hidden_size)
        kw = {"device": device, "dtype": dtype}
        width = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(groups, input_size, width, **kw))
        self.weight_hh = nn.Parameter(torch.empty(groups, hidden_size, width, **kw))
        self.bias_ih = nn.Parameter(torch.empty(groups, width, **kw)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(groups, width, **kw)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(hidden_size), as torch's recurrent cells."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def projections(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """The gate pre-activations ``(x W_ih[g] + b_ih[g], h W_hh[g] + b_hh[g])``, each (B, G, gates * H).

        ``x`` is (B, G, input_size) (one input per group) or (B, input_size)
        (one input read by every group, as one GEMM); likewise ``h`` is
        (B, G, hidden_size) or (B, hidden_size) (a state shared by every
        group, as the official modular LSTM of Mittal et al. feeds back the
        routed state). Models that route on the pre-activations (the
        paper's end-to-end modular RNN scores modules from them) call this,
        then :meth:`combine`.
        """
        return self.input_projections(x), self.hidden_projections(h)

    def input_projections(self, x: Tensor) -> Tensor:
        """``x W_ih[g] + b_ih[g]`` (B, G, gates * H) for x (B, G, input_size) or shared (B, input_size)."""
        return self._project(type(self).__name__, x, self.weight_ih, self.bias_ih, self.input_size, "input")

    def hidden_projections(self, h: Tensor) -> Tensor:
        """``h W_hh[g] + b_hh[g]`` (B, G, gates * H) for h (B, G, hidden_size) or shared (B, hidden_size)."""
        return self._project(type(self).__name__, h, self.weight_hh, self.bias_hh, self.hidden_size, "hidden state")

    def _project(self, name: str, x: Tensor, weight: Tensor, bias: Tensor | None, features: int, label: str) -> Tensor:
        if x.dim() == 2:
            if x.shape[1] != features:
                raise ValueError(f"{name} expects a shared {label} of shape (B, {features}) or a per-group "
                                 f"{label} (B, groups={self.groups}, {features}), got {tuple(x.shape)}")
            width = weight.shape[-1]
            y = (x @ weight.permute(1, 0, 2).reshape(features, self.groups * width)).view(x.shape[0], self.groups, width)
        else:
            _check_input(name, x, self.groups, features, label)
            y = group_matmul(x, weight)
        return y if bias is None else y + bias

    def _projections(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        name = type(self).__name__
        _check_input(name, x, self.groups, self.input_size)
        _check_input(name, h, self.groups, self.hidden_size, "hidden state")
        return self.projections(x, h)

    def _zeros(self, x: Tensor) -> Tensor:
        return x.new_zeros(x.shape[0], self.groups, self.hidden_size)

    @classmethod
    def from_modules(cls, cells: Sequence[nn.Module]):
        """A group cell holding copies of the weights of G torch cells (``nn.LSTMCell`` / ``nn.GRUCell``)."""
        if not cells or not all(isinstance(c, cls.torch_cell) for c in cells):
            raise TypeError(f"from_modules needs a non-empty sequence of {cls.torch_cell.__name__}")
        first = cells[0]
        bias = first.bias_ih is not None
        out = cls(len(cells), first.input_size, first.hidden_size, bias,
                  device=first.weight_ih.device, dtype=first.weight_ih.dtype)
        with torch.no_grad():
            out.weight_ih.copy_(torch.stack([c.weight_ih.t() for c in cells]))
            out.weight_hh.copy_(torch.stack([c.weight_hh.t() for c in cells]))
            if bias:
                out.bias_ih.copy_(torch.stack([c.bias_ih for c in cells]))
                out.bias_hh.copy_(torch.stack([c.bias_hh for c in cells]))
        return out

    def extra_repr(self) -> str:
        return f"groups={self.groups}, input_size={self.input_size}, hidden_size={self.hidden_size}"


class GroupLSTMCell(_GroupCell):
    """G independent LSTM cells; per step one matmul for the inputs and one for the hidden states.

    Gates in torch's order (input, forget, cell, output):
    ``i, f, g, o = x W_ih[g] + b_ih[g] + h W_hh[g] + b_hh[g]``,
    ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``, ``h' = sigmoid(o) tanh(c')``.

    Shapes: ``x (B, G, input_size)``, ``state = (h, c)`` each
    ``(B, G, hidden_size)`` (zeros when omitted); returns ``(h', c')``.

    Examples:
        >>> import torch
        >>> cells = [torch.nn.LSTMCell(3, 5) for _ in range(2)]
        >>> group = GroupLSTMCell.from_modules(cells)
        >>> h, c = group(torch.randn(4, 2, 3))
        >>> h.shape, c.shape
        (torch.Size([4, 2, 5]), torch.Size([4, 2, 5]))
    """

    gates = 4
    torch_cell = nn.LSTMCell

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        h, c = (self._zeros(x), self._zeros(x)) if state is None else state
        gi, gh = self._projections(x, h)
        return self.combine(gi, gh, c)

    @staticmethod
    def combine(gi: Tensor, gh: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """The LSTM update from pre-activations (B, G, 4H) and the cell state c ((B, G, H), or (B, 1, H) shared)."""
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class GroupGRUCell(_GroupCell):
    """G independent GRU cells; per step one matmul for the inputs and one for the hidden states.

    Gates in torch's order (reset, update, new):
    ``r = sigmoid(x_r + h_r)``, ``z = sigmoid(x_z + h_z)``,
    ``n = tanh(x_n + r * h_n)``, ``h' = (1 - z) n + z h``, with
    ``x_* = x W_ih[g] + b_ih[g]`` and ``h_* = h W_hh[g] + b_hh[g]``.

    Shapes: ``x (B, G, input_size)``, ``h (B, G, hidden_size)`` (zeros when
    omitted); returns ``h'``.

    Examples:
        >>> import torch
        >>> GroupGRUCell(3, 4, 5)(torch.randn(2, 3, 4)).shape
        torch.Size([2, 3, 5])
    """

    gates = 3
    torch_cell = nn.GRUCell

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        h = self._zeros(x) if h is None else h
        gi, gh = self._projections(x, h)
        return self.combine(gi, gh, h)

    @staticmethod
    def combine(gi: Tensor, gh: Tensor, h: Tensor) -> Tensor:
        """The GRU update from pre-activations (B, G, 3H) and the state h ((B, G, H), or (B, 1, H) shared)."""
        xr, xz, xn = gi.chunk(3, dim=-1)
        hr, hz, hn = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * h


__all__ = ["GroupGRUCell", "GroupLSTMCell", "GroupLinear", "group_matmul"]
