"""The multilayer perceptron used by this plugin's experiments."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, one_of, positive
from etude.kinds import Model

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


@configclass
class MLPConfig:
    in_features: int = field(validator=positive, doc="input features (inputs (B, ...) are flattened to this)")
    num_classes: int = field(validator=positive, doc="output logits C")
    hidden: tuple[int, ...] = field(default=(256, 256), validator=each(positive), doc="widths of the hidden layers")
    activation: str = field(default="relu", validator=one_of(*_ACTIVATIONS), doc="hidden nonlinearity")
    bias: bool = field(default=True, doc="bias terms in every linear layer (False: a positively homogeneous ReLU net)")

    def __attrs_post_init__(self) -> None:
        if self.num_classes < 2:
            raise FieldValueError("num_classes", self.num_classes, "an integer >= 2")


class MLP(Model):
    """A fully connected ReLU network ``in_features -> hidden... -> num_classes`` returning logits.

    Inputs of any shape (B, ...) are flattened to (B, in_features). The
    MixupE paper's CPU-scale analogue uses an MLP 40-256-256-10 on MNIST-1D;
    with ``bias=False`` and ReLU the network is positively homogeneous,
    ``J_x f(x) x = f(x)``, the identity linking MixupE's exact first-order
    term to its fast form (version 3).

    Build it as ``MLP(40, 10)``, ``MLP(in_features=40, num_classes=10,
    hidden=(64,))``, or ``etude.create("model", "mlp", in_features=40, num_classes=10)``.

    References:
        Rumelhart, Hinton and Williams, "Learning representations by back-propagating
        errors", Nature 1986.

    Examples:
        >>> import torch
        >>> MLP(40, 10, hidden=(32,))(torch.randn(3, 40)).shape
        torch.Size([3, 10])
    """

    Config = MLPConfig

    def __init__(self, config: Any = None, num_classes: int | None = None, hidden: Any = None, **overrides: Any) -> None:
        if isinstance(config, int) and not isinstance(config, bool):
            overrides["in_features"], config = config, None
        if num_classes is not None:
            overrides["num_classes"] = num_classes
        if hidden is not None:
            overrides["hidden"] = tuple(hidden)
        super().__init__(config, **overrides)
        c = self.config
        widths = (c.in_features, *c.hidden)
        layers: list[nn.Module] = []
        for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(w_in, w_out, bias=c.bias), _ACTIVATIONS[c.activation]()]
        layers.append(nn.Linear(widths[-1], c.num_classes, bias=c.bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x[0].numel() != self.config.in_features:
            raise ValueError(
                f"MLP expects inputs (B, ...) with {self.config.in_features} features per example, "
                f"got shape {tuple(x.shape)}; set in_features to match"
            )
        return self.net(x.reshape(x.shape[0], -1))

    def blocks(self) -> list[nn.Module]:
        """The network as consecutive blocks: one per hidden layer (linear + activation), then the head.

        The first block flattens its input. Manifold mixup at layer ``k``
        mixes the output of ``blocks()[:k]`` (``k = 0``: input mixup).
        """
        layers = list(self.net)
        hidden = [nn.Sequential(layers[i], layers[i + 1]) for i in range(0, len(layers) - 1, 2)]
        blocks = [*hidden, layers[-1]]
        blocks[0] = nn.Sequential(nn.Flatten(), blocks[0])
        return blocks


class CNN1D(nn.Module):
    """A small 1-D convolutional network for MNIST-1D (the ``full`` scale of the MixupE claims).

    Three ``Conv1d(k=5) + ReLU`` layers (``channels`` wide, the second and third
    with stride 2) on inputs (B, L) or (B, 1, L), then a linear head on the
    flattened features. Greydanus (2020) reports about 94% test accuracy for a
    CNN of this kind on MNIST-1D.

    Examples:
        >>> import torch
        >>> CNN1D(40, 10)(torch.randn(2, 40)).shape
        torch.Size([2, 10])
    """

    def __init__(self, length: int, num_classes: int, channels: int = 32) -> None:
        super().__init__()
        self.length = length
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, 5, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
            nn.Flatten(),
        )
        with_len = self.features(torch.zeros(1, 1, length)).shape[-1]
        self.head = nn.Linear(with_len, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[1:] != (1, self.length):
            raise ValueError(f"CNN1D expects inputs (B, {self.length}) or (B, 1, {self.length}), got {tuple(x.shape)}")
        return self.head(self.features(x))
