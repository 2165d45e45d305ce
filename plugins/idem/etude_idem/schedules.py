"""Variance-exploding noise schedules: ``x_t = x_0 + sigma_t eps`` with ``sigma_t^2 = h(t) = int_0^t g(s)^2 ds``.

Every schedule gives ``h(t)`` (the noise variance at time t), ``g(t)`` (the
diffusion coefficient of the forward SDE ``dx = g(t) dW``, so that
``h' = g^2``) and ``sigma(t) = sqrt(h(t))``, on tensors of times in [0, 1].
All three interpolate ``h(0) = 0`` to ``h(1) = sigma_max^2 - sigma_min^2``:

* ``geometric`` (the DEM default): ``h(t) = sigma_min^2 ((sigma_max/sigma_min)^{2t} - 1)``,
  ``g(t) = sigma_min (sigma_max/sigma_min)^t sqrt(2 log(sigma_max/sigma_min))``;
* ``linear``: ``h(t) = (sigma_max^2 - sigma_min^2) t``, ``g = sqrt(sigma_max^2 - sigma_min^2)``;
* ``quadratic``: ``h(t) = (sigma_max^2 - sigma_min^2) t^2``, ``g(t) = sqrt(2 (sigma_max^2 - sigma_min^2) t)``.

References:
    T. Akhound-Sadegh, J. Rector-Brooks, A. J. Bose, S. Mittal, P. Lemos, C.-H. Liu,
    M. Sendera, S. Ravanbakhsh, G. Gidel, Y. Bengio, N. Malkin, A. Tong, "Iterated
    Denoising Energy Matching for Sampling from Boltzmann Densities", ICML 2024,
    arXiv:2402.06121 (Sec. 3 and App. C). Y. Song et al., "Score-Based Generative
    Modeling through Stochastic Differential Equations", ICLR 2021, arXiv:2011.13456.

Examples:
    >>> import torch
    >>> s = NoiseSchedule("geometric", sigma_min=0.01, sigma_max=6.0)
    >>> round(float(s.h(torch.tensor(1.0))), 4)
    35.9999
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

KINDS = ("geometric", "linear", "quadratic")


class NoiseSchedule:
    """A VE schedule ``(h, g, sigma)`` of kind ``geometric`` | ``linear`` | ``quadratic`` (module docstring)."""

    def __init__(self, kind: str = "geometric", *, sigma_min: float = 1e-5, sigma_max: float = 1.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"schedule kind must be one of {KINDS}, got {kind!r}")
        if not (0 < sigma_min < sigma_max and math.isfinite(sigma_max)):
            raise ValueError(f"need 0 < sigma_min < sigma_max < inf, got sigma_min={sigma_min}, sigma_max={sigma_max}")
        self.kind, self.sigma_min, self.sigma_max = kind, float(sigma_min), float(sigma_max)
        self._range = self.sigma_max**2 - self.sigma_min**2
        self._log_ratio = math.log(self.sigma_max / self.sigma_min)

    def __repr__(self) -> str:
        return f"NoiseSchedule({self.kind!r}, sigma_min={self.sigma_min}, sigma_max={self.sigma_max})"

    def h(self, t: Tensor) -> Tensor:
        """Noise variance ``sigma_t^2`` at times ``t``."""
        if self.kind == "geometric":
            return self.sigma_min**2 * torch.expm1(2 * self._log_ratio * t)
        if self.kind == "linear":
            return self._range * t
        return self._range * t**2

    def g(self, t: Tensor) -> Tensor:
        """Diffusion coefficient ``g(t) = sqrt(h'(t))``."""
        if self.kind == "geometric":
            return self.sigma_min * torch.exp(self._log_ratio * t) * math.sqrt(2 * self._log_ratio)
        if self.kind == "linear":
            return torch.full_like(t, math.sqrt(self._range))
        return torch.sqrt(2 * self._range * t)

    def sigma(self, t: Tensor) -> Tensor:
        """Noise standard deviation ``sqrt(h(t))``."""
        return torch.sqrt(self.h(t))

    @property
    def prior_std(self) -> float:
        """``sqrt(h(1))``: the std of the reverse SDE's starting distribution."""
        return math.sqrt(self._range)
