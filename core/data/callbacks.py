"""Callbacks of the supervised loop: the hooks where papers plug in their measurements.

Subclass :class:`Callback` and override any hook; pass instances as
``SupervisedTraining.run(task, callbacks=[...])``. Hooks are called, in a
run of ``E`` epochs of ``S`` minibatches each (``S = ceil(N / batch_size)``):

============================================  ==========================================
``on_train_start(state)``                     once, before the first step (after a resume too)
``on_batch_start(state, indices)``            ``E * S`` times, before the forward pass
``on_batch_end(state, indices, losses)``      ``E * S`` times, after the optimiser step
``on_epoch_end(state)``                       ``E`` times, after that epoch's evaluation
``on_train_end(state)``                       once, with the final metrics in ``state.metrics``
============================================  ==========================================

``indices`` (B,) int64 are the rows of the train split in the minibatch,
on the data's device; ``losses`` (B,) are the per-example training losses
of that batch *before* the step (detached; their mean is the loss that was
minimised), or None when an augmenter computed the loss (a mixed batch has
no per-example loss of the indexed rows). Setting ``state.stop = True``
ends training after the current batch (at the epoch end from
``on_epoch_end``); ``on_train_end`` still runs. A run resumed from a
checkpoint calls the hooks only for the epochs it still trains.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor


@attrs.define(eq=False)
class TrainState:
    """What callbacks see: the live model and optimiser, the counters, the data on the device.

    Attributes:
        model: the network being trained (train mode during batches).
        optimizer: its ``torch.optim`` optimiser; ``scheduler`` the LR scheduler or None.
        task: the :class:`~etude.kinds.Task` trained on; ``device`` its ``torch.device``.
        epoch: the current epoch, 0-based (during ``on_epoch_end``: the epoch just finished).
        step: optimiser steps taken so far.
        steps_per_epoch: minibatches per epoch; ``epochs`` the total planned.
        data: split name -> ``(inputs, targets)`` on the device (train targets as trained on).
        info: the train split's ``info`` on the device (``clean_targets``, ``noisy``, ...).
        history: the evaluations so far (lists); ``metrics`` the latest evaluation.
        stop: set True to end training early.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    task: Any
    device: torch.device
    config: Any
    epochs: int
    steps_per_epoch: int
    data: dict[str, tuple[Tensor, Tensor]]
    info: dict[str, Any]
    epoch: int = 0
    step: int = 0
    history: dict[str, list[float]] = attrs.field(factory=dict)
    metrics: dict[str, float] = attrs.field(factory=dict)
    stop: bool = False


class Callback:
    """Base class: every hook does nothing. See the module docstring for when each is called.

    Examples:
        >>> class CountBatches(Callback):
        ...     def __init__(self):
        ...         self.count = 0
        ...     def on_batch_end(self, state, indices, losses):
        ...         self.count += 1
    """

    def on_train_start(self, state: TrainState) -> None:
        """Before the first step."""

    def on_batch_start(self, state: TrainState, indices: Tensor) -> None:
        """Before the forward pass of a minibatch (rows ``indices`` of the train split)."""

    def on_batch_end(self, state: TrainState, indices: Tensor, losses: Tensor | None) -> None:
        """After the optimiser step; ``losses`` (B,) per example, detached, or None."""

    def on_epoch_end(self, state: TrainState) -> None:
        """After the epoch's evaluation (``state.metrics``, ``state.history`` updated)."""

    def on_train_end(self, state: TrainState) -> None:
        """After training, with the final metrics."""


class PerExampleLoss(Callback):
    """Records every training example's loss each time it is in a minibatch: ``losses[epoch, i]``.

    ``self.losses`` is an (epochs, N) float tensor on the CPU (NaN where an
    example was not seen, e.g. after an early stop). The per-example losses
    are those the loop computed, so this costs no extra forward pass.

    Examples:
        >>> from etude.data import Iris, SupervisedTraining
        >>> tracker = PerExampleLoss()
        >>> _ = SupervisedTraining(epochs=2, hidden=(8,)).run(Iris(), callbacks=[tracker])
        >>> tuple(tracker.losses.shape)
        (2, 112)
    """

    def __init__(self) -> None:
        self.losses: Tensor | None = None

    def on_train_start(self, state: TrainState) -> None:
        if self.losses is None:
            n = state.data["train"][0].shape[0]
            self.losses = torch.full((state.epochs, n), float("nan"))

    def on_batch_end(self, state: TrainState, indices: Tensor, losses: Tensor | None) -> None:
        if losses is None:
            raise ValueError("PerExampleLoss needs per-example losses: use augmenter='none'")
        self.losses[state.epoch, indices.cpu()] = losses.float().cpu()


__all__ = ["Callback", "PerExampleLoss", "TrainState"]
