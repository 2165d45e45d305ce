"""Disjoint halves of the training set and a loader that iterates only its own half.

The reference code builds both networks' loaders on the *underlying* dataset
of a ``random_split`` subset, so both networks iterate over all examples.
Here a :class:`SubsetLoader` holds nothing but its index set: it can only
yield indices of its own half.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

__all__ = ["SubsetLoader", "disjoint_halves"]


def disjoint_halves(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """A uniformly random split of ``range(n)`` into two disjoint, covering, sorted index sets (sizes ``ceil(n/2)``, ``floor(n/2)``)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ValueError(f"n must be an integer >= 2 to split the data into two halves, got {n!r}")
    perm = torch.randperm(n, generator=generator)
    cut = (n + 1) // 2
    return perm[:cut].sort().values, perm[cut:].sort().values


class SubsetLoader:
    """Yields shuffled mini-batches of ``indices`` (a 1-D LongTensor); a new order every pass.

    Only the given indices are ever yielded, so a network given the loader of
    its half never sees the other half's labels.
    """

    def __init__(self, indices: Tensor, batch_size: int, generator: torch.Generator) -> None:
        if not isinstance(indices, Tensor) or indices.dim() != 1 or indices.numel() == 0:
            raise ValueError(f"indices must be a non-empty 1-D tensor, got {getattr(indices, 'shape', indices)!r}")
        if not (isinstance(batch_size, int) and batch_size > 0):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.indices = indices.long().cpu()
        self.batch_size = batch_size
        self.generator = generator

    def __len__(self) -> int:
        return -(-self.indices.numel() // self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        order = self.indices[torch.randperm(self.indices.numel(), generator=self.generator)]
        yield from order.split(self.batch_size)

    def cycle(self) -> Iterator[Tensor]:
        """Endless iteration (reshuffled every pass): the unlabelled side of the semi-supervised step."""
        while True:
            yield from self
