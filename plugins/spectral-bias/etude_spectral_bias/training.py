"""The paper's fit: full-batch Adam on the mean squared error, with the trackers as callbacks.

Every experiment of the paper trains a ReLU MLP ``d -> width x (depth - 1)
-> 1`` (``depth`` counts the linear layers, as ``DEPTH`` in the official
notebooks: depth 6 = five hidden layers) with Adam (no weight decay,
constant learning rate) on the whole grid at every step. :func:`fit` runs
that through the core's ``procedure/supervised`` with ``model/mlp``
(``batch_size=None`` is full batch, one epoch is one step, evaluation only at
the end) and returns the trained network with the trackers' records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .tracking import SpectrumTracker


def mlp_hidden(width: int, depth: int) -> tuple[int, ...]:
    """Hidden widths of a ``depth``-linear-layer MLP: ``(width,) * (depth - 1)``."""
    if int(depth) != depth or depth < 2:
        raise ValueError(f"depth counts linear layers and must be an integer >= 2, got {depth!r}")
    if int(width) != width or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    return (int(width),) * (int(depth) - 1)


def supervised_procedure(*, width: int, depth: int, lr: float, iterations: int) -> Any:
    """``procedure/supervised`` configured as the paper's fit (full-batch Adam, MSE, constant lr, no weight decay)."""
    import etude  # noqa: PLC0415

    return etude.create(
        "procedure", "supervised", model="mlp", hidden=mlp_hidden(width, depth), loss="mse", optimizer="adam",
        lr=float(lr), weight_decay=0.0, schedule="constant", epochs=int(iterations), batch_size=None,
        eval_every=int(iterations),
    )


def fit(task: Any, *, width: int, depth: int, lr: float, iterations: int, seed: int, device: str = "cpu",
        every: int = 25, callbacks: Sequence[Any] = ()) -> tuple[torch.nn.Module, SpectrumTracker]:
    """Train the paper's MLP on ``task`` for ``iterations`` full-batch Adam steps; returns (network, spectrum tracker).

    The tracker records every ``every`` steps (and after the last);
    ``callbacks`` are extra ``etude.data.Callback`` instances.

    Examples:
        >>> from etude_spectral_bias import SumOfSinusoids
        >>> net, tracker = fit(SumOfSinusoids(frequencies=(5,)), width=16, depth=2, lr=1e-3, iterations=50, seed=0)
        >>> tracker.magnitudes.shape
        torch.Size([3, 1])
    """
    tracker = SpectrumTracker(every=every)
    procedure = supervised_procedure(width=width, depth=depth, lr=lr, iterations=iterations)
    result = procedure.run(task, seed=int(seed), device=device, callbacks=[tracker, *callbacks])
    return result.models["model"], tracker
