"""Augmenter: transforms a training batch, possibly contributing a loss term."""

from __future__ import annotations

import abc
from typing import Any

import attrs
import torch
from torch import Tensor

from ._component import Component


@attrs.frozen
class AugmentedBatch:
    """An augmented batch: ``inputs`` (B, ...) and soft ``targets`` (B, C) summing to 1 per row."""

    inputs: Tensor
    targets: Tensor
    info: dict[str, Any] = attrs.field(factory=dict)


class Augmenter(Component, abc.ABC):
    """Transforms ``(inputs, targets)`` batches for training.

    Contract:
        - :meth:`augment` takes ``inputs`` of any shape (B, ...) and ``targets``
          either as class indices (B,) int64 or soft labels (B, C) float, and
          returns an :class:`AugmentedBatch` with the same input shape and
          soft targets (B, C) in the inputs' dtype and device.
        - Randomness comes only from the ``generator`` argument (or torch's
          global RNG when None), so a seeded generator makes it deterministic.
        - :meth:`loss` is the training loss the augmentation implies for a
          model; the default is soft cross-entropy on the augmented batch. An
          augmenter that adds a regulariser (e.g. MixupE) overrides it; training
          procedures may pass extra keyword ``context`` (e.g. ``x_mean``).
        - Stateless: no parameters, nothing kept between calls.
        - Model-aware augmenters (adversarial attacks) set the class flag
          ``needs_model = True`` and receive the model being trained as
          ``model=``; calling one without a model is an error naming the fix.
          Model-free augmenters ignore ``model`` (it is not passed to their
          :meth:`augment`). The supervised loop also passes ``progress`` (the
          fraction of training done, in [0, 1]) in :meth:`loss`'s context.
    """

    needs_model: bool = False

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)

    @abc.abstractmethod
    def augment(
        self, inputs: Tensor, targets: Tensor, *, num_classes: int, generator: torch.Generator | None = None,
        model: torch.nn.Module | None = None,
    ) -> AugmentedBatch:
        """The augmented batch (``model`` is given only to augmenters with ``needs_model``)."""

    def __call__(self, inputs: Tensor, targets: Tensor, *, num_classes: int, generator=None,
                 model: torch.nn.Module | None = None) -> AugmentedBatch:
        name = type(self).__name__
        check_batch(inputs, targets, num_classes, name)
        if not self.needs_model:
            return self.augment(inputs, targets, num_classes=num_classes, generator=generator)
        if model is None:
            raise TypeError(f"{name} needs the model being trained (it attacks it): call it with model=<nn.Module>, "
                            f"or use its loss(model, inputs, targets, ...)")
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"{name}: model must be a torch.nn.Module, got {type(model).__name__}")
        return self.augment(inputs, targets, num_classes=num_classes, generator=generator, model=model)

    def loss(
        self,
        model: torch.nn.Module,
        inputs: Tensor,
        targets: Tensor,
        *,
        num_classes: int,
        generator: torch.Generator | None = None,
        **context: Any,
    ) -> Tensor:
        """Scalar training loss of ``model`` on the augmented batch.

        ``context`` carries optional training-time information an augmenter may
        use (e.g. ``x_mean``, the training inputs' mean, or ``progress``, the
        fraction of training done); the default ignores it.
        """
        batch = self(inputs, targets, num_classes=num_classes, generator=generator,
                     model=model if self.needs_model else None)
        return soft_cross_entropy(model(batch.inputs), batch.targets)


def soft_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy against soft targets (B, C); equals F.cross_entropy on one-hot rows."""
    return -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def to_soft_targets(targets: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    """Class indices (B,) -> one-hot (B, C); soft targets pass through (cast to ``dtype``)."""
    if targets.dim() == 1:
        return torch.nn.functional.one_hot(targets.long(), num_classes).to(dtype)
    return targets.to(dtype)


def check_batch(inputs: Tensor, targets: Tensor, num_classes: int, name: str) -> None:
    if inputs.dim() < 1 or inputs.shape[0] == 0:
        raise ValueError(f"{name}: inputs must have a non-empty batch dimension, got shape {tuple(inputs.shape)}")
    if targets.shape[0] != inputs.shape[0]:
        raise ValueError(f"{name}: targets batch {targets.shape[0]} != inputs batch {inputs.shape[0]}")
    if targets.dim() == 1:
        if targets.is_floating_point():
            raise TypeError(f"{name}: class-index targets must be integers, got {targets.dtype}")
        if targets.numel() and (targets.min() < 0 or targets.max() >= num_classes):
            raise ValueError(f"{name}: class indices must lie in [0, {num_classes}), got {targets.min()}..{targets.max()}")
    elif targets.dim() == 2:
        if targets.shape[1] != num_classes:
            raise ValueError(f"{name}: soft targets must be (B, {num_classes}), got {tuple(targets.shape)}")
    else:
        raise ValueError(f"{name}: targets must be (B,) indices or (B, C) soft labels, got {tuple(targets.shape)}")
    if inputs.is_floating_point() and not torch.isfinite(inputs).all():
        raise ValueError(f"{name}: inputs contain NaN or inf")
