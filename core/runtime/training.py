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

    ``step`` returns a loss (tensor or float) or a dict of named scalars.
    Every value is checked on every step (a NaN on a step that is not
    logged still stops training, naming that step); values are recorded in
    the history every ``log_every`` steps and on the last step.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not isinstance(log_every, int) or isinstance(log_every, bool) or log_every < 1:
        raise ValueError(f"log_every must be an integer >= 1, got {log_every!r}")
    history: dict[str, list[float]] = {}
    iterator: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        iterator = tqdm(iterator, desc=desc, leave=False)
    for i in iterator:
        out = step(i)
        values = out if isinstance(out, dict) else {"loss": out}
        checked = {name: check_finite(value, step=i, name=name) for name, value in values.items()}
        if i % log_every == 0 or i == steps - 1:
            for name, number in checked.items():
                history.setdefault(name, []).append(number)
    return history
