"""Robust accuracy (clean, FGSM, PGD-k) and a training-loop callback that logs it with D's accuracy per epoch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from etude.data import Callback

from .attacks import eval_mode, fgsm, pgd

Attack = Callable[[nn.Module, Tensor, Tensor], Tensor]


def make_attack(name: str, eps: float, *, steps: int = 10, clip_min: float | None = 0.0, clip_max: float | None = 1.0,
                generator: torch.Generator | None = None) -> Attack | None:
    """``"clean"`` (None), ``"fgsm"`` or ``"pgd"`` (``steps`` steps, random start from ``generator``) as a function."""
    if name == "clean":
        return None
    if name == "fgsm":
        return lambda m, x, y: fgsm(m, x, y, eps, clip_min=clip_min, clip_max=clip_max)
    if name == "pgd":
        return lambda m, x, y: pgd(m, x, y, eps, steps=steps, clip_min=clip_min, clip_max=clip_max, generator=generator)
    raise ValueError(f"attack must be 'clean', 'fgsm' or 'pgd', got {name!r}")


def robust_accuracy(model: nn.Module, inputs: Tensor, targets: Tensor, attack: Any = None, *,
                    batch_size: int = 4096, generator: torch.Generator | None = None) -> float:
    """Accuracy of ``model`` on ``attack(model, x, y)`` (or on ``x`` when ``attack`` is None), in eval mode.

    ``attack`` is a function ``(model, x, y) -> x~``, an augmenter with
    ``needs_model`` (``augmenter/fgsm``, ``pgd``, ``a3t``: its attack is used)
    or None (clean accuracy). The model's mode is restored.

    Examples:
        >>> from etude_a3t.attacks import FGSM
        >>> net = torch.nn.Linear(4, 3)
        >>> x, y = torch.rand(20, 4), torch.randint(0, 3, (20,))
        >>> robust_accuracy(net, x, y, FGSM(eps=0.2)) <= robust_accuracy(net, x, y) + 0.05
        True
    """
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"robust_accuracy: targets batch {targets.shape[0]} != inputs batch {inputs.shape[0]}")
    if inputs.shape[0] == 0:
        raise ValueError("robust_accuracy: inputs are empty")
    if attack is not None and not callable(attack):
        raise TypeError(f"robust_accuracy: attack must be a function (model, x, y) -> x~, an attack augmenter or None, "
                        f"got {type(attack).__name__}")
    if hasattr(attack, "attack") and getattr(attack, "needs_model", False):
        augmenter = attack
        attack = lambda m, x, y: augmenter.attack(m, x, y, generator)  # noqa: E731
    correct = 0
    with eval_mode(model):
        for i in range(0, inputs.shape[0], batch_size):
            x, y = inputs[i:i + batch_size], targets[i:i + batch_size]
            if attack is not None:
                x = attack(model, x, y)
            with torch.no_grad():
                correct += int((model(x).argmax(-1) == y).sum())
    return correct / inputs.shape[0]


def discriminator_accuracy(model: nn.Module, inputs: Tensor, adversarial: Tensor) -> float:
    """Accuracy of an :class:`~etude_a3t.model.A3TClassifier`'s D on clean (0) vs ``adversarial`` (1) codes."""
    with eval_mode(model), torch.no_grad():
        _, h = model.features(torch.cat([inputs, adversarial]))
        d = model.discriminate(h)
    b = inputs.shape[0]
    return float(((d[:b] <= 0).sum() + (d[b:] > 0).sum()) / (2 * b))


class RobustAccuracyCallback(Callback):
    """Logs clean, FGSM and PGD-k test accuracy (and D's clean-vs-FGSM accuracy for an A3T classifier) each epoch.

    Every ``every`` epochs (and after the last) it appends to ``self.history``
    (and to the loop's history) ``epoch``, ``clean_accuracy``,
    ``fgsm_accuracy``, ``pgd_accuracy`` and, when the model has a
    discriminator, ``discriminator_accuracy`` on the ``split`` (default
    "test"). PGD draws its random starts from its own generator (seeded with
    ``seed``), so logging does not change training.

    Examples:
        >>> from etude.data import Iris, SupervisedTraining
        >>> cb = RobustAccuracyCallback(eps=0.1, pgd_steps=2, clip_min=None, clip_max=None)
        >>> _ = SupervisedTraining(epochs=2, hidden=(8,)).run(Iris(), callbacks=[cb])
        >>> len(cb.history["pgd_accuracy"])
        2
    """

    def __init__(self, eps: float = 0.1, *, pgd_steps: int = 10, split: str = "test", every: int = 1,
                 clip_min: float | None = 0.0, clip_max: float | None = 1.0, seed: int = 0, pgd: bool = True) -> None:
        self.eps, self.pgd_steps, self.split, self.every = float(eps), int(pgd_steps), split, int(every)
        self.clip_min, self.clip_max, self.seed, self.use_pgd = clip_min, clip_max, int(seed), bool(pgd)
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, state: Any) -> None:
        epoch = state.epoch + 1
        if epoch % self.every and epoch != state.epochs:
            return
        if self.split not in state.data:
            raise ValueError(f"RobustAccuracyCallback: the task has no {self.split!r} split (has {sorted(state.data)})")
        x, y = state.data[self.split]
        model = state.model
        adv = fgsm(model, x, y, self.eps, clip_min=self.clip_min, clip_max=self.clip_max)
        record = {"epoch": float(epoch), "clean_accuracy": robust_accuracy(model, x, y),
                  "fgsm_accuracy": robust_accuracy(model, adv, y)}
        if self.use_pgd:
            g = torch.Generator().manual_seed(self.seed + epoch)
            record["pgd_accuracy"] = robust_accuracy(
                model, x, y, make_attack("pgd", self.eps, steps=self.pgd_steps, clip_min=self.clip_min,
                                         clip_max=self.clip_max, generator=g))
        if callable(getattr(model, "discriminate", None)):
            record["discriminator_accuracy"] = discriminator_accuracy(model, x, adv)
        for key, value in record.items():
            self.history.setdefault(key, []).append(value)
            if key != "epoch":
                state.history.setdefault(f"robust/{key}", []).append(value)


__all__ = ["RobustAccuracyCallback", "discriminator_accuracy", "make_attack", "robust_accuracy"]
