"""SimilarityMetric: compares two representations of the same n examples."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._component import Component


class SimilarityMetric(Component, abc.ABC):
    """``metric(X, Y) -> scalar tensor`` for X (n, d1), Y (n, d2) on the same n examples.

    Contract:
        - Rows are examples, columns features; d1 and d2 may differ.
        - The value is invariant to permuting the examples of X and Y jointly.
        - Returns a 0-d tensor in the promoted floating dtype of the inputs, on
          their device, differentiable when the inputs require grad.
        - :meth:`__call__` validates first (2-D, same n, n >= ``min_examples``,
          finite, same device) so subclasses implement :meth:`compute` on clean
          input; errors name the argument and its shape.
        - Stateless.
    """

    min_examples: ClassVar[int] = 2

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)

    @abc.abstractmethod
    def compute(self, X: Tensor, Y: Tensor) -> Tensor:
        """The similarity of validated X (n, d1) and Y (n, d2)."""

    def __call__(self, X: Tensor, Y: Tensor) -> Tensor:
        X, Y = check_representations(X, Y, self.min_examples, type(self).__name__)
        return self.compute(X, Y)


def check_representations(X: Any, Y: Any, min_examples: int, name: str) -> tuple[Tensor, Tensor]:
    """Validate and dtype-promote a pair of representations; errors say the fix."""
    for label, t in (("X", X), ("Y", Y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {label} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 2:
            hint = " (use .reshape(n, -1) to flatten feature dimensions)" if t.dim() > 2 else (
                " (a 1-D input is ambiguous: use .unsqueeze(1) for n examples of one feature)"
            )
            raise ValueError(f"{name}: {label} must be 2-D (n examples, d features), got shape {tuple(t.shape)}{hint}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(
            f"{name}: X and Y must hold the same n examples, got n={X.shape[0]} and n={Y.shape[0]}"
        )
    if X.shape[0] < min_examples:
        raise ValueError(f"{name}: needs at least {min_examples} examples, got n={X.shape[0]}")
    if X.device != Y.device:
        raise ValueError(f"{name}: X is on {X.device} but Y is on {Y.device}; move both to one device")
    dtype = torch.promote_types(X.dtype, Y.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    X, Y = X.to(dtype), Y.to(dtype)
    for label, t in (("X", X), ("Y", Y)):
        if not torch.isfinite(t).all():
            raise ValueError(f"{name}: {label} contains NaN or inf")
    return X, Y
