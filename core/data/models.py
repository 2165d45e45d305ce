"""The networks several papers share: a multilayer perceptron and a small CNN (1-D or 2-D).

Both expose their layers as consecutive ``blocks`` (an ``nn.ModuleList``:
each hidden block then the linear head), so that manifold mixup can mix the
output of ``blocks[:k]``, CKA maps can compare every block's output
(:meth:`MLP.hidden_states`), and a paper can read the penultimate
representation (:meth:`MLP.features`). Activations are neurons chosen by
registry name (``"relu"``, ``"tanh"``, a plugin's neuron, ...), applied
statelessly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, in_range, positive
from etude.kinds import Model


class NeuronActivation(nn.Module):
    """A registered neuron used as a stateless activation: ``y = neuron(x)[0]``.

    Examples:
        >>> import torch
        >>> NeuronActivation("relu")(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, name: str, options: dict | None = None) -> None:
        super().__init__()
        import etude  # noqa: PLC0415

        self.name = name
        self.neuron = etude.create("neuron", name, **(options or {}))

    def forward(self, x: Tensor) -> Tensor:
        return self.neuron(x)[0]

    def extra_repr(self) -> str:
        return repr(self.name)


def _tuple_of_ints(value: Any) -> tuple[int, ...]:
    return tuple(value)


@configclass
class MLPConfig:
    in_features: int = field(validator=positive, doc="input features (inputs (B, ...) are flattened to this)")
    out_features: int = field(validator=positive, doc="outputs (logits C for classification, D for regression)")
    hidden: tuple[int, ...] = field(default=(256, 256), converter=_tuple_of_ints, validator=each(positive),
                                    doc="widths of the hidden layers (empty: a linear model)")
    activation: str = field(default="relu", doc="registered neuron used after every hidden layer")
    activation_options: dict = field(factory=dict, doc="config of the activation neuron")
    dropout: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True),
                           doc="dropout probability after every hidden activation")
    bias: bool = field(default=True, doc="bias terms in every linear layer (False with ReLU: positively homogeneous)")


class MLP(Model):
    """A fully connected network ``in_features -> hidden... -> out_features`` returning logits (or outputs).

    ``blocks[i]`` for a hidden layer is ``Linear -> activation [-> Dropout]``
    (the first also flattens its input); the last block is the linear head.
    Inputs (B, ...) are flattened to (B, in_features). With ``bias=False``
    and ReLU the network is positively homogeneous, ``J_x f(x) x = f(x)``.
    Layers are built in order with PyTorch's default initialisation, so a
    seed gives the same weights as the equivalent ``nn.Sequential``.

    Build it as ``MLP(64, 10)``, ``MLP(64, 10, hidden=(128,))`` or
    ``etude.create("model", "mlp", in_features=64, out_features=10)``.

    References:
        D. E. Rumelhart, G. E. Hinton, R. J. Williams, "Learning representations by
        back-propagating errors", Nature 1986.

    Examples:
        >>> import torch
        >>> net = MLP(40, 10, hidden=(32, 16))
        >>> net(torch.randn(3, 40)).shape, net.features(torch.randn(3, 40)).shape, len(net.blocks)
        (torch.Size([3, 10]), torch.Size([3, 16]), 3)
    """

    Config = MLPConfig

    def __init__(self, config: Any = None, out_features: int | None = None, hidden: Any = None, **overrides: Any) -> None:
        if isinstance(config, int) and not isinstance(config, bool):
            overrides["in_features"], config = config, None
        if out_features is not None:
            overrides["out_features"] = out_features
        if hidden is not None:
            overrides["hidden"] = tuple(hidden)
        super().__init__(config, **overrides)
        c = self.config
        widths = (c.in_features, *c.hidden)
        blocks: list[nn.Module] = []
        for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers: list[nn.Module] = [nn.Flatten()] if i == 0 else []
            layers += [nn.Linear(w_in, w_out, bias=c.bias), NeuronActivation(c.activation, c.activation_options)]
            if c.dropout > 0:
                layers.append(nn.Dropout(c.dropout))
            blocks.append(nn.Sequential(*layers))
        head = nn.Linear(widths[-1], c.out_features, bias=c.bias)
        blocks.append(nn.Sequential(nn.Flatten(), head) if not c.hidden else head)
        self.blocks = nn.ModuleList(blocks)

    @property
    def head(self) -> nn.Linear:
        """The final linear layer."""
        last = self.blocks[-1]
        return last if isinstance(last, nn.Linear) else last[-1]

    def _check(self, x: Tensor) -> None:
        if x.dim() < 2 or x[0].numel() != self.config.in_features:
            raise ValueError(
                f"MLP expects inputs (B, ...) with {self.config.in_features} features per example, "
                f"got shape {tuple(x.shape)}; set in_features to match"
            )

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        for block in self.blocks:
            x = block(x)
        return x

    def hidden_states(self, x: Tensor) -> list[Tensor]:
        """The output of every block, in order (the last is the network's output)."""
        self._check(x)
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs

    def features(self, x: Tensor) -> Tensor:
        """The penultimate representation: the input of the head (B, hidden[-1]), or the flat input if no hidden layer."""
        self._check(x)
        for block in self.blocks[:-1]:
            x = block(x)
        return x.reshape(x.shape[0], -1)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@configclass
class CNNConfig:
    input_shape: tuple[int, ...] = field(converter=_shape, validator=each(positive),
                                         doc="per-example input shape: (L,) or (C, L) for 1-D, (H, W) or (C, H, W) for 2-D")
    out_features: int = field(validator=positive, doc="outputs (logits C)")
    channels: tuple[int, ...] = field(default=(32, 32, 32), converter=_tuple_of_ints, validator=each(positive),
                                      doc="output channels of the convolution layers")
    kernel_size: int = field(default=5, validator=positive, doc="kernel size (odd: 'same' padding)")
    strides: tuple[int, ...] = field(default=(1, 2, 2), converter=_tuple_of_ints, validator=each(positive),
                                     doc="stride per convolution layer (one per entry of channels)")
    activation: str = field(default="relu", doc="registered neuron after every convolution")
    pool: str = field(default="flatten", doc="'flatten' the last feature map, or 'avg' (global average pooling)")
    dropout: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True), doc="dropout before the head")
    spatial_dims: int = field(default=0, doc="1 or 2; 0 infers it: (L,) and (C, L) are 1-D, (C, H, W) is 2-D")

    def __attrs_post_init__(self) -> None:
        if len(self.input_shape) not in (1, 2, 3):
            raise FieldValueError("input_shape", self.input_shape, "(L,), (C, L), (H, W) or (C, H, W)")
        if len(self.strides) != len(self.channels):
            raise FieldValueError("strides", self.strides, f"{len(self.channels)} values, one per entry of channels")
        if self.kernel_size % 2 == 0:
            raise FieldValueError("kernel_size", self.kernel_size, "an odd integer")
        if self.spatial_dims not in (0, 1, 2) or (self.spatial_dims == 1 and len(self.input_shape) == 3) or (
                self.spatial_dims == 2 and len(self.input_shape) == 1):
            raise FieldValueError("spatial_dims", self.spatial_dims, f"0, 1 or 2 consistent with input_shape={self.input_shape}")
        if self.pool not in ("flatten", "avg"):
            raise FieldValueError("pool", self.pool, "'flatten' or 'avg'")


class CNN(Model):
    """A small convolutional network for 1-D signals or 2-D images, returning logits.

    ``input_shape`` decides the dimension: (L,) and (C, L) are 1-D
    (``Conv1d``), (C, H, W) is 2-D (``Conv2d``), and (H, W) with
    ``spatial_dims=2``; a missing channel axis is added. Each conv block is ``Conv(k, stride, padding
    k // 2) -> activation``; the head is a linear layer on the flattened (or
    globally averaged) last feature map. The default, three 5-wide
    convolutions of 32 channels with strides 1, 2, 2, is the MNIST-1D CNN of
    Greydanus (2020), about 94% test accuracy there.

    References:
        Y. LeCun et al., Proc. IEEE 1998; S. Greydanus, arXiv:2011.14439, 2020 (MNIST-1D CNN).

    Examples:
        >>> import torch
        >>> CNN(input_shape=(40,), out_features=10)(torch.randn(2, 40)).shape
        torch.Size([2, 10])
        >>> CNN(input_shape=(1, 28, 28), out_features=10, pool="avg")(torch.randn(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    Config = CNNConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        shape = c.input_shape
        self.spatial = c.spatial_dims or (2 if len(shape) == 3 else 1)
        self.example_shape = self._with_channel(shape)
        conv = nn.Conv1d if self.spatial == 1 else nn.Conv2d
        blocks: list[nn.Module] = []
        width = self.example_shape[0]
        for out, stride in zip(c.channels, c.strides, strict=True):
            blocks.append(nn.Sequential(conv(width, out, c.kernel_size, stride=stride, padding=c.kernel_size // 2),
                                        _ChannelActivation(c.activation)))
            width = out
        self.conv_blocks = nn.ModuleList(blocks)
        with torch.no_grad():
            probe = torch.zeros(1, *self.example_shape)
            for block in self.conv_blocks:
                probe = block(probe)
        flat = probe.shape[1] if c.pool == "avg" else probe[0].numel()
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(flat, c.out_features)) if c.dropout else \
            nn.Linear(flat, c.out_features)
        self.blocks = nn.ModuleList([*self.conv_blocks, _Pool(c.pool), self.head])

    def _with_channel(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.spatial == 1:
            return (1, *shape) if len(shape) == 1 else shape
        return (1, *shape) if len(shape) == 2 else shape

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def features(self, x: Tensor) -> Tensor:
        """The pooled (or flattened) last feature map, the head's input (B, F)."""
        want = self.example_shape
        if tuple(x.shape[1:]) == tuple(self.config.input_shape) and len(self.config.input_shape) < len(want):
            x = x.unsqueeze(1)
        if x.dim() != len(want) + 1 or tuple(x.shape[1:]) != tuple(want):
            raise ValueError(
                f"CNN expects inputs (B, {', '.join(map(str, self.config.input_shape))}) or (B, "
                f"{', '.join(map(str, want))}), got {tuple(x.shape)}; set input_shape to match"
            )
        for block in self.conv_blocks:
            x = block(x)
        return self.blocks[-2](x)


class _ChannelActivation(NeuronActivation):
    """A neuron applied to (B, C, ...) feature maps (units on the channel axis, moved last and back)."""

    def forward(self, x: Tensor) -> Tensor:
        return self.neuron(x.movedim(1, -1))[0].movedim(-1, 1)


class _Pool(nn.Module):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "avg":
            return x.mean(dim=tuple(range(2, x.dim())))
        return x.flatten(1)


__all__ = ["CNN", "CNNConfig", "MLP", "MLPConfig", "NeuronActivation"]
