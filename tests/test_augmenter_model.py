"""Model-aware augmenters: ``needs_model``, ``model=`` in ``__call__``/``augment``, ``progress`` in the loop's loss context."""

from __future__ import annotations

import pytest
import torch

from etude.data import Iris, SupervisedTraining
from etude.kinds import AugmentedBatch, Augmenter, to_soft_targets
from etude.testing.conformance import AugmenterConformance


class Shift(Augmenter):
    """Moves inputs along the sign of the model's first weight row (a model-aware toy for the contract)."""

    needs_model = True

    def augment(self, inputs, targets, *, num_classes, generator=None, model=None):
        w = next(model.parameters())
        direction = w[0].detach().sign().reshape(inputs.shape[1:]) if w.dim() == 2 else 0.0
        return AugmentedBatch(inputs + 0.1 * direction, to_soft_targets(targets, num_classes, inputs.dtype))


class Plain(Augmenter):
    def augment(self, inputs, targets, *, num_classes, generator=None):  # the pre-model signature still works
        return AugmentedBatch(inputs * 1.0, to_soft_targets(targets, num_classes, inputs.dtype))


class TestShiftConformance(AugmenterConformance):
    def make_augmenter(self):
        return Shift()


class TestPlainConformance(AugmenterConformance):
    def make_augmenter(self):
        return Plain()


def test_needs_model_error_names_the_fix():
    x, y = torch.rand(4, 3), torch.tensor([0, 1, 0, 1])
    with pytest.raises(TypeError, match=r"needs the model .* model=<nn.Module>"):
        Shift()(x, y, num_classes=2)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        Shift()(x, y, num_classes=2, model="mlp")


def test_model_reaches_augment_and_default_loss():
    x, y = torch.zeros(4, 3), torch.tensor([0, 1, 0, 1])
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -2.0, 0.0], [0.0, 0.0, 0.0]]))
    out = Shift()(x, y, num_classes=2, model=model)
    torch.testing.assert_close(out.inputs, torch.tensor([[0.1, -0.1, 0.0]]).expand(4, 3))
    loss = Shift().loss(model, x, y, num_classes=2)
    expected = torch.nn.functional.cross_entropy(model(out.inputs), y)
    torch.testing.assert_close(loss, expected)


class ProgressRecorder(Augmenter):
    seen: list = []

    def augment(self, inputs, targets, *, num_classes, generator=None):
        return AugmentedBatch(inputs, to_soft_targets(targets, num_classes, inputs.dtype))

    def loss(self, model, inputs, targets, *, num_classes, generator=None, **context):
        type(self).seen.append(context["progress"])
        return super().loss(model, inputs, targets, num_classes=num_classes, generator=generator)


def test_loop_passes_progress(monkeypatch):
    ProgressRecorder.seen = []
    proc = SupervisedTraining(epochs=3, batch_size=50, hidden=(8,))
    monkeypatch.setattr(proc, "make_augmenter", lambda: ProgressRecorder())
    proc.run(Iris(), seed=0)
    seen = ProgressRecorder.seen
    steps = len(seen)
    assert steps == 3 * -(-len(Iris().split("train").targets) // 50)
    torch.testing.assert_close(torch.tensor(seen), torch.arange(steps, dtype=torch.float32) / steps)
