"""Random labels as in Zhang et al. (2017) and Baratin et al. (2021): shuffle the labels of a fraction p.

:func:`shuffle_labels` picks exactly ``round(p N)`` training examples with a
seeded generator and permutes their labels among themselves, so the label
marginal is kept and, at ``p = 1``, the labels are a random permutation of
the true ones (about 1/C of them unchanged by chance), unlike symmetric
flipping, which at ``p = 1`` makes every label wrong. :class:`RandomLabels`
wraps any registered classification task (test / val splits stay clean).

References:
    C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, "Understanding deep
    learning requires rethinking generalization", ICLR 2017, arXiv:1611.03530.
    A. Baratin et al., "Implicit Regularization via Neural Feature Alignment",
    AISTATS 2021, arXiv:2008.00938 (random-label fraction, ``--diff``).

Examples:
    >>> import torch
    >>> y = torch.arange(10).repeat(5)
    >>> z, chosen = shuffle_labels(y, 0.4, generator=torch.Generator().manual_seed(0))
    >>> int(chosen.sum()), bool(torch.equal(torch.bincount(z), torch.bincount(y))), bool((z[~chosen] == y[~chosen]).all())
    (20, True, True)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, in_range, non_negative
from etude.kinds import Split, Task

#: the shuffling generator is seeded apart from the split: ``seed + SHUFFLE_SEED_OFFSET``
SHUFFLE_SEED_OFFSET = 104729


def shuffle_labels(targets: Tensor, fraction: float, *, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Permute the labels of ``round(fraction * N)`` randomly chosen examples; returns (labels, chosen mask)."""
    if not isinstance(targets, Tensor) or targets.dim() != 1 or targets.is_floating_point():
        raise ValueError(f"shuffle_labels: targets must be a 1-D integer tensor (N,), got "
                         f"{tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__}")
    if not 0.0 <= float(fraction) <= 1.0:
        raise ValueError(f"shuffle_labels: fraction must be in [0, 1], got {fraction}")
    n = targets.shape[0]
    k = int(round(float(fraction) * n))
    chosen_idx = torch.randperm(n, generator=generator)[:k]
    perm = chosen_idx[torch.randperm(k, generator=generator)]
    out = targets.clone()
    out[chosen_idx.to(targets.device)] = targets[perm.to(targets.device)]
    chosen = torch.zeros(n, dtype=torch.bool, device=targets.device)
    chosen[chosen_idx.to(targets.device)] = True
    return out, chosen


@configclass
class RandomLabelsConfig:
    base: str = field(default="digits", doc="registered classification task whose train labels are shuffled")
    options: dict = field(factory=dict, doc="config of the base task (its own seed included)")
    fraction: float = field(default=1.0, validator=in_range(0.0, 1.0), doc="fraction p of train labels shuffled")
    seed: int = field(default=0, validator=non_negative, doc="seed of the shuffle (offset by 104729)")


class RandomLabels(Task):
    """A classification task whose train labels are shuffled on a fraction ``p`` of the examples.

    The train split gets ``info["clean_targets"]`` and ``info["noisy"]``
    (examples whose label changed). Built on any registered task by name.

    Examples:
        >>> task = RandomLabels(base="iris", fraction=1.0)
        >>> train = task.split("train")
        >>> bool(torch.equal(train.targets.sort().values, train.info["clean_targets"].sort().values))
        True
    """

    Config = RandomLabelsConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415

        self.base_task = etude.create("task", self.config.base, **dict(self.config.options))
        if not isinstance(getattr(self.base_task, "num_classes", None), int):
            raise ValueError(f"RandomLabels: task {self.config.base!r} is not a classification task (num_classes unset)")
        self.num_classes = self.base_task.num_classes
        self.input_shape = self.base_task.input_shape
        self.split_names = self.base_task.split_names

    def make_splits(self) -> dict[str, Split]:
        splits = dict(self.base_task.splits())
        train = splits["train"]
        clean = train.info.get("clean_targets", train.targets)
        gen = torch.Generator().manual_seed(int(self.config.seed) + SHUFFLE_SEED_OFFSET)
        labels, _ = shuffle_labels(clean, self.config.fraction, generator=gen)
        info = dict(train.info)
        info["clean_targets"] = clean
        info["noisy"] = labels != clean
        splits["train"] = Split(train.inputs, labels, info)
        return splits


__all__ = ["SHUFFLE_SEED_OFFSET", "RandomLabels", "RandomLabelsConfig", "shuffle_labels"]
