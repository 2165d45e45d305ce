"""Conformance suite for Model."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import Model

from ._base import ConformanceSuite, devices


class ModelConformance(ConformanceSuite):
    """Define ``make_model()`` and ``make_inputs(dtype, device)`` (a tuple of forward arguments)."""

    def make_model(self) -> Model:
        return self.create()

    def make_inputs(self, dtype=torch.float32, device="cpu") -> tuple:
        raise NotImplementedError

    @staticmethod
    def _first_tensor(out):
        if isinstance(out, torch.Tensor):
            return out
        if isinstance(out, dict):
            return next(v for v in out.values() if isinstance(v, torch.Tensor))
        return next(v for v in out if isinstance(v, torch.Tensor))

    def test_is_model(self):
        assert isinstance(self.make_model(), Model)

    @pytest.mark.parametrize("device", devices())
    def test_forward_on_device(self, device):
        torch.manual_seed(0)
        model = self.make_model().to(device)
        out = self._first_tensor(model(*self.make_inputs(device=device)))
        assert out.device.type == device and torch.isfinite(out).all()

    def test_float64_and_gradients(self):
        torch.manual_seed(0)
        model = self.make_model().to(torch.float64)
        out = self._first_tensor(model(*self.make_inputs(dtype=torch.float64)))
        assert out.dtype == torch.float64
        out.float().square().sum().backward()
        missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        assert not missing, f"no gradient reached {missing}"
