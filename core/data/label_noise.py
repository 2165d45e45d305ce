"""Synthetic label noise for classification tasks: symmetric and asymmetric, exact counts.

:func:`inject_label_noise` flips an exact number of labels, chosen with a
seeded ``torch.Generator``, and returns the noisy labels with the mask of
flipped examples. Every task of the data layer applies it to its train
split when ``label_noise > 0`` (the test and val splits stay clean), and
:class:`LabelNoise` wraps any registered classification task.

Symmetric noise
    Exactly ``round(rate * N)`` examples, drawn uniformly without replacement,
    each get a label drawn uniformly from the ``num_classes - 1`` *other*
    classes, so every selected label really changes.

Asymmetric noise
    A fixed class map ``c -> m(c)`` (:func:`asymmetric_map`):

    - ``num_classes == 10``: the map of Patrini et al. (CVPR 2017) for digit
      data, ``2 -> 7, 3 -> 8, 5 -> 6, 6 -> 5, 7 -> 1``; classes 0, 1, 4, 8, 9
      are never flipped. ``task/cifar10`` uses Patrini et al.'s CIFAR-10 map
      instead, :data:`CIFAR10_ASYMMETRIC_MAP` (truck -> automobile,
      bird -> airplane, deer -> horse, cat <-> dog); any task may set its
      own ``asymmetric_class_map``;
    - any other ``num_classes >= 2``: the "next class" map
      ``c -> (c + 1) mod C``; for two classes it swaps 0 and 1.

    The rate applies to the *eligible* examples (those whose class is in the
    map): exactly ``round(rate * N_eligible)`` of them, drawn uniformly
    without replacement from the pooled eligible examples, are set to
    ``m(c)``.

References:
    G. Patrini, A. Rozza, A. K. Menon, R. Nock, L. Qu, "Making Deep Neural Networks
    Robust to Label Noise: a Loss Correction Approach", CVPR 2017, arXiv:1609.03683.

Examples:
    >>> import torch
    >>> y = torch.arange(10).repeat(10)
    >>> noisy, flipped = inject_label_noise(y, 10, 0.2, generator=torch.Generator().manual_seed(0))
    >>> int(flipped.sum()), bool((noisy != y).eq(flipped).all())
    (20, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, in_range, non_negative, one_of
from etude.kinds import Split, Task

NOISE_TYPES = ("symmetric", "asymmetric")
#: the label-noise generator is seeded apart from the split: ``seed + NOISE_SEED_OFFSET``
NOISE_SEED_OFFSET = 7919

#: Patrini et al. (2017) map for 10-class digit data (MNIST): 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1.
MNIST_ASYMMETRIC_MAP = {2: 7, 3: 8, 5: 6, 6: 5, 7: 1}
#: Patrini et al. (2017) map for CIFAR-10: truck -> automobile, bird -> airplane, deer -> horse, cat <-> dog.
CIFAR10_ASYMMETRIC_MAP = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


def asymmetric_map(num_classes: int) -> dict[int, int]:
    """The default class map of asymmetric noise: source class -> noisy class (see the module docstring)."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if num_classes == 10:
        return dict(MNIST_ASYMMETRIC_MAP)
    return {c: (c + 1) % num_classes for c in range(num_classes)}


def inject_label_noise(
    targets: Tensor,
    num_classes: int,
    rate: float,
    noise_type: str = "symmetric",
    generator: torch.Generator | None = None,
    class_map: Mapping[int, int] | None = None,
) -> tuple[Tensor, Tensor]:
    """Flip labels: returns ``(noisy_targets, flipped_mask)``, both shaped like ``targets`` (N,).

    Args:
        targets: class indices, int64 (N,), in ``[0, num_classes)``.
        num_classes: number of classes C >= 2.
        rate: noise rate in [0, 1): the fraction of all examples (symmetric)
            or of the eligible examples (asymmetric) whose label is flipped;
            exactly ``round(rate * N)`` (resp. ``round(rate * N_eligible)``).
        noise_type: ``"symmetric"`` or ``"asymmetric"``.
        generator: a CPU ``torch.Generator`` (torch's global RNG when None).
        class_map: asymmetric map ``{source: noisy}`` (default :func:`asymmetric_map`).

    Every flipped label differs from the original: ``flipped_mask == (noisy_targets != targets)``.
    """
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.is_floating_point():
        shape = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
        raise ValueError(f"targets must be a 1-D integer tensor of class indices (N,), got {shape}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {noise_type!r}")
    if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= num_classes):
        raise ValueError(
            f"targets must lie in [0, {num_classes}), got {int(targets.min())}..{int(targets.max())}; check num_classes"
        )
    device = targets.device
    y = targets.detach().to("cpu", torch.int64)
    noisy = y.clone()
    flipped = torch.zeros_like(y, dtype=torch.bool)
    if noise_type == "symmetric":
        count = int(round(float(rate) * y.numel()))
        chosen = torch.randperm(y.numel(), generator=generator)[:count]
        offset = torch.randint(1, num_classes, (count,), generator=generator)  # 1..C-1: always another class
        noisy[chosen] = (y[chosen] + offset) % num_classes
    else:
        mapping = dict(asymmetric_map(num_classes) if class_map is None else class_map)
        table = torch.arange(num_classes)
        eligible_class = torch.zeros(num_classes, dtype=torch.bool)
        for src, dst in mapping.items():
            if not (0 <= int(src) < num_classes and 0 <= int(dst) < num_classes) or int(src) == int(dst):
                raise ValueError(f"class_map entry {src} -> {dst} must map a class in [0, {num_classes}) to another")
            table[int(src)] = int(dst)
            eligible_class[int(src)] = True
        eligible = eligible_class[y].nonzero().flatten()
        count = int(round(float(rate) * eligible.numel()))
        chosen = eligible[torch.randperm(eligible.numel(), generator=generator)[:count]]
        noisy[chosen] = table[y[chosen]]
    flipped[chosen] = True
    return noisy.to(device), flipped.to(device)


def noisy_split(split: Split, num_classes: int, rate: float, noise_type: str, seed: int,
                class_map: Mapping[int, int] | None = None) -> Split:
    """``split`` with noisy targets and ``info["clean_targets"]`` / ``info["noisy"]`` (all False when rate is 0).

    The generator is seeded with ``seed + NOISE_SEED_OFFSET``, apart from the split's own seed.
    """
    clean = split.info.get("clean_targets", split.targets)
    if rate > 0:
        g = torch.Generator().manual_seed(int(seed) + NOISE_SEED_OFFSET)
        noisy, mask = inject_label_noise(clean, num_classes, rate, noise_type, generator=g, class_map=class_map)
    else:
        noisy, mask = clean.clone(), torch.zeros_like(clean, dtype=torch.bool)
    return Split(split.inputs, noisy, {**split.info, "clean_targets": clean, "noisy": mask})


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"options must be a mapping of the base task's config fields, got {type(value).__name__}")
    return dict(value)


@configclass
class LabelNoiseConfig:
    base: str = field(doc="registered classification task whose train labels are corrupted (e.g. 'digits')")
    options: dict = field(factory=dict, converter=_options, doc="config of the base task (its own seed included)")
    seed: int = field(default=0, validator=non_negative, doc="seed of the label noise (offset by 7919)")
    label_noise: float = field(default=0.2, validator=in_range(0.0, 1.0, high_open=True),
                               doc="fraction of training labels flipped (of the eligible ones for asymmetric noise)")
    noise_type: str = field(default="symmetric", validator=one_of(*NOISE_TYPES), doc="'symmetric' or 'asymmetric'")


class LabelNoise(Task):
    """Any registered classification task with label noise on its train split (val / test / ood stay clean).

    The base task is built by name with ``options``; its train targets (or
    its ``info["clean_targets"]`` if it is already noisy) are corrupted with
    :func:`inject_label_noise`. The train split gets ``info["clean_targets"]``
    and ``info["noisy"]``. Every built-in task also takes ``label_noise``
    directly; the wrapper serves tasks of other plugins.

    Examples:
        >>> task = LabelNoise(base="iris", label_noise=0.2)
        >>> train = task.split("train")
        >>> int(train.info["noisy"].sum()) == round(0.2 * len(train))
        True
    """

    Config = LabelNoiseConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        self.base_task = etude.create("task", self.config.base, **self.config.options)
        if not isinstance(self.base_task.num_classes, int) or self.base_task.num_classes < 2:
            raise ValueError(f"LabelNoise: task {self.config.base!r} is not a classification task (num_classes unset)")
        self.num_classes = self.base_task.num_classes
        self.input_shape = self.base_task.input_shape
        self.split_names = self.base_task.split_names

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        splits = dict(self.base_task.splits())
        splits["train"] = noisy_split(splits["train"], self.num_classes, c.label_noise, c.noise_type, c.seed)
        return splits


__all__ = [
    "CIFAR10_ASYMMETRIC_MAP",
    "MNIST_ASYMMETRIC_MAP",
    "NOISE_SEED_OFFSET",
    "NOISE_TYPES",
    "LabelNoise",
    "asymmetric_map",
    "inject_label_noise",
    "noisy_split",
]
