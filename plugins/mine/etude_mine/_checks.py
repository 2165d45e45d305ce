"""Input validation shared by the estimators: clear ValueErrors naming the argument."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def as_samples(value: Any, name: str, owner: str) -> Tensor:
    """``value`` as a floating (N, D) tensor; a 1-D input is read as (N, 1)."""
    if not isinstance(value, Tensor):
        try:
            value = torch.as_tensor(value)
        except Exception:  # noqa: BLE001
            raise TypeError(
                f"{owner}: {name} must be a tensor or array of shape (N, D), got {type(value).__name__}"
            ) from None
    if not value.is_floating_point():
        value = value.to(torch.get_default_dtype())
    if value.dim() == 1:
        value = value.unsqueeze(1)
    if value.dim() != 2:
        raise ValueError(
            f"{owner}: {name} must have shape (N, D) (samples in rows), got shape {tuple(value.shape)}; "
            "flatten the feature dimensions with .reshape(len(x), -1)"
        )
    bad = ~torch.isfinite(value)
    if bool(bad.any()):
        kind = "NaN" if bool(torch.isnan(value).any()) else "inf"
        row = int(bad.any(dim=1).nonzero()[0, 0])
        raise ValueError(
            f"{owner}: {name} contains {kind} values ({int(bad.sum())} entries, first in row {row}); "
            "remove or impute non-finite samples before estimating mutual information"
        )
    return value


def check_pairs(x: Any, y: Any, owner: str, *, names: tuple[str, str] = ("x", "y"), min_n: int = 2) -> tuple[Tensor, Tensor]:
    """Validate paired samples: same N, finite, at least ``min_n`` pairs."""
    x = as_samples(x, names[0], owner)
    y = as_samples(y, names[1], owner)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{owner}: {names[0]} and {names[1]} must hold the same number of paired samples, got "
            f"{names[0]} {tuple(x.shape)} and {names[1]} {tuple(y.shape)}"
        )
    if x.shape[0] < min_n:
        raise ValueError(
            f"{owner}: needs at least {min_n} pairs, got {names[0]} with shape {tuple(x.shape)}; samples of the "
            "product of marginals are built by re-pairing within a batch, which a single pair cannot do"
        )
    return x, y
