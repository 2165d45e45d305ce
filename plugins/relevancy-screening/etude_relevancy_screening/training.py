"""Training on copy / denoise through the core's supervised loop, and the memory measurement of one backward pass."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["saved_tensor_bytes", "train_copy"]


def saved_tensor_bytes(fn: Callable[[], torch.Tensor]) -> tuple[int, torch.Tensor]:
    """Bytes autograd keeps for the backward pass of ``fn()`` (each storage counted once), and ``fn()``'s value.

    Measured with :func:`torch.autograd.graph.saved_tensors_hooks`: every
    tensor saved for backward during the call is packed; distinct storages
    are summed by their size in bytes.

    Examples:
        >>> import torch
        >>> w = torch.randn(3, 3, requires_grad=True)
        >>> n, y = saved_tensor_bytes(lambda: (w @ torch.ones(3, 2)).tanh().sum())
        >>> n > 0
        True
    """
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        value = fn()
    return sum(storages.values()), value


class _Clock:
    """Times the updates themselves (first batch start to last batch end), not the evaluation."""

    def __init__(self) -> None:
        from etude.data import Callback  # noqa: PLC0415

        outer = self

        class Clock(Callback):
            def on_batch_start(self, state, indices):
                if outer.start is None:
                    outer.start = time.perf_counter()

            def on_batch_end(self, state, indices, losses):
                outer.end = time.perf_counter()
                outer.steps = state.step

        self.start: float | None = None
        self.end: float | None = None
        self.steps = 0
        self.callback = Clock()

    @property
    def seconds_per_update(self) -> float:
        return (self.end - self.start) / max(self.steps, 1) if self.start is not None else float("nan")


def train_copy(*, seed: int, device: str = "cpu", task: str = "copying", length: int = 10, delay: int = 300,
               num_symbols: int = 8, updates: int = 1000, batch: int = 10, lr: float = 1e-3,
               model_options: dict[str, Any] | None = None, num_test: int = 256,
               transfer_delays: Iterable[int] = (), progress: bool = False, keep_model: bool = False) -> dict[str, Any]:
    """Train a :class:`SelfAttentiveRNN` on copy or denoise with the paper's optimiser; recall accuracy on fresh sequences.

    ``procedure/supervised`` with RMSprop (lr ``lr``, α 0.99, no weight decay),
    constant learning rate, gradient norm clipped at 1.0, cross-entropy at every
    step (blanks included, as the official ``copytask.py``), one pass over
    ``updates x batch`` fresh sequences (so every update sees new data, as the
    official code's per-update sampling). Returns the recall accuracy on the
    last ``length`` steps of ``num_test`` test sequences, seconds per update,
    and, for copy, the recall accuracy at each of ``transfer_delays`` (test
    sequences of the longer delay from the same seed: transfer copy);
    ``keep_model=True`` adds the trained network under ``"model"``.
    """
    from etude.data import Copying, SupervisedTraining  # noqa: PLC0415
    from etude.data.supervised import predict  # noqa: PLC0415

    from .tasks import Denoise, recall_accuracy  # noqa: PLC0415

    if task not in ("copying", "denoise"):
        raise ValueError(f"train_copy: task must be 'copying' or 'denoise', got {task!r}")
    cls = Copying if task == "copying" else Denoise
    data = cls(seed=seed, length=length, delay=delay, num_symbols=num_symbols, num_train=updates * batch,
               num_test=num_test)
    procedure = SupervisedTraining(
        model="self-attentive-rnn", model_options=dict(model_options or {}), optimizer="rmsprop", lr=lr, alpha=0.99,
        weight_decay=0.0, schedule="constant", epochs=1, batch_size=batch, grad_clip=1.0, loss="cross-entropy",
    )
    clock = _Clock()
    result = procedure.run(data, seed=seed, device=device, callbacks=[clock.callback], progress=progress)
    net = result.models["model"]
    test = data.split("test")
    out: dict[str, Any] = {
        "recall_accuracy": recall_accuracy(predict(net, test.inputs.to(device), batch_size=512).cpu(), test.targets, length),
        "seconds_per_update": clock.seconds_per_update,
        "test_loss": result.metrics["test_loss"],
        "updates": int(clock.steps),
    }
    transfer = {}
    for d in transfer_delays:
        longer = Copying(seed=seed, length=length, delay=int(d), num_symbols=num_symbols, num_train=1, num_test=num_test)
        split = longer.split("test")
        logits = predict(net, split.inputs.to(device), batch_size=64).cpu()
        transfer[str(int(d))] = recall_accuracy(logits, split.targets, length)
    if transfer:
        out["transfer_recall_accuracy"] = transfer
    if keep_model:
        out["model"] = net
    return out
