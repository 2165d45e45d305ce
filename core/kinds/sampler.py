"""Sampler: learns to draw samples from a Target known up to a constant."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import Tensor

from ._component import Component


class Sampler(Component, abc.ABC):
    """Learns to sample from an unnormalised :class:`~etude.kinds.Target`.

    Contract:
        - :meth:`fit` trains against ``target`` for ``steps`` iterations (energy
          evaluations counted by the target) and returns self.
        - :meth:`sample` returns (n, target.dim) samples on the sampler's device.
        - :meth:`log_Z` returns a dict of log normalising-constant estimates
          (e.g. ``{"elbo": ..., "iw": ...}``) computed from ``n`` fresh samples.
        - Randomness comes from the ``generator`` argument when given.
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)

    @abc.abstractmethod
    def fit(self, target: Any, *, steps: int | None = None, progress: bool = False, **kwargs: Any) -> Sampler:
        """Train against ``target``; returns self."""

    @abc.abstractmethod
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """(n, dim) samples."""

    def log_Z(self, n: int = 1000, **kwargs: Any) -> dict[str, float]:
        """Estimates of log Z; subclasses that can estimate it override this."""
        raise NotImplementedError(f"{type(self).__name__} does not estimate log Z")
