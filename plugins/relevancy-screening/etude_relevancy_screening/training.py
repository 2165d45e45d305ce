"""Training on copy / denoise and permuted sequential MNIST through the core's supervised loop; saved-bytes measurement."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import torch

__all__ = ["PSMNIST_PERMUTATION", "saved_tensor_bytes", "train_copy", "train_psmnist"]

# seed of the one psMNIST pixel order that every model and seed shares (1234 as the official sMNISTtask.py's
# RandomState; torch's randperm from it is a different, equally random, order than numpy's)
PSMNIST_PERMUTATION = 1234


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


def train_psmnist(*, seed: int, device: str = "cpu", memory: str = "relevancy", hidden: int = 400, nu: int = 10,
                  rho: int = 10, epochs: int = 200, batch: int = 100, lr: float = 1e-4, side: int = 28,
                  permutation: int = PSMNIST_PERMUTATION, val_fraction: float = 1 / 6, num_train: int | None = None,
                  num_test: int | None = None, root: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Train a :class:`SelfAttentiveRNN` on permuted sequential MNIST; test accuracy at the best validation epoch.

    The core's ``task/mnist`` (local IDX files; :class:`~etude.data.DataNotFoundError`
    when absent, raised before any training) read one pixel per step by
    meta-rims' ``task/sequential-image`` with ``binarize=False`` (pixels in
    [0, 1], as the official ``ToTensor`` inputs), ``side`` x ``side`` pixels
    (28: 784 steps, no resizing) in the fixed order of ``permutation`` (the
    same for every model and seed). The classification reads the last state
    (``readout="last"``). Defaults are the official ``sMNISTtask.py``'s:
    nhid 400, RMSprop lr 1e-4, alpha 0.99, batch 100, 200 epochs, ν = 10
    (``--lastk``), ρ = 10 (``--rsize``), no gradient clipping, a validation
    set of 10 000 of the 60 000 training images (``val_fraction`` 1/6,
    stratified and seeded here, the last 10 000 there), the test accuracy
    read at the epoch of the best validation accuracy. ``num_train`` /
    ``num_test`` take the first images (tests). Returns ``test_accuracy``
    (at the best validation epoch), ``final_test_accuracy``, ``best_epoch``,
    ``val_accuracy`` and ``test_accuracy_curve`` per epoch, and ``seconds_per_update``.

    Examples:
        >>> from etude.data import DataNotFoundError
        >>> try:
        ...     train_psmnist(seed=0, root="/nonexistent", epochs=1)
        ... except DataNotFoundError as error:
        ...     print(error.folder)
        /nonexistent/mnist
    """
    from etude.data import SupervisedTraining  # noqa: PLC0415
    from etude_meta_rims.tasks import SequentialImage  # noqa: PLC0415

    image_options: dict[str, Any] = {"val_fraction": float(val_fraction)}
    if root is not None:
        image_options["root"] = str(root)
    task = SequentialImage(seed=seed, image_task="mnist", image_options=image_options, train_size=side, test_sizes=(),
                           binarize=False, permutation=permutation, num_train=num_train, num_test=num_test)
    task.splits()  # reads the files now: a missing folder raises DataNotFoundError before any model is built
    procedure = SupervisedTraining(
        model="self-attentive-rnn",
        model_options={"hidden_size": hidden, "memory": memory, "buffer_size": nu, "relevant_size": rho,
                       "readout": "last"},
        optimizer="rmsprop", lr=lr, alpha=0.99, weight_decay=0.0, schedule="constant", epochs=epochs,
        batch_size=batch, grad_clip=None, loss="cross-entropy", eval_every=1,
    )
    clock = _Clock()
    result = procedure.run(task, seed=seed, device=device, callbacks=[clock.callback], progress=progress)
    history = result.history
    val, test = history["val_accuracy"], history["test_accuracy"]
    best = max(range(len(val)), key=lambda i: (val[i], -i))  # first epoch of the best validation accuracy
    return {
        "test_accuracy": float(test[best]),
        "final_test_accuracy": float(test[-1]),
        "best_epoch": int(history["epoch"][best]),
        "val_accuracy": [float(v) for v in val],
        "test_accuracy_curve": [float(v) for v in test],
        "seconds_per_update": clock.seconds_per_update,
        "updates": int(clock.steps),
        "steps_per_sequence": side * side,
    }
