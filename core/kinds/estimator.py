"""Estimator: learns from data (or a simulator) and estimates a quantity."""

from __future__ import annotations

import abc
from typing import Any

from ._component import Component


class Estimator(Component, abc.ABC):
    """Learns from data, then estimates a quantity (mutual information, a posterior, ...).

    Contract:
        - :meth:`fit` takes the training data the subclass documents (e.g. paired
          samples ``x`` (N, dx), ``y`` (N, dy)) plus ``steps`` and ``progress``,
          trains in place and returns ``self``. It may be called again to
          continue training.
        - :meth:`estimate` takes held-out data and returns the estimate: a scalar
          tensor (in documented units, e.g. nats) or a Pyro distribution for
          posteriors. It does not update parameters.
        - Stateful: learned parameters live on the estimator; ``.to(device)``
          moves them when the subclass is an ``nn.Module``.
        - Bad input (mismatched N, NaN/inf, too few samples) raises a
          ValueError naming the argument and its shape.
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)

    @abc.abstractmethod
    def fit(self, *data: Any, steps: int | None = None, progress: bool = False, **kwargs: Any) -> Estimator:
        """Train on ``data``; returns self."""

    @abc.abstractmethod
    def estimate(self, *data: Any, **kwargs: Any) -> Any:
        """The estimate on ``data``."""
