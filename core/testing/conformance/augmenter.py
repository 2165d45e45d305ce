"""Conformance suite for Augmenter."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import Augmenter

from ._base import ConformanceSuite, assert_finite


class AugmenterConformance(ConformanceSuite):
    """Define ``make_augmenter()``; ``input_shape`` and ``num_classes`` set the test batch.

    Augmenters with ``needs_model`` are called with ``make_model(input_shape)``
    (a small linear classifier; override for another).
    """

    batch = 8
    input_shape: tuple[int, ...] = (5,)
    num_classes = 3

    def make_augmenter(self) -> Augmenter:
        return self.create()

    def make_model(self, input_shape: tuple[int, ...]) -> torch.nn.Module:
        torch.manual_seed(0)
        numel = 1
        for d in input_shape:
            numel *= d
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(numel, self.num_classes))

    def _call(self, aug: Augmenter, x, y, **kwargs):
        if aug.needs_model:
            kwargs.setdefault("model", self.make_model(tuple(x.shape[1:])))
        return aug(x, y, num_classes=self.num_classes, **kwargs)

    def _batch(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(self.batch, *self.input_shape, generator=g)
        y = torch.randint(0, self.num_classes, (self.batch,), generator=g)
        return x, y

    def test_is_augmenter(self):
        assert isinstance(self.make_augmenter(), Augmenter)

    @pytest.mark.parametrize("shape", [(5,), (2, 3), (1, 4, 4)])
    def test_shapes_and_soft_targets(self, shape):
        self_shape, self.input_shape = self.input_shape, shape
        try:
            x, y = self._batch()
            out = self._call(self.make_augmenter(), x, y, generator=torch.Generator().manual_seed(1))
        finally:
            self.input_shape = self_shape
        assert out.inputs.shape == x.shape
        assert out.targets.shape == (self.batch, self.num_classes)
        torch.testing.assert_close(out.targets.sum(-1), torch.ones(self.batch))
        assert_finite(out.inputs, "augmented inputs")

    def test_deterministic_under_generator(self):
        x, y = self._batch()
        aug = self.make_augmenter()
        a = self._call(aug, x, y, generator=torch.Generator().manual_seed(3))
        b = self._call(aug, x, y, generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(a.inputs, b.inputs)
        torch.testing.assert_close(a.targets, b.targets)

    def test_loss_gradient_flows(self):
        x, y = self._batch()
        model = self.make_model(tuple(x.shape[1:]))
        loss = self.make_augmenter().loss(model, x, y, num_classes=self.num_classes,
                                          generator=torch.Generator().manual_seed(0))
        loss.backward()
        assert loss.dim() == 0 and all(p.grad is not None for p in model.parameters())

    def test_bad_input_errors(self):
        x, y = self._batch()
        with pytest.raises(ValueError, match="batch"):
            self._call(self.make_augmenter(), x, y[:-1])

    def test_model_requirement(self):
        x, y = self._batch()
        aug = self.make_augmenter()
        if aug.needs_model:
            with pytest.raises(TypeError, match="model="):
                aug(x, y, num_classes=self.num_classes)
        else:  # a model-free augmenter ignores the model
            a = aug(x, y, num_classes=self.num_classes, generator=torch.Generator().manual_seed(5))
            b = aug(x, y, num_classes=self.num_classes, generator=torch.Generator().manual_seed(5),
                    model=self.make_model(tuple(x.shape[1:])))
            torch.testing.assert_close(a.inputs, b.inputs)
