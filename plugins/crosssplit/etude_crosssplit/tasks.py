"""A shipped-data task of etude-mixupe with standardised inputs (the paper brief's CPU setting)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from etude.config import configclass, field, in_range, non_negative, one_of
from etude.kinds import Split, Task


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"options must be a mapping of the base task's config fields, got {type(value).__name__}")
    return dict(value)


@configclass
class StandardizedConfig:
    base: str = field(default="digits", validator=one_of("digits", "mnist1d", "breast-cancer"),
                      doc="registered etude-mixupe task to wrap")
    seed: int = field(default=0, validator=non_negative, doc="seed of the base task (split and label noise)")
    label_noise: float = field(default=0.0, validator=in_range(0.0, 1.0, high_open=True),
                               doc="fraction of training labels flipped by the base task")
    noise_type: str = field(default="symmetric", validator=one_of("symmetric", "asymmetric"),
                            doc="'symmetric' or 'asymmetric' label noise (see etude_mixupe.noise)")
    options: dict = field(factory=dict, converter=_options, doc="further config of the base task (e.g. num_samples)")


class Standardized(Task):
    """An etude-mixupe task whose inputs are standardised per feature with the train split's mean and std.

    ``x <- (x - mean_train) / std_train`` (features with zero spread keep
    ``std = 1``); labels, label noise and the ``clean_targets`` / ``noisy``
    records come unchanged from the base task (``task/digits``,
    ``task/mnist1d`` or ``task/breast-cancer``). The CrossSplit brief's
    CPU experiment uses standardised digits: plain training then memorises
    the flipped labels within 60 epochs.

    References:
        J. Kim et al., "CrossSplit", ICML 2023, arXiv:2212.01674 (CPU-scale setting of the paper brief);
        data from etude-mixupe.

    Examples:
        >>> task = Standardized(base="digits", label_noise=0.4)
        >>> x = task.split("train").inputs
        >>> bool(x.mean(0).abs().max() < 1e-4), int(task.split("train").info["noisy"].sum())
        (True, 539)
    """

    Config = StandardizedConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        c = self.config
        self.base_task = etude.create("task", c.base, seed=c.seed, label_noise=c.label_noise,
                                      noise_type=c.noise_type, **c.options)
        self.num_classes = self.base_task.num_classes
        self.input_shape = self.base_task.input_shape

    def make_splits(self) -> dict[str, Split]:
        splits = self.base_task.splits()
        train = splits["train"]
        mean = train.inputs.mean(0, keepdim=True)
        std = train.inputs.std(0, keepdim=True)
        std = torch.where(std > 1e-8, std, torch.ones_like(std))
        return {name: Split(((s.inputs - mean) / std).contiguous(), s.targets, dict(s.info)) for name, s in splits.items()}
