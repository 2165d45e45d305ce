"""Training and evaluation helpers shared by the claims, the tutorial and the benchmark."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from etude.runtime import check_finite

__all__ = ["accuracy", "fit", "make_model", "shape_trace"]


def make_model(neuron: str, *, hidden_size: int, controller_size: int = 50, gain_init: float | None = None,
               num_classes: int = 10, input_size: int = 1) -> Any:
    """An :class:`~etude_adaptive_neurons.model.ANRU` with ``neuron`` units and the paper's initialisation.

    ``"gamma"`` starts homogeneous at ``n = gain_init`` (default 6; the
    reference draws ``5 + 2 U(0, 1)`` once for all neurons) and ``s = 0.1``;
    ``"adaptive-gamma"`` gets a controller of ``controller_size`` units. Seed
    torch's global RNG first: the shared weights are then identical whatever
    the neuron.
    """
    import etude  # noqa: PLC0415

    options: dict[str, Any] = {}
    if neuron == "gamma":
        options = {"n_init": float(gain_init if gain_init is not None else 6.0), "s_init": 0.1}
    elif neuron == "adaptive-gamma":
        options = {"hidden_size": controller_size}
    return etude.create("model", "anru", input_size=input_size, hidden_size=hidden_size, num_classes=num_classes,
                        neuron=neuron, neuron_options=options)


def fit(model: torch.nn.Module, inputs: Tensor, targets: Tensor, *, epochs: int, batch_size: int = 64,
        lr: float = 1e-3, clip: float = 1.0, generator: torch.Generator | None = None,
        device: str | torch.device = "cpu") -> list[float]:
    """Adam on cross-entropy with gradient-norm clipping; returns the mean loss per epoch.

    Batches are drawn by a permutation from ``generator``; a NaN/inf loss
    stops training with :class:`etude.runtime.NonFiniteLossError`.
    """
    model.to(device).train()
    inputs, targets = inputs.to(device), targets.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history, step = [], 0
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator).to(device)
        total, count = 0.0, 0
        for start in range(0, len(inputs), batch_size):
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(inputs[idx]), targets[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimiser.step()
            total += check_finite(loss, step=step) * len(idx)
            count += len(idx)
            step += 1
        history.append(total / count)
    return history


@torch.no_grad()
def accuracy(model: torch.nn.Module, inputs: Tensor, targets: Tensor, *, perturbation: Any = None,
             generator: torch.Generator | None = None, batch_size: int = 512,
             device: str | torch.device = "cpu") -> float:
    """Test accuracy, optionally after an augmenter ``perturbation`` (applied to the inputs only)."""
    model.to(device).eval()
    if perturbation is not None:
        inputs = perturbation(inputs, targets, num_classes=int(targets.max()) + 1, generator=generator).inputs
    correct = 0
    for start in range(0, len(inputs), batch_size):
        x = inputs[start:start + batch_size].to(device)
        correct += int((model(x).argmax(-1) == targets[start:start + batch_size].to(device)).sum())
    return correct / len(inputs)


@torch.no_grad()
def shape_trace(model: torch.nn.Module, inputs: Tensor, *, device: str | torch.device = "cpu",
                batch_size: int = 512) -> dict[str, Tensor]:
    """Per-step ``n_t``, ``s_t``, hidden states and pre-activations (N_seq, T, units) of an adaptive model, on CPU."""
    model.to(device).eval()
    parts: dict[str, list[Tensor]] = {}
    for start in range(0, len(inputs), batch_size):
        out = model(inputs[start:start + batch_size].to(device), return_trace=True)
        for key, value in out.items():
            parts.setdefault(key, []).append(value.cpu())
    return {k: torch.cat(v) for k, v in parts.items()}
