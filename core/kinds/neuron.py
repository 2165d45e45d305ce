"""Neuron: an elementwise, possibly parametrised and stateful, nonlinearity."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ._component import Component


class Neuron(Component, nn.Module, abc.ABC):
    """``forward(x, state=None) -> (y, state)``: a per-unit nonlinearity.

    Contract:
        - ``x`` is a float tensor (..., U): the last dimension indexes units.
          Neurons with per-unit parameters declare ``num_units`` in their
          config and require ``x.shape[-1] == num_units``; others accept any U.
        - ``y`` has the shape, dtype and device of ``x``; unit ``u`` of ``y``
          depends only on unit ``u`` of ``x`` and of the state.
        - Stateless neurons (``stateful = False``) return ``state`` unchanged
          (None). Stateful ones take one time step per call: start from
          :meth:`init_state` (or ``state=None``, which means the same), and
          reset between sequences by starting from a fresh state; identical
          sequences from identical states give identical outputs.
    """

    stateful: ClassVar[bool] = False

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        self._init_config(config, overrides)

    def init_state(self, shape: torch.Size | tuple[int, ...], *, device=None, dtype=None) -> Any:
        """The state before the first step for inputs of ``shape`` (None if stateless)."""
        return None

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(f"{type(self).__name__}: x must be a floating tensor, got {getattr(x, 'dtype', type(x))}")
        if x.dim() == 0:
            raise ValueError(f"{type(self).__name__}: x must have a units dimension (..., U), got a scalar")
        units = getattr(self.config, "num_units", None) if self.config is not None else None
        if units is not None and x.shape[-1] != units:
            raise ValueError(
                f"{type(self).__name__}: x has {x.shape[-1]} units in its last dimension, "
                f"but this neuron was built with num_units={units}"
            )
        if self.stateful and state is None:
            state = self.init_state(x.shape, device=x.device, dtype=x.dtype)
        return self.activate(x, state)

    @abc.abstractmethod
    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One step on validated input."""
