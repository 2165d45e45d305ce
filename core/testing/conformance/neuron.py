"""Conformance suite for Neuron."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import Neuron

from ._base import ConformanceSuite, assert_finite, devices


class NeuronConformance(ConformanceSuite):
    """Define ``make_neuron()``; set ``units`` to the neuron's num_units if it has per-unit parameters."""

    units = 8
    steps = 4

    def make_neuron(self) -> Neuron:
        return self.create()

    def _neuron(self, dtype=torch.float32, device="cpu"):
        torch.manual_seed(0)
        return self.make_neuron().to(device=device, dtype=dtype)

    def _x(self, dtype=torch.float32, device="cpu", seed=0):
        return torch.randn(3, self.units, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)

    def _run(self, neuron, xs):
        state, ys = None, []
        for x in xs:
            y, state = neuron(x, state)
            ys.append(y)
        return torch.stack(ys)

    def test_is_neuron(self):
        assert isinstance(self.make_neuron(), Neuron)

    @pytest.mark.parametrize("device", devices())
    def test_shape_dtype_device(self, device):
        neuron = self._neuron(device=device)
        x = self._x(device=device)
        y, _ = neuron(x)
        assert y.shape == x.shape and y.dtype == x.dtype and y.device.type == device
        assert_finite(y, "neuron output")

    def test_float64(self):
        assert self._neuron(torch.float64)(self._x(torch.float64))[0].dtype == torch.float64

    def test_elementwise(self):
        neuron = self._neuron(torch.float64)
        xs = [self._x(torch.float64, seed=s) for s in range(self.steps)]
        base = self._run(neuron, xs)
        poked = [x.clone() for x in xs]
        for x in poked:
            x[:, 0] += 1.0
        other = self._run(neuron, poked)
        torch.testing.assert_close(base[..., 1:], other[..., 1:])

    def test_state_reset_is_deterministic(self):
        neuron = self._neuron()
        xs = [self._x(seed=s) for s in range(self.steps)]
        torch.testing.assert_close(self._run(neuron, xs), self._run(neuron, xs))

    def test_gradient_flows(self):
        neuron = self._neuron(torch.float64)
        x = self._x(torch.float64).requires_grad_(True)
        y, _ = neuron(x)
        y.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()

    def test_bad_input_errors(self):
        with pytest.raises((TypeError, ValueError)):
            self._neuron()(torch.ones(3, self.units, dtype=torch.long))
