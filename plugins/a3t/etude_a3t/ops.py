"""Gradient reversal (DANN) and its lambda schedule.

References:
    Y. Ganin and V. Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015, arXiv:1409.7495;
    Y. Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 17 (2016), arXiv:1505.07818.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class GradientReversal(torch.autograd.Function):
    """GRL_lambda: the identity forward, ``-lambda * grad`` backward (Ganin & Lempitsky, ICML 2015).

    Placed between an encoder ``h`` and a discriminator ``D``, one backward
    pass gives ``D`` the gradient of its loss and ``h`` the *opposite*
    gradient scaled by lambda, so a single optimiser step minimises D's loss
    over D and maximises it over h (the DANN saddle point).

    Examples:
        >>> x = torch.ones(2, requires_grad=True)
        >>> GradientReversal.apply(x, 0.5).sum().backward()
        >>> x.grad
        tensor([-0.5000, -0.5000])
    """

    @staticmethod
    def forward(ctx, inputs: Tensor, lam: float) -> Tensor:  # noqa: D102
        ctx.lam = float(lam)
        return inputs.view_as(inputs)

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # noqa: D102
        return -ctx.lam * grad_output, None


def grad_reverse(inputs: Tensor, lam: float = 1.0) -> Tensor:
    """``GradientReversal.apply(inputs, lam)``, with lam checked finite and >= 0."""
    lam = float(lam)
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"grad_reverse: lam must be a finite number >= 0, got {lam}")
    return GradientReversal.apply(inputs, lam)


def dann_lambda(progress: float, lam: float = 1.0, gamma: float = 10.0) -> float:
    """The DANN ramp ``lam * (2 / (1 + exp(-gamma * p)) - 1)``: 0 at p = 0, -> lam as p -> 1 (Ganin et al., JMLR 2016).

    Examples:
        >>> dann_lambda(0.0), round(dann_lambda(1.0), 4)
        (0.0, 0.9999)
    """
    p = float(progress)
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"dann_lambda: progress must lie in [0, 1] (fraction of training done), got {progress}")
    return float(lam) * (2.0 / (1.0 + math.exp(-float(gamma) * p)) - 1.0)


__all__ = ["GradientReversal", "dann_lambda", "grad_reverse"]
