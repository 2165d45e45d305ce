"""The CIFAR ResNet-18: a 3x3 stem without max-pooling, BasicBlocks [2, 2, 2, 2] of widths 64-128-256-512.

This is the ResNet-18 of the CIFAR literature (32x32 inputs keep their
resolution through the stem; stages 2-4 halve it), not the ImageNet
network (7x7 stride-2 stem and max-pool). ``norm="batch"`` is the usual
network (convolutions without bias, BatchNorm after each, BN on the 1x1
projection shortcuts); ``norm="none"`` removes every BatchNorm and gives the
convolutions a bias instead (the variant George et al. train in the
lazy-vs-hasty CIFAR-10 experiments, where BatchNorm's batch statistics
would make the frozen copy of the lazy-training wrapper depend on the
batch). ``width`` scales every stage (64 is the standard network; smaller
widths make tests fast).

``blocks`` (an ``nn.ModuleList``) is ``stem, stage1, ..., stage4, pool,
head`` so that a paper can read every stage's output
(:meth:`ResNet18.hidden_states`) or the penultimate representation
(:meth:`ResNet18.features`, ``(B, 8 * width)``). Parameters use PyTorch's
default initialisation.

References:
    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
    arXiv:1512.03385 (the CIFAR variant: 3x3 stem, no max-pool).
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658 (the BN-free ResNet-18).

Examples:
    >>> import torch
    >>> net = ResNet18(input_shape=(3, 32, 32), out_features=10, width=8)
    >>> net(torch.randn(2, 3, 32, 32)).shape, net.features(torch.randn(2, 3, 32, 32)).shape, len(net.blocks)
    (torch.Size([2, 10]), torch.Size([2, 64]), 7)
    >>> sum(p.numel() for p in ResNet18(input_shape=(3, 32, 32), out_features=10).parameters())
    11173962
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, one_of, positive
from etude.kinds import Model

NORMS = ("batch", "none")


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


@configclass
class ResNet18Config:
    input_shape: tuple[int, ...] = field(default=(3, 32, 32), converter=_shape, validator=each(positive),
                                         doc="per-example input shape (C, H, W); CIFAR is (3, 32, 32)")
    out_features: int = field(default=10, validator=positive, doc="outputs (logits C)")
    width: int = field(default=64, validator=positive,
                       doc="channels of the first stage (stages: width, 2, 4, 8 x width; 64 is the standard net)")
    norm: str = field(default="batch", validator=one_of(*NORMS),
                      doc="'batch': BatchNorm after every convolution (no conv bias); 'none': no normalisation, "
                          "convolutions with bias (George et al.'s lazy-vs-hasty network)")
    blocks_per_stage: tuple[int, ...] = field(default=(2, 2, 2, 2), converter=_shape, validator=each(positive),
                                              doc="BasicBlocks per stage (ResNet-18: 2, 2, 2, 2; ResNet-34: 3, 4, 6, 3)")

    def __attrs_post_init__(self) -> None:
        if len(self.input_shape) != 3:
            raise FieldValueError("input_shape", self.input_shape, "(C, H, W), e.g. (3, 32, 32)")
        if len(self.blocks_per_stage) != 4:
            raise FieldValueError("blocks_per_stage", self.blocks_per_stage, "four integers, one per stage")


def _conv3x3(c_in: int, c_out: int, stride: int, bias: bool) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=bias)


def _norm(channels: int, norm: str) -> nn.Module:
    return nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()


class BasicBlock(nn.Module):
    """``relu(norm(conv(relu(norm(conv(x))))) + shortcut(x))``; the shortcut is a 1x1 projection when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int, norm: str) -> None:
        super().__init__()
        bias = norm == "none"
        self.conv1, self.norm1 = _conv3x3(c_in, c_out, stride, bias), _norm(c_out, norm)
        self.conv2, self.norm2 = _conv3x3(c_out, c_out, 1, bias), _norm(c_out, norm)
        self.relu = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                                          _norm(c_out, norm))

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        return self.relu(self.norm2(self.conv2(out)) + self.shortcut(x))


class _GlobalAvgPool(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=(2, 3))


class ResNet18(Model):
    """The CIFAR ResNet-18 (3x3 stem, no max-pool, BasicBlocks [2, 2, 2, 2], widths 64-512), returning logits.

    Build it as ``ResNet18(out_features=10)`` or ``etude.create("model",
    "resnet18", input_shape=(3, 32, 32), out_features=10)``; the supervised
    loop fills in ``input_shape`` and ``out_features`` from the task. With
    ``norm="none"`` the network has no BatchNorm (a function of each example
    alone, so train and eval mode agree); see the module docstring.
    """

    Config = ResNet18Config

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        bias = c.norm == "none"
        stem = nn.Sequential(_conv3x3(c.input_shape[0], c.width, 1, bias), _norm(c.width, c.norm), nn.ReLU())
        stages, width = [], c.width
        for k, count in enumerate(c.blocks_per_stage):
            out = c.width * 2**k
            layers = []
            for i in range(count):
                layers.append(BasicBlock(width, out, 2 if (k > 0 and i == 0) else 1, c.norm))
                width = out
            stages.append(nn.Sequential(*layers))
        self.head = nn.Linear(width, c.out_features)
        self.blocks = nn.ModuleList([stem, *stages, _GlobalAvgPool(), self.head])

    def _check(self, x: Tensor) -> None:
        if x.dim() != 4 or tuple(x.shape[1:]) != tuple(self.config.input_shape):
            raise ValueError(f"ResNet18 expects inputs (B, {', '.join(map(str, self.config.input_shape))}), "
                             f"got {tuple(x.shape)}; set input_shape to match")

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def features(self, x: Tensor) -> Tensor:
        """The globally averaged last feature map, the head's input (B, 8 * width)."""
        self._check(x)
        for block in self.blocks[:-1]:
            x = block(x)
        return x

    def hidden_states(self, x: Tensor) -> list[Tensor]:
        """The output of every block (stem, four stages, pool, head), in order."""
        self._check(x)
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs


__all__ = ["NORMS", "BasicBlock", "ResNet18", "ResNet18Config"]
