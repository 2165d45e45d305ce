"""A small training-loop helper that stops on NaN/inf with a clear error."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from etude.registry.errors import EtudeError


class NonFiniteLossError(EtudeError, FloatingPointError):
    """The loss became NaN or inf; names the step and the value."""

    def __init__(self, step: int, name: str, value: float) -> None:
        self.step, self.name, self.value = step, name, value
        super().__init__(
            f"{name} is {value} at step {step}: training stopped. Lower the learning rate, "
            "clip gradients, or check the inputs for NaN/inf."
        )


def check_finite(value: Any, *, step: int, name: str = "loss") -> float:
    """``float(value)``, or :class:`NonFiniteLossError` if it is NaN or inf."""
    number = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
    if not math.isfinite(number):
        raise NonFiniteLossError(step, name, number)
    return number


def train(
    step: Callable[[int], Any],
    steps: int,
    *,
    progress: bool = False,
    desc: str = "train",
    log_every: int = 1,
) -> dict[str, list[float]]:
    """Call ``step(i)`` for ``i`` in ``range(steps)``; return the logged history.

    ``step`` returns a loss (tensor or float) or a dict of named scalars whose
    ``"loss"`` entry is checked. Every logged value must be finite.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    history: dict[str, list[float]] = {}
    iterator: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        iterator = tqdm(iterator, desc=desc, leave=False)
    for i in iterator:
        out = step(i)
        values = out if isinstance(out, dict) else {"loss": out}
        if i % log_every == 0 or i == steps - 1:
            for name, value in values.items():
                history.setdefault(name, []).append(check_finite(value, step=i, name=name))
    return history
