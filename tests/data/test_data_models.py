"""model/mlp and model/cnn: conformance, per-block access, activations by neuron name, clear errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import etude
from etude.data import CNN, MLP
from etude.testing.conformance import ModelConformance


class TestMLP(ModelConformance):
    component = ("model", "mlp")

    def make_model(self):
        return self.create(in_features=6, out_features=3, hidden=(8, 5), dropout=0.1)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(4, 6, dtype=dtype, device=device),)


class TestCNN1D(ModelConformance):
    component = ("model", "cnn")

    def make_model(self):
        return self.create(input_shape=(40,), out_features=10, channels=(4, 4), strides=(1, 2))

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(3, 40, dtype=dtype, device=device),)


class TestCNN2D(ModelConformance):
    component = ("model", "cnn")

    def make_model(self):
        return self.create(input_shape=(3, 12, 12), out_features=5, channels=(4, 6), strides=(2, 2), pool="avg",
                           activation="tanh")

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 3, 12, 12, dtype=dtype, device=device),)


def test_mlp_blocks_compose_to_forward_and_features():
    torch.manual_seed(0)
    net = MLP(6, 3, hidden=(5, 4))
    x = torch.randn(7, 2, 3)  # (B, ...) is flattened
    assert isinstance(net.blocks, nn.ModuleList) and len(net.blocks) == 3
    h = x
    for block in net.blocks:
        h = block(h)
    torch.testing.assert_close(h, net(x))
    states = net.hidden_states(x)
    assert [s.shape[1] for s in states] == [5, 4, 3]
    torch.testing.assert_close(net.features(x), states[1])
    torch.testing.assert_close(net.head(net.features(x)), net(x))
    assert [m.out_features for m in net.modules() if isinstance(m, nn.Linear)] == [5, 4, 3]


def test_mlp_same_weights_as_the_equivalent_sequential():
    torch.manual_seed(3)
    net = MLP(6, 3, hidden=(5,))
    torch.manual_seed(3)
    ref = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x = torch.randn(4, 6)
    torch.testing.assert_close(net(x), ref(x))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softplus", "gelu"])
def test_mlp_activation_by_neuron_name(activation):
    torch.manual_seed(0)
    net = MLP(4, 2, hidden=(3,), activation=activation)
    x = torch.randn(5, 4)
    linear = net.blocks[0][1]
    expected = etude.create("neuron", activation)(linear(x))[0]
    torch.testing.assert_close(net.features(x), expected)


def test_mlp_linear_model_dropout_and_errors():
    linear = MLP(4, 2, hidden=())
    assert len(linear.blocks) == 1 and linear(torch.randn(3, 2, 2)).shape == (3, 2)
    net = MLP(4, 2, hidden=(64,), dropout=0.5)
    x = torch.randn(8, 4)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    assert not torch.equal(net.features(x), net.features(x))
    with pytest.raises(ValueError, match="4 features"):
        net(torch.randn(2, 5))
    with pytest.raises(Exception, match="No neuron named"):
        MLP(4, 2, activation="relux")
    with pytest.raises(etude.ConfigError, match="dropout"):
        MLP(4, 2, dropout=1.0)


def test_cnn_1d_default_is_the_mnist1d_cnn():
    net = CNN(input_shape=(40,), out_features=10)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(32, 5, 1), (32, 5, 2), (32, 5, 2)]
    assert net(torch.randn(2, 40)).shape == net(torch.randn(2, 1, 40)).shape == (2, 10)
    assert net.features(torch.randn(2, 40)).shape == (2, 32 * 10)


def test_cnn_2d_shapes_and_errors():
    net = CNN(input_shape=(1, 28, 28), out_features=10, pool="avg")
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10) and net.features(torch.randn(2, 1, 28, 28)).shape == (2, 32)
    hw = CNN(input_shape=(8, 8), spatial_dims=2, out_features=3, channels=(4,), strides=(1,))
    assert hw(torch.randn(2, 8, 8)).shape == (2, 3)
    with pytest.raises(ValueError, match="input_shape"):
        net(torch.randn(2, 3, 28, 28))
    with pytest.raises(etude.ConfigError, match="strides"):
        CNN(input_shape=(40,), out_features=2, channels=(4, 4), strides=(1,))
    with pytest.raises(etude.ConfigError, match="kernel_size"):
        CNN(input_shape=(40,), out_features=2, kernel_size=4)
