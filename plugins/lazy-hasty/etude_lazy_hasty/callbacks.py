"""Callbacks of the core loop: per-group learning curves at matched progress, and ReLU sign similarity.

:class:`GroupTracker` evaluates the train split (labels as trained on) at
iteration 0, at the paper's log-spaced iterations ``ceil(5 * 1.15^k)``
(:func:`etude_feature_alignment.callbacks.log_schedule`) and at every epoch
end: overall accuracy and loss, and the same per group (difficulty
quantiles, the flipped-label mask, ...). Regimes move at different speeds,
so they are compared at matched *overall* progress:
:meth:`GroupTracker.at_matched_progress` interpolates every curve onto
common overall-accuracy (or loss) levels (:func:`matched_progress`).

:class:`SignSimilarity` measures the fraction of ReLU on/off patterns
(pre-activation > 0) on a probe set equal to those at ``w0``: 1 for the
initial network, close to 1 after lazy training.

References:
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658 (Sections 4-5).

Examples:
    >>> import torch
    >>> from etude.data import Iris, SupervisedTraining
    >>> task = Iris()
    >>> y = task.split("train").targets
    >>> tracker = GroupTracker({"class0": y == 0, "other": y != 0})
    >>> _ = SupervisedTraining(epochs=3, hidden=(8,)).run(task, callbacks=[tracker])
    >>> sorted(tracker.at_matched_progress([0.5])["groups"])
    ['class0', 'other']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from etude.data import Callback, predict
from etude.data.models import NeuronActivation
from etude_feature_alignment.callbacks import log_schedule


def matched_progress(progress: Sequence[float], curves: Mapping[str, Sequence[float]], levels: Sequence[float], *,
                     decreasing: bool = False) -> dict[str, list[float]]:
    """Every curve linearly interpolated at the first crossing of each ``level`` by ``progress``.

    ``progress`` (overall accuracy, increasing; or loss with ``decreasing=True``) and the
    curves are sampled at the same iterations. At a level reached at sample ``i`` (and not
    before), the value is interpolated between samples ``i - 1`` and ``i``; reached at the
    first sample: that sample's value; never reached: NaN.
    """
    p = [float(v) for v in progress]
    for name, c in curves.items():
        if len(c) != len(p):
            raise ValueError(f"matched_progress: curve {name!r} has {len(c)} points, progress has {len(p)}")
    out: dict[str, list[float]] = {name: [] for name in curves}
    for level in levels:
        crossed = [i for i, v in enumerate(p) if (v <= level if decreasing else v >= level)]
        for name, c in curves.items():
            if not crossed:
                out[name].append(float("nan"))
                continue
            i = crossed[0]
            if i == 0 or p[i] == p[i - 1]:
                out[name].append(float(c[i]))
                continue
            w = (level - p[i - 1]) / (p[i] - p[i - 1])
            out[name].append(float(c[i - 1]) + w * (float(c[i]) - float(c[i - 1])))
    return out


class GroupTracker(Callback):
    """Per-group accuracy and loss on the train split against iterations, plus overall.

    Args:
        groups: name -> bool mask (N,) over the train split (groups may overlap).
        base, factor: the log-spaced schedule ``ceil(base * factor^k)``.
        every_epoch: also measure at every epoch end.
        stop_at: stop training once the overall train accuracy reaches this (None: never).

    Attributes:
        records: ``step``, ``accuracy``, ``loss`` (overall) and ``groups``
            -> name -> ``{"accuracy": [...], "loss": [...]}``, one entry per measurement.
    """

    def __init__(self, groups: Mapping[str, Tensor], *, base: float = 5.0, factor: float = 1.15,
                 every_epoch: bool = True, stop_at: float | None = None) -> None:
        if not groups:
            raise ValueError("GroupTracker: give at least one group (name -> bool mask over the train split)")
        self.groups = {str(k): torch.as_tensor(v).bool() for k, v in groups.items()}
        self.base, self.factor, self.every_epoch, self.stop_at = float(base), float(factor), every_epoch, stop_at
        self.steps: list[int] = []
        self.accuracy: list[float] = []
        self.loss: list[float] = []
        self.group_accuracy: dict[str, list[float]] = {k: [] for k in self.groups}
        self.group_loss: dict[str, list[float]] = {k: [] for k in self.groups}
        self._schedule: set[int] = set()

    def on_train_start(self, state) -> None:
        x, y = state.data["train"]
        for name, mask in self.groups.items():
            if mask.shape != (x.shape[0],):
                raise ValueError(f"GroupTracker: group {name!r} mask has shape {tuple(mask.shape)}, "
                                 f"the train split has {x.shape[0]} examples")
            if not bool(mask.any()):
                raise ValueError(f"GroupTracker: group {name!r} is empty")
        self._masks = torch.stack([m for m in self.groups.values()]).to(state.device, torch.float64)
        self._schedule = set(log_schedule(state.epochs * state.steps_per_epoch, self.base, self.factor))
        self._measure(state)

    def _measure(self, state) -> None:
        if self.steps and self.steps[-1] == state.step:
            return
        x, y = state.data["train"]
        out = predict(state.model, x)
        losses = nn.functional.cross_entropy(out, y, reduction="none").double()
        correct = (out.argmax(-1) == y).double()
        counts = self._masks.sum(1)
        accs = (self._masks @ correct / counts).tolist()
        group_losses = (self._masks @ losses / counts).tolist()
        self.steps.append(int(state.step))
        self.accuracy.append(float(correct.mean()))
        self.loss.append(float(losses.mean()))
        for name, a, l in zip(self.groups, accs, group_losses, strict=True):
            self.group_accuracy[name].append(a)
            self.group_loss[name].append(l)
        if self.stop_at is not None and self.accuracy[-1] >= self.stop_at:
            state.stop = True

    def on_batch_end(self, state, indices, losses) -> None:
        if state.step in self._schedule:
            self._measure(state)

    def on_epoch_end(self, state) -> None:
        if self.every_epoch:
            self._measure(state)

    def on_train_end(self, state) -> None:
        self._measure(state)

    @property
    def records(self) -> dict:
        return {"step": list(self.steps), "accuracy": list(self.accuracy), "loss": list(self.loss),
                "groups": {k: {"accuracy": list(self.group_accuracy[k]), "loss": list(self.group_loss[k])}
                           for k in self.groups}}

    def at_matched_progress(self, levels: Sequence[float], *, by: str = "accuracy",
                            metric: str = "accuracy") -> dict:
        """Every group's ``metric`` at the first crossing of each overall ``by`` level ("accuracy" or "loss")."""
        if by not in ("accuracy", "loss") or metric not in ("accuracy", "loss"):
            raise ValueError(f"by and metric must be 'accuracy' or 'loss', got by={by!r}, metric={metric!r}")
        progress = self.accuracy if by == "accuracy" else self.loss
        curves = {"step": [float(s) for s in self.steps],
                  **(self.group_accuracy if metric == "accuracy" else self.group_loss)}
        values = matched_progress(progress, curves, levels, decreasing=by == "loss")
        steps = values.pop("step")
        return {"levels": [float(v) for v in levels], "step": steps, "groups": values}


def activation_modules(model: nn.Module) -> list[nn.Module]:
    """The ReLU-like modules of ``model`` (``nn.ReLU`` and the core's ``NeuronActivation('relu')``), in order."""
    found = [m for m in model.modules()
             if isinstance(m, nn.ReLU) or (isinstance(m, NeuronActivation) and m.name == "relu")]
    if not found:
        raise ValueError(f"no ReLU module found in {type(model).__name__} (nn.ReLU or the core's 'relu' activation)")
    return found


@torch.no_grad()
def relu_patterns(model: nn.Module, x: Tensor) -> Tensor:
    """On/off pattern (n, U) bool of every ReLU unit of ``model`` on ``x`` (pre-activation > 0), eval mode."""
    captured: list[Tensor] = []
    handles = [m.register_forward_hook(lambda mod, inp, out: captured.append((inp[0] > 0).reshape(inp[0].shape[0], -1)))
               for m in activation_modules(model)]
    was = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was)
        for h in handles:
            h.remove()
    return torch.cat(captured, dim=1)


def sign_similarity(a: Tensor, b: Tensor) -> float:
    """Fraction of equal entries of two on/off patterns of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"sign_similarity: patterns have shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return float((a == b).double().mean())


def _inner(model: nn.Module) -> nn.Module:
    from .alpha_scaled import AlphaScaled  # noqa: PLC0415

    return model.net if isinstance(model, AlphaScaled) else model


class SignSimilarity(Callback):
    """Fraction of ReLU on/off patterns on ``probe`` equal to the initial network's, at log-spaced iterations.

    With :class:`~etude_lazy_hasty.alpha_scaled.AlphaScaled` the wrapped network ``f(w; .)`` is probed.
    ``steps`` and ``similarity`` list the measurements (1.0 at step 0).
    """

    def __init__(self, probe: Tensor, *, base: float = 5.0, factor: float = 1.15) -> None:
        if not isinstance(probe, Tensor) or probe.dim() < 2 or probe.shape[0] < 1:
            raise ValueError(f"SignSimilarity: probe must be a batch of inputs (n, ...), got {getattr(probe, 'shape', probe)}")
        self.probe = probe
        self.base, self.factor = float(base), float(factor)
        self.steps: list[int] = []
        self.similarity: list[float] = []

    def on_train_start(self, state) -> None:
        self._schedule = set(log_schedule(state.epochs * state.steps_per_epoch, self.base, self.factor))
        self._x = self.probe.to(state.device)
        self._reference = relu_patterns(_inner(state.model), self._x)
        self._measure(state)

    def _measure(self, state) -> None:
        if self.steps and self.steps[-1] == state.step:
            return
        self.steps.append(int(state.step))
        self.similarity.append(sign_similarity(relu_patterns(_inner(state.model), self._x), self._reference))

    def on_batch_end(self, state, indices, losses) -> None:
        if state.step in self._schedule:
            self._measure(state)

    def on_train_end(self, state) -> None:
        self._measure(state)


__all__ = ["GroupTracker", "SignSimilarity", "activation_modules", "matched_progress", "relu_patterns",
           "sign_similarity"]
