"""The callback base class of the core's supervised loop (``etude.data.Callback``).

Until the core's data layer ships ``etude.data.Callback`` this module
defines a stand-in with the same documented hooks, so the trackers are
written against the final interface. TODO(spectral-bias): drop the
fallback once ``etude.data`` is on main.
"""

from __future__ import annotations

from typing import Any

try:
    from etude.data import Callback
except ImportError:  # pragma: no cover - the core without its data layer

    class Callback:  # type: ignore[no-redef]
        """Base class: every hook does nothing (hook names of ``etude.data.Callback``)."""

        def on_train_start(self, state: Any) -> None:
            """Once, before the first step."""

        def on_batch_start(self, state: Any, indices: Any) -> None:
            """Before every forward pass."""

        def on_batch_end(self, state: Any, indices: Any, losses: Any) -> None:
            """After every optimiser step."""

        def on_epoch_end(self, state: Any) -> None:
            """After every epoch."""

        def on_train_end(self, state: Any) -> None:
            """Once, after training."""


__all__ = ["Callback"]
