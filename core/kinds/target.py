"""Target: an unnormalised density, as a Pyro ``TorchDistribution``."""

from __future__ import annotations

import abc
from typing import Any

import torch
from pyro.distributions import TorchDistribution
from torch import Tensor

from ._component import Component


class Target(Component, TorchDistribution, abc.ABC):
    """An unnormalised density over R^dim: ``log_prob(x) = -energy(x)`` up to a constant.

    Contract:
        - ``dim`` (the event size) comes from the config; ``event_shape == (dim,)``.
        - :meth:`log_prob` takes (..., dim) and returns (...): the *unnormalised*
          log density. Subclasses implement :meth:`unnormalized_log_prob`; the
          base counts every evaluated point in ``energy_calls``.
        - ``log_Z`` is the exact log normalising constant, or None if unknown.
        - :meth:`sample` draws exact samples when ``has_exact_samples``; otherwise
          it raises NotImplementedError.
        - :meth:`to` returns the target with its tensors on another device/dtype.
    """

    arg_constraints: dict = {}
    has_rsample = False
    has_exact_samples: bool = False

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)
        self.energy_calls = 0
        TorchDistribution.__init__(self, batch_shape=torch.Size(), event_shape=torch.Size([self.dim]), validate_args=False)

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Dimension of the sample space."""

    @property
    def log_Z(self) -> float | None:
        """Exact log normalising constant, or None."""
        return None

    @abc.abstractmethod
    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        """Log density up to a constant for x (..., dim) -> (...)."""

    def log_prob(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"{type(self).__name__}: x must end in dim={self.dim}, got shape {tuple(x.shape)}")
        self.energy_calls += x.numel() // self.dim
        return self.unnormalized_log_prob(x)

    def energy(self, x: Tensor) -> Tensor:
        """``-log_prob(x)``."""
        return -self.log_prob(x)

    def sample(self, sample_shape: torch.Size | tuple[int, ...] = torch.Size()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no exact sampler")

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> Target:
        """Move every tensor attribute in place; returns self."""
        for key, value in list(vars(self).items()):
            if isinstance(value, Tensor):
                setattr(self, key, value.to(device=device, dtype=dtype if value.is_floating_point() else None))
        return self
