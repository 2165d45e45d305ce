"""procedure/supervised with one class per position: flat (B, P * C) logits against (B, P) targets."""

import torch

from etude.data.evaluation import accuracy, as_positions, per_example_loss
from etude.kinds import Split, Task


class _Positions(Task):
    """Copy each of P = 3 input digits (one-hot, C = 4) to the output: a (B, P) classification."""

    num_classes = 4
    Config = None

    def __init__(self):
        self._splits = None
        self.config = None

    def make_splits(self):
        g = torch.Generator().manual_seed(0)
        out = {}
        for name, n in (("train", 256), ("test", 128)):
            y = torch.randint(4, (n, 3), generator=g)
            x = torch.nn.functional.one_hot(y, 4).reshape(n, -1).float()
            out[name] = Split(x, y)
        return out


def test_as_positions_reshapes_only_matching_flat_logits():
    y = torch.zeros(2, 3, dtype=torch.long)
    assert as_positions(torch.zeros(2, 12), y, 4).shape == (2, 3, 4)
    assert as_positions(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long), 4).shape == (2, 4)
    assert as_positions(torch.zeros(2, 3, 4), y, 4).shape == (2, 3, 4)
    assert as_positions(torch.zeros(2, 10), y, 4).shape == (2, 10)


def test_flat_loss_equals_per_position_cross_entropy():
    torch.manual_seed(0)
    logits, y = torch.randn(5, 3 * 4), torch.randint(4, (5, 3))
    expected = torch.stack([torch.nn.functional.cross_entropy(logits[i].reshape(3, 4), y[i]) for i in range(5)])
    torch.testing.assert_close(per_example_loss("cross-entropy", logits, y, 4), expected)


def test_supervised_mlp_learns_positions():
    import etude

    proc = etude.create("procedure", "supervised", optimizer="adam", lr=1e-2, epochs=20, batch_size=64,
                        model_options={"out_features": 12, "hidden": (32,)}, weight_decay=0.0)
    task = _Positions()
    result = proc.run(task, seed=0)
    assert result.metrics["test_accuracy"] > 0.95
    net = result.models["model"]
    x, y = task.split("test").inputs, task.split("test").targets
    assert abs(accuracy(net, x, y) - result.metrics["test_accuracy"]) < 1e-6
