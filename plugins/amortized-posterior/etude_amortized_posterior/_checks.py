"""Input validation shared by the estimators, models and metrics: errors name the argument and the fix."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def _finite(t: Tensor, name: str, owner: str) -> None:
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        kind = "NaN" if bool(torch.isnan(t).any()) else "inf"
        first = int(bad.reshape(t.shape[0], -1).any(-1).nonzero()[0, 0])
        raise ValueError(
            f"{owner}: {name} contains {kind} values ({int(bad.sum())} entries, first in dataset {first}); "
            "padded rows should hold zeros with mask False, not NaN"
        )


def check_dataset(x: Any, y: Any = None, mask: Any = None, *, supervised: bool = True,
                  owner: str = "dataset") -> tuple[Tensor, Tensor | None, Tensor]:
    """Validate a padded batch of datasets: x (D, N, dx), y (D, N), mask (D, N) bool with >= 1 True per row."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: x must be a tensor of shape (D, N, dx), got {type(x).__name__}")
    if x.dim() != 3:
        raise ValueError(
            f"{owner}: x must have shape (D datasets, N observations, dx features), got shape {tuple(x.shape)}; "
            "a single dataset of shape (N, dx) needs x.unsqueeze(0)"
        )
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    _finite(x, "x", owner)
    d, n = x.shape[0], x.shape[1]
    if supervised:
        if y is None:
            raise ValueError(f"{owner}: this model observes targets y of shape (D, N) = {(d, n)}; got y=None")
        if not isinstance(y, Tensor):
            y = torch.as_tensor(y)
        if y.shape != (d, n):
            raise ValueError(f"{owner}: y must have shape (D, N) = {(d, n)} to match x {tuple(x.shape)}, got {tuple(y.shape)}")
        if y.is_floating_point():
            _finite(y, "y", owner)
    if mask is None:
        mask = torch.ones(d, n, dtype=torch.bool, device=x.device)
    if not isinstance(mask, Tensor):
        mask = torch.as_tensor(mask)
    if mask.shape != (d, n):
        raise ValueError(
            f"{owner}: mask must have shape (D, N) = {(d, n)} to match x {tuple(x.shape)}, got {tuple(mask.shape)}"
        )
    if mask.dtype != torch.bool:
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError(f"{owner}: mask must be boolean (True = a real observation), got values other than 0/1")
        mask = mask.bool()
    empty = ~mask.any(-1)
    if bool(empty.any()):
        raise ValueError(
            f"{owner}: mask marks every observation of dataset(s) {empty.nonzero().flatten().tolist()[:5]} as padding; "
            "each dataset needs at least one observation (drop empty datasets)"
        )
    return x, y, mask
