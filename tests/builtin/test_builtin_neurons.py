"""The built-in neurons: conformance and values."""

from __future__ import annotations

import torch

import etude
from etude.testing.conformance import NeuronConformance


class TestReLU(NeuronConformance):
    component = ("neuron", "relu")


class TestSigmoid(NeuronConformance):
    component = ("neuron", "sigmoid")


class TestTanh(NeuronConformance):
    component = ("neuron", "tanh")


class TestSoftplus(NeuronConformance):
    component = ("neuron", "softplus")


class TestGELU(NeuronConformance):
    component = ("neuron", "gelu")


def test_values():
    x = torch.linspace(-3, 3, 7)
    torch.testing.assert_close(etude.create("neuron", "relu")(x)[0], torch.relu(x))
    torch.testing.assert_close(etude.create("neuron", "sigmoid")(x)[0], torch.sigmoid(x))
    torch.testing.assert_close(etude.create("neuron", "tanh")(x)[0], torch.tanh(x))
    torch.testing.assert_close(etude.create("neuron", "softplus", beta=2.0)(x)[0], torch.nn.functional.softplus(x, beta=2.0))
    torch.testing.assert_close(etude.create("neuron", "gelu")(x)[0], torch.nn.functional.gelu(x))


def test_stateless_returns_state_unchanged():
    y, state = etude.create("neuron", "relu")(torch.ones(2), None)
    assert state is None
