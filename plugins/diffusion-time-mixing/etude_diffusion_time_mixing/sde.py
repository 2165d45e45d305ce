"""The variance-exploding (VE) SDE of score-based diffusion: a fixed noising process, not a sampler.

Song et al.'s VE SDE ``dx = g(t) dW`` on t in [0, 1] with the geometric
noise schedule ``sigma(t) = sigma_min (sigma_max / sigma_min)^t``. Its
perturbation kernel is ``x_t | x_0 ~ N(x_0, sigma(t)^2 I)`` (the
``sigma_min^2`` offset of the exact kernel is neglected, as in score_sde and
DRL) and ``g(t)^2 = d sigma^2 / dt = 2 sigma(t)^2 log(sigma_max / sigma_min)``.

References:
    Y. Song, J. Sohl-Dickstein, D. P. Kingma, A. Kumar, S. Ermon, B. Poole, "Score-Based Generative
    Modeling through Stochastic Differential Equations", ICLR 2021, arXiv:2011.13456;
    S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points to Functions: Infinite-dimensional
    Representations in Diffusion Models", preprint 2022, arXiv:2210.13774 (unverified).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from etude.config import FieldValueError

__all__ = ["VESDE"]


class VESDE:
    """VE SDE with ``sigma(t) = sigma_min (sigma_max / sigma_min)^t`` on t in [0, 1].

    Examples:
        >>> import torch
        >>> sde = VESDE(sigma_min=0.01, sigma_max=10.0)
        >>> round(float(sde.sigma(torch.tensor(1.0))), 4), round(float(sde.sigma(torch.tensor(0.0))), 4)
        (10.0, 0.01)
        >>> x0 = torch.zeros(4, 3)
        >>> xt, eps = sde.perturb(x0, torch.full((4,), 0.5), torch.Generator().manual_seed(0))
        >>> xt.shape, bool(torch.allclose(xt, sde.sigma(torch.tensor(0.5)) * eps))
        (torch.Size([4, 3]), True)
    """

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 10.0) -> None:
        if not (isinstance(sigma_min, (int, float)) and sigma_min > 0 and math.isfinite(sigma_min)):
            raise FieldValueError("sigma_min", sigma_min, "a finite number > 0")
        if not (isinstance(sigma_max, (int, float)) and sigma_max > sigma_min and math.isfinite(sigma_max)):
            raise FieldValueError("sigma_max", sigma_max, f"a finite number > sigma_min={sigma_min}")
        self.sigma_min, self.sigma_max = float(sigma_min), float(sigma_max)
        self.log_ratio = math.log(self.sigma_max / self.sigma_min)

    def __repr__(self) -> str:
        return f"VESDE(sigma_min={self.sigma_min}, sigma_max={self.sigma_max})"

    def sigma(self, t: Tensor) -> Tensor:
        """Marginal standard deviation ``sigma(t) = sigma_min (sigma_max / sigma_min)^t`` (elementwise)."""
        return self.sigma_min * torch.exp(t * self.log_ratio)

    marginal_std = sigma

    def g2(self, t: Tensor) -> Tensor:
        """Squared diffusion coefficient ``g(t)^2 = d sigma(t)^2 / dt = 2 sigma(t)^2 log(sigma_max / sigma_min)``."""
        return 2.0 * self.sigma(t) ** 2 * self.log_ratio

    def perturb(self, x0: Tensor, t: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``(x_t, eps)`` with ``x_t = x0 + sigma(t) eps``, ``eps ~ N(0, I)`` drawn from ``generator``.

        ``x0`` is (N, ...), ``t`` is (N,) (or a scalar, broadcast); the noise is
        drawn on CPU from ``generator`` (reproducible across devices) and moved to ``x0``'s device.
        """
        if not isinstance(x0, Tensor) or x0.dim() < 1:
            raise ValueError(f"x0 must be a tensor (N, ...), got {type(x0).__name__}")
        t = torch.as_tensor(t, dtype=x0.dtype, device=x0.device)
        if t.dim() == 0:
            t = t.expand(x0.shape[0])
        if t.shape != (x0.shape[0],):
            raise ValueError(f"t must have shape (N,) = ({x0.shape[0]},) to match x0 {tuple(x0.shape)}, got {tuple(t.shape)}")
        eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype).to(x0.device)
        std = self.sigma(t).reshape(-1, *([1] * (x0.dim() - 1)))
        return x0 + std * eps, eps
