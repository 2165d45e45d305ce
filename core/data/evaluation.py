"""Evaluation of supervised models: per-example losses, chunked prediction, accuracy per position.

Shared by the ``procedure/supervised`` training loop and by plugins that score
a trained model themselves.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def as_positions(outputs: Tensor, targets: Tensor, num_classes: int | None) -> Tensor:
    """Flat logits ``(B, P * C)`` of a model with one class per position as ``(B, P, C)``.

    When the targets are ``(B, P)`` class indices (P positions, e.g. the N
    objects of a state) and a plain model (``model/mlp`` with
    ``out_features = P * C``) returns ``(B, P * C)``, the logits are read as
    ``P`` rows of ``C``; every other output is returned unchanged.
    """
    if (num_classes is not None and outputs.dim() == 2 and targets.dim() == 2 and not targets.is_floating_point()
            and targets.shape[1] > 1 and outputs.shape[1] == targets.shape[1] * num_classes):
        return outputs.reshape(outputs.shape[0], targets.shape[1], num_classes)
    return outputs


def per_example_loss(loss: str, outputs: Tensor, targets: Tensor, num_classes: int | None) -> Tensor:
    """Loss per example (B,): cross-entropy, or squared (``mse``) / absolute (``l1``) error averaged over every non-batch dimension.

    Classification with several positions takes ``(B, P, C)`` logits (or flat
    ``(B, P * C)``, see :func:`as_positions`) against ``(B, P)`` targets.
    """
    batch = outputs.shape[0]
    if loss == "cross-entropy":
        outputs = as_positions(outputs, targets, num_classes)
        if outputs.dim() > 2:  # per-position classes (B, T, C) against (B, T)
            flat = nn.functional.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1),
                                               reduction="none")
            return flat.reshape(batch, -1).mean(1)
        return nn.functional.cross_entropy(outputs, targets, reduction="none")
    if num_classes is not None and not targets.is_floating_point():
        targets = nn.functional.one_hot(targets, num_classes).to(outputs.dtype)
    targets = targets.to(outputs.dtype).reshape(outputs.shape)
    error = outputs - targets
    return (error.abs() if loss == "l1" else error.square()).reshape(batch, -1).mean(1)


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor, batch_size: int = 4096) -> Tensor:
    """Model outputs on ``inputs`` in eval mode, in chunks (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(inputs[i:i + batch_size]) for i in range(0, inputs.shape[0], batch_size)])
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, inputs: Tensor, targets: Tensor, num_classes: int | None = None) -> float:
    """Fraction of ``targets`` (class indices) equal to the model's argmax prediction (per position for sequences).

    With ``(B, P)`` targets, flat ``(B, P * C)`` outputs are read per position (:func:`as_positions`).
    """
    outputs = predict(model, inputs)
    if num_classes is None and outputs.dim() == 2 and targets.dim() == 2 and outputs.shape[1] % targets.shape[1] == 0:
        num_classes = outputs.shape[1] // targets.shape[1]
    return float((as_positions(outputs, targets, num_classes).argmax(-1) == targets).float().mean())


def mean_loss(model: nn.Module, inputs: Tensor, targets: Tensor, loss: str, num_classes: int | None) -> float:
    """Mean per-example loss of the model's predictions (eval mode, chunked)."""
    return float(per_example_loss(loss, predict(model, inputs), targets, num_classes).mean())


def evaluate_splits(net: nn.Module, data: dict, loss: str, num_classes: int | None, noisy_info: dict | None) -> dict[str, float]:
    """``val_`` / ``test_`` loss and accuracy of the splits in ``data``, and the memorised fraction of noisy labels."""
    out: dict[str, float] = {}
    for name in ("val", "test"):
        if name not in data:
            continue
        x, y = data[name]
        outputs = predict(net, x)
        out[f"{name}_loss"] = float(per_example_loss(loss, outputs, y, num_classes).mean())
        if num_classes is not None:
            out[f"{name}_accuracy"] = float((as_positions(outputs, y, num_classes).argmax(-1) == y).float().mean())
    if noisy_info is not None:
        x, y = data["train"]
        mask = noisy_info["noisy"]
        out["memorized_fraction"] = float((predict(net, x[mask]).argmax(-1) == y[mask]).float().mean())
    return out


__all__ = ["accuracy", "as_positions", "evaluate_splits", "mean_loss", "per_example_loss", "predict"]
