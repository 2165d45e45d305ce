"""Measurements of the tangent kernel during training, as callbacks of the core supervised loop.

- :class:`AlignmentTracker`: on fixed subsets (default n = 100 train and
  test examples), at iteration 0 and at iterations ``ceil(5 * 1.15^k)``
  (the official code's log-spaced schedule), records ``Tr K``; at the
  "Gram" checkpoints (every checkpoint, or iteration 0, the ends of chosen
  epochs and the end of training) also the full-kernel, trace-kernel and
  layer-wise centred alignments with the training labels and the
  effective rank ``Tr K / lambda_max``.
- :class:`PathComplexity`: the heuristic complexity of the sequence of
  tangent-kernel classes along the optimisation path,

      C = sum_t ||w_{t+1} - w_t|| sqrt(Tr K_t) / n,

  over the checkpoints t (a lower bound of the per-step sum, by the
  triangle inequality), beside the frozen-kernel value
  ``||w_T - w_0|| sqrt(Tr K_0) / n`` and ``||w_T - w_0||``. For a linear
  class ``{x -> <w, Phi(x)>, ||w|| <= B}`` the empirical Rademacher
  complexity is at most ``B sqrt(Tr K) / n``; the sum extends it along the
  path (Baratin et al. 2021, Sec. 5; the normalisation is as the issue
  states it, not checked against the PDF here).
- :class:`StopAtTrainAccuracy`: ends training once the train accuracy
  reaches a target (the paper trains random-label runs to ~100 %).

The model is put in eval mode while it is measured (so dropout / BatchNorm
do not make the features batch-dependent) and restored afterwards.

References:
    A. Baratin, T. George, C. Laurent, R. D. Hjelm, G. Lajoie, P. Vincent,
    S. Lacoste-Julien, "Implicit Regularization via Neural Feature
    Alignment", AISTATS 2021, arXiv:2008.00938.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from etude.data import Callback

from .alignment import effective_rank, kernel_alignment, label_kernel
from .tangent import TangentKernel, full_to


def log_schedule(last: int, base: float = 5.0, factor: float = 1.15) -> list[int]:
    """Iterations ``0`` and ``ceil(base * factor^k)`` up to ``last`` (distinct, increasing)."""
    its, k = {0}, 0
    while True:
        it = math.ceil(base * factor**k - 1e-9)
        if it > last:
            break
        its.add(it)
        k += 1
    return sorted(its)


def _subset(x: Tensor, y: Tensor, n: int, seed: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.randperm(x.shape[0], generator=g)[: min(n, x.shape[0])].to(x.device)
    return x[idx], y[idx]


def _flat_params(model: torch.nn.Module) -> Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters() if p.requires_grad]).double().cpu()


class _Checkpointed(Callback):
    """Calls ``measure(state, full=...)`` at iteration 0, at ``ceil(base * factor^k)`` and at the end of training."""

    def __init__(self, *, base: float = 5.0, factor: float = 1.15) -> None:
        if not (base > 0 and factor > 1):
            raise ValueError(f"schedule needs base > 0 and factor > 1, got base={base}, factor={factor}")
        self.base, self.factor = float(base), float(factor)
        self._next, self._k = 0, 0
        self.measured: dict[int, bool] = {}  # step -> whether the full measurement was taken there

    def _checkpoint(self, state, *, full: bool) -> None:
        if self.measured.get(state.step, None) is not None and (self.measured[state.step] or not full):
            return
        was_training = state.model.training
        state.model.eval()
        try:
            self.measure(state, full=full)
        finally:
            state.model.train(was_training)
        self.measured[state.step] = full

    def scheduled(self) -> bool:
        """Whether the log-spaced checkpoints are measured at all."""
        return True

    def is_full(self, state) -> bool:
        """Whether a scheduled checkpoint takes the full (expensive) measurement."""
        return True

    def on_train_start(self, state) -> None:
        self._next, self._k = 0, 0
        self._checkpoint(state, full=True)
        self._advance(state.step)

    def _advance(self, step: int) -> None:
        while self._next <= step:
            self._next = math.ceil(self.base * self.factor**self._k - 1e-9)
            self._k += 1

    def on_batch_end(self, state, indices, losses) -> None:
        if state.step >= self._next and self.scheduled():
            self._checkpoint(state, full=self.is_full(state))
            self._advance(state.step)

    def on_train_end(self, state) -> None:
        self._checkpoint(state, full=True)

    def measure(self, state, *, full: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class AlignmentTracker(_Checkpointed):
    """Tangent-kernel alignment, ``Tr K`` and effective rank on fixed subsets along training.

    Args:
        n: examples per subset (train, and test when ``test=True``), drawn once with ``seed``.
        test: also measure on a test subset (with the test labels).
        gram_epochs: epochs (1-based) at whose end the full measurements are
            taken, besides iteration 0 and the end of training; None: at
            every checkpoint. Elsewhere only ``Tr K`` is recorded (cheap).
        trace_schedule: record ``Tr K`` at the log-spaced iterations between
            Gram checkpoints (False: only at the Gram checkpoints).
        params, chunk_size: passed to :class:`TangentKernel`.

    ``records`` is a list of dicts with ``split``, ``iteration``, ``epoch``
    (epochs completed, fractional), ``trace_K`` and, at Gram checkpoints,
    ``alignment`` (full kernel), ``alignment_trace``, ``alignment_layers``
    (list, input to output) and ``effective_rank``. Alignments are with the
    labels trained on (shuffled ones for random labels).

    Examples:
        >>> from etude.data import Iris, SupervisedTraining
        >>> tracker = AlignmentTracker(n=20, test=False, gram_epochs=())
        >>> _ = SupervisedTraining(epochs=2, hidden=(8,)).run(Iris(), callbacks=[tracker])
        >>> [r["iteration"] for r in tracker.records if "alignment" in r]
        [0, 4]
    """

    def __init__(self, *, n: int = 100, test: bool = True, gram_epochs: Sequence[int] | None = None, seed: int = 0,
                 trace_schedule: bool = True, params: Sequence[str] | None = None, chunk_size: int = 32,
                 base: float = 5.0, factor: float = 1.15) -> None:
        super().__init__(base=base, factor=factor)
        if not (isinstance(n, int) and n >= 2):
            raise ValueError(f"AlignmentTracker: n must be an int >= 2 (examples per subset), got {n!r}")
        self.trace_schedule = bool(trace_schedule)
        self.n, self.test, self.seed = n, bool(test), int(seed)
        self.gram_epochs = None if gram_epochs is None else {int(e) for e in gram_epochs}
        self.params, self.chunk_size = params, chunk_size
        self.records: list[dict] = []

    def on_train_start(self, state) -> None:
        if not isinstance(getattr(state.task, "num_classes", None), int):
            raise ValueError("AlignmentTracker needs a classification task (num_classes set)")
        self.num_classes = int(state.task.num_classes)
        self.subsets = {"train": _subset(*state.data["train"], self.n, self.seed)}
        if self.test and "test" in state.data:
            self.subsets["test"] = _subset(*state.data["test"], self.n, self.seed + 1)
        self.kernel = TangentKernel(state.model, self.params, chunk_size=self.chunk_size)
        super().on_train_start(state)

    def is_full(self, state) -> bool:
        return self.gram_epochs is None

    def scheduled(self) -> bool:
        return self.gram_epochs is None or self.trace_schedule

    def on_epoch_end(self, state) -> None:
        if self.gram_epochs is not None and state.epoch + 1 in self.gram_epochs:
            self._checkpoint(state, full=True)

    def measure(self, state, *, full: bool) -> None:
        epoch = state.step / max(state.steps_per_epoch, 1)
        self.records = [r for r in self.records if r["iteration"] != state.step]
        for split, (x, y) in self.subsets.items():
            record: dict = {"split": split, "iteration": int(state.step), "epoch": float(epoch)}
            if full:
                record.update(self.full_measurements(x, y))
            else:
                record["trace_K"] = float(self.kernel.trace(x))
            self.records.append(record)

    def full_measurements(self, x: Tensor, y: Tensor) -> dict:
        """Alignments (full, trace, per layer), ``Tr K`` and effective rank of one subset (float64 reductions)."""
        C = self.num_classes
        Y = torch.nn.functional.one_hot(y.long(), C).double()
        layer_K = self.kernel.layer_grams(x)
        K = sum(layer_K.values())
        L = label_kernel(Y, "full")
        return {
            "trace_K": float(torch.diagonal(K).double().sum()),
            "alignment": float(kernel_alignment(K, L, num_outputs=C)),
            "alignment_trace": float(kernel_alignment(full_to(K, "trace", num_outputs=C), label_kernel(Y, "trace"))),
            "alignment_layers": [float(kernel_alignment(Kl, L, num_outputs=C)) for Kl in layer_K.values()],
            "effective_rank": effective_rank(K),
        }

    def series(self, key: str = "alignment", split: str = "train") -> tuple[list[int], list[float]]:
        """(iterations, values) of one recorded quantity on one subset."""
        rows = [r for r in self.records if r["split"] == split and key in r]
        return [r["iteration"] for r in rows], [r[key] for r in rows]


class PathComplexity(_Checkpointed):
    """Heuristic complexity ``sum_t ||w_{t+1} - w_t|| sqrt(Tr K_t) / n`` along training.

    ``Tr K_t`` is taken on a fixed train subset of ``n`` examples at the
    checkpoints (iteration 0, ``ceil(5 * 1.15^k)``, the end). After
    training, :attr:`result` holds ``path_complexity``,
    ``frozen_complexity`` (``||w_T - w_0|| sqrt(Tr K_0) / n``), ``norm_dw``
    and the per-checkpoint ``trace_K`` / ``step_norms``.

    Examples:
        >>> from etude.data import Iris, SupervisedTraining
        >>> pc = PathComplexity(n=20)
        >>> _ = SupervisedTraining(epochs=2, hidden=(8,)).run(Iris(), callbacks=[pc])
        >>> pc.result["path_complexity"] >= pc.result["frozen_complexity"] * 0  # finite, non-negative
        True
    """

    def __init__(self, *, n: int = 100, seed: int = 0, params: Sequence[str] | None = None, chunk_size: int = 32,
                 base: float = 5.0, factor: float = 1.15) -> None:
        super().__init__(base=base, factor=factor)
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"PathComplexity: n must be a positive int, got {n!r}")
        self.n, self.seed, self.params, self.chunk_size = n, int(seed), params, chunk_size
        self.iterations: list[int] = []
        self.trace_K: list[float] = []
        self.weights: list[Tensor] = []
        self.result: dict = {}

    def on_train_start(self, state) -> None:
        self.x, _ = _subset(*state.data["train"], self.n, self.seed)
        self.kernel = TangentKernel(state.model, self.params, chunk_size=self.chunk_size)
        super().on_train_start(state)

    def measure(self, state, *, full: bool) -> None:
        if self.iterations and self.iterations[-1] == state.step:
            return
        self.iterations.append(int(state.step))
        self.trace_K.append(float(self.kernel.trace(self.x)))
        self.weights.append(_flat_params(state.model))

    def on_train_end(self, state) -> None:
        super().on_train_end(state)
        self.result = path_complexity(self.weights, self.trace_K, self.x.shape[0])
        self.result["iterations"] = list(self.iterations)
        self.result["trace_K"] = list(self.trace_K)


def path_complexity(weights: Sequence[Tensor], trace_K: Sequence[float], n: int) -> dict:
    """The path, frozen-kernel complexities and ``||w_T - w_0||`` from checkpoint weights and ``Tr K_t``.

    Examples:
        >>> import torch
        >>> w = [torch.zeros(2, dtype=torch.float64), torch.tensor([3.0, 4.0], dtype=torch.float64)]
        >>> path_complexity(w, [4.0, 9.0], n=2)["path_complexity"]  # ||dw|| sqrt(Tr K_0) / n = 5 * 2 / 2
        5.0
    """
    if len(weights) != len(trace_K) or len(weights) < 1:
        raise ValueError(f"path_complexity: need as many weights as Tr K values (>= 1), got {len(weights)} and {len(trace_K)}")
    if n < 1:
        raise ValueError(f"path_complexity: n must be positive, got {n}")
    steps = [float((weights[t + 1] - weights[t]).norm()) for t in range(len(weights) - 1)]
    path = sum(s * math.sqrt(max(tk, 0.0)) / n for s, tk in zip(steps, trace_K[:-1], strict=False))
    dw = float((weights[-1] - weights[0]).norm())
    return {"path_complexity": path, "frozen_complexity": dw * math.sqrt(max(trace_K[0], 0.0)) / n,
            "norm_dw": dw, "step_norms": steps}


class StopAtTrainAccuracy(Callback):
    """Stops training at the end of the first epoch whose train accuracy is at least ``target``.

    ``epochs_run`` and ``train_accuracy`` record when and at what accuracy it stopped.

    Examples:
        >>> from etude.data import Iris, SupervisedTraining
        >>> stop = StopAtTrainAccuracy(0.5)
        >>> _ = SupervisedTraining(epochs=50, hidden=(16,)).run(Iris(), callbacks=[stop])
        >>> stop.epochs_run < 50 and stop.train_accuracy >= 0.5
        True
    """

    def __init__(self, target: float = 0.99) -> None:
        if not 0.0 < float(target) <= 1.0:
            raise ValueError(f"StopAtTrainAccuracy: target must be in (0, 1], got {target}")
        self.target = float(target)
        self.epochs_run = 0
        self.train_accuracy = 0.0

    def on_epoch_end(self, state) -> None:
        x, y = state.data["train"]
        was = state.model.training
        state.model.eval()
        with torch.no_grad():
            acc = float((state.model(x).argmax(-1) == y).float().mean())
        state.model.train(was)
        self.epochs_run, self.train_accuracy = state.epoch + 1, acc
        if acc >= self.target:
            state.stop = True


__all__ = ["AlignmentTracker", "PathComplexity", "StopAtTrainAccuracy", "log_schedule", "path_complexity"]
