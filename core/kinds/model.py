"""Model: a network architecture from a paper, built from components."""

from __future__ import annotations

import abc
from typing import Any

from torch import nn

from ._component import Component


class Model(Component, nn.Module, abc.ABC):
    """A paper's architecture as an ``nn.Module`` with a validated config.

    Contract:
        - ``forward`` takes and returns tensors whose shapes the subclass
          documents; batch first.
        - Components it is built from (attention, neurons) are chosen by
          registry name in the config, so variants are compared with everything
          else equal.
        - ``.to(device)`` / ``.to(dtype)`` move it entirely; no hard-coded device.
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        self._init_config(config, overrides)

    def num_parameters(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    @abc.abstractmethod
    def forward(self, *args: Any, **kwargs: Any) -> Any: ...
