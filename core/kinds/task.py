"""Task: a seeded data generator with named splits."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import attrs
from torch import Tensor

from ._component import Component


@attrs.frozen
class Split:
    """One split: ``inputs`` (N, ...) and ``targets`` (N, ...) tensors, plus ``info`` (e.g. flipped-label mask)."""

    inputs: Tensor
    targets: Tensor
    info: dict[str, Any] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


class Task(Component, abc.ABC):
    """Data for an experiment, generated deterministically from the config's ``seed``.

    Contract:
        - The config has an integer ``seed``; the same config gives identical
          tensors on every call and every machine (CPU float32).
        - :meth:`make_splits` returns a dict from split name (``split_names``:
          at least "train" and "test"; "ood" where the paper has one) to
          :class:`Split`; :meth:`split` caches it.
        - Classification tasks set ``num_classes`` and return int64 targets;
          ``input_shape`` gives the per-example input shape.
        - No download: data is synthetic or shipped inside a PyPI package.
    """

    split_names: ClassVar[tuple[str, ...]] = ("train", "test")
    num_classes: int | None = None
    input_shape: tuple[int, ...] | None = None

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)
        self._splits: dict[str, Split] | None = None

    @abc.abstractmethod
    def make_splits(self) -> dict[str, Split]:
        """Generate every split from the config's seed."""

    def splits(self) -> dict[str, Split]:
        if self._splits is None:
            self._splits = self.make_splits()
        return self._splits

    def split(self, name: str) -> Split:
        splits = self.splits()
        if name not in splits:
            raise KeyError(f"{type(self).__name__} has no split {name!r}; splits are {sorted(splits)}")
        return splits[name]
