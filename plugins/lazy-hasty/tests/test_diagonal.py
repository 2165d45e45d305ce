"""model/diagonal-net and task/diagonal-net: the analytical model's network and data."""

import pytest
import torch

from etude.config import ConfigError
from etude.testing.conformance import ModelConformance, TaskConformance
from etude_lazy_hasty import DiagonalNet, DiagonalNetTask


class TestDiagonalNetConformance(ModelConformance):
    component = ("model", "diagonal-net")

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(4, 5, dtype=dtype, device=device),)


class TestDiagonalNetTaskConformance(TaskConformance):
    component = ("task", "diagonal-net")

    def make_task(self, seed):
        # the paper's example is exact (no seed dependence); the optional input noise is what the seed draws
        return self.create(seed=seed, input_noise=0.01)


def test_task_is_the_paper_example():
    train = DiagonalNetTask().split("train")
    mu = torch.tensor([9.0, 8.0, 7.0, 6.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(train.inputs, torch.diag(mu.sqrt()))
    torch.testing.assert_close(train.targets.squeeze(1), mu.flip(0) / mu.sqrt())
    torch.testing.assert_close(train.info["label_alignment"], mu.flip(0))
    assert train.inputs.dtype == torch.float64


def test_network_function_and_init():
    net = DiagonalNet(in_features=3, sigma=0.1).double()
    x = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(net(x), torch.tensor([[0.06]], dtype=torch.float64))
    with pytest.raises(ValueError, match="inputs"):
        net(torch.ones(2, 4, dtype=torch.float64))
    with pytest.raises(ConfigError, match="out_features"):
        DiagonalNet(out_features=3)
    with pytest.raises(ConfigError, match="mu"):
        DiagonalNetTask(mu=(1.0,))
