"""model/resnet18: conformance, the CIFAR architecture (3x3 stem, no max-pool, [2, 2, 2, 2], 64-512), clear errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import etude
from etude.data import ResNet18
from etude.testing.conformance import ModelConformance


class TestResNet18(ModelConformance):
    component = ("model", "resnet18")

    def make_model(self):
        return self.create(input_shape=(3, 8, 8), out_features=4, width=2)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 3, 8, 8, dtype=dtype, device=device),)


class TestResNet18NoNorm(TestResNet18):
    def make_model(self):
        return self.create(input_shape=(3, 8, 8), out_features=4, width=2, norm="none")


def test_standard_architecture_and_parameter_count():
    net = ResNet18(out_features=10)
    # the well-known size of the CIFAR ResNet-18 (BatchNorm, no conv bias)
    assert sum(p.numel() for p in net.parameters()) == 11_173_962
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    stem = convs[0]
    assert (stem.in_channels, stem.out_channels, stem.kernel_size, stem.stride) == (3, 64, (3, 3), (1, 1))
    assert not any(isinstance(m, nn.MaxPool2d) for m in net.modules())
    assert [len(stage) for stage in net.blocks[1:5]] == [2, 2, 2, 2]
    assert [stage[0].conv1.out_channels for stage in net.blocks[1:5]] == [64, 128, 256, 512]
    assert [stage[0].conv1.stride[0] for stage in net.blocks[1:5]] == [1, 2, 2, 2]
    assert len(convs) == 1 + 16 + 3  # stem, 8 blocks x 2, three projection shortcuts
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == len(convs)
    states = net.hidden_states(torch.randn(2, 3, 32, 32))
    assert [tuple(s.shape[1:]) for s in states] == [(64, 32, 32), (64, 32, 32), (128, 16, 16), (256, 8, 8),
                                                    (512, 4, 4), (512,), (10,)]


def test_no_norm_variant_has_conv_bias_and_no_batchnorm():
    net = ResNet18(out_features=10, norm="none", width=4)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is not None for c in convs if c.kernel_size == (3, 3))
    assert all(c.bias is None for c in convs if c.kernel_size == (1, 1))
    x = torch.randn(3, 3, 32, 32)
    net.eval()
    out_eval = net(x)
    net.train()
    torch.testing.assert_close(net(x), out_eval)  # no batch statistics: each example alone
    torch.testing.assert_close(net(x[:1]), out_eval[:1])


def test_blocks_compose_and_registry_build():
    torch.manual_seed(0)
    net = etude.create("model", "resnet18", input_shape=(3, 16, 16), out_features=3, width=2)
    x = torch.randn(2, 3, 16, 16)
    h = x
    for block in net.blocks:
        h = block(h)
    torch.testing.assert_close(h, net(x))
    torch.testing.assert_close(net.head(net.features(x)), net(x))


def test_errors_name_the_field():
    net = ResNet18(out_features=10, width=2)
    with pytest.raises(ValueError, match="input_shape"):
        net(torch.randn(2, 1, 32, 32))
    with pytest.raises(etude.ConfigError, match="input_shape"):
        ResNet18(input_shape=(32, 32))
    with pytest.raises(etude.ConfigError, match="norm"):
        ResNet18(norm="layer")
    with pytest.raises(etude.ConfigError, match="blocks_per_stage"):
        ResNet18(blocks_per_stage=(2, 2))
