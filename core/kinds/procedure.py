"""Procedure: a training procedure or objective applied to a task."""

from __future__ import annotations

import abc
from typing import Any

import attrs

from ._component import Component


@attrs.define
class ProcedureResult:
    """What a procedure run returns: final ``metrics``, per-epoch/step ``history``, trained ``models``."""

    metrics: dict[str, float] = attrs.field(factory=dict)
    history: dict[str, list[float]] = attrs.field(factory=dict)
    models: dict[str, Any] = attrs.field(factory=dict)
    info: dict[str, Any] = attrs.field(factory=dict)


class Procedure(Component, abc.ABC):
    """A training procedure (CrossSplit, plain ERM, lazy training, ...).

    Contract:
        - :meth:`run` takes a :class:`~etude.kinds.Task` (and the model or
          model factory the subclass documents), trains, and returns a
          :class:`ProcedureResult` whose ``metrics`` include every number the
          paper reports for the procedure.
        - All randomness comes from ``seed``; same seed, same result on CPU.
        - ``device`` is a runtime argument; ``progress`` toggles a tqdm bar.
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)

    @abc.abstractmethod
    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        """Train on ``task``; returns metrics and history."""
