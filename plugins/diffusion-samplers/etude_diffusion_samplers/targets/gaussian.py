"""An isotropic Gaussian with an arbitrary normalising constant (a test target)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from etude.config import configclass, field, positive
from etude.kinds import Target

from ._base import check_points, sample_shape_of


@configclass
class GaussianConfig:
    dim: int = field(default=2, validator=positive, doc="dimension d")
    std: float = field(default=1.0, validator=positive, doc="standard deviation s of every coordinate")
    mean: float = field(default=0.0, doc="mean of every coordinate")
    log_Z: float = field(default=0.0, doc="log c: the target is c * N(x; mean, s^2 I)")


class Gaussian(Target):
    """``R(x) = c N(x; m 1, s^2 I)``: log Z = log c, exact samples.

    With ``m = 0`` and ``s^2 = sigma^2`` it is the terminal marginal of the
    diffusion sampler's reference Brownian motion, which makes the zero-drift
    sampler exact: the identity the path tests rest on.

    References:
        M. Sendera et al., "Improved off-policy training of diffusion samplers",
        NeurIPS 2024, arXiv:2402.05098 (test target).

    Examples:
        >>> import torch
        >>> g = Gaussian(dim=3, log_Z=1.5)
        >>> round(float(g.log_prob(torch.zeros(3))), 4)
        -1.2568
    """

    Config = GaussianConfig
    has_exact_samples = True

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def log_Z(self) -> float:
        return self.config.log_Z

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "Gaussian.log_prob")
        c = self.config
        z = (x - c.mean) / c.std
        return c.log_Z - 0.5 * (z**2).sum(-1) - self.dim * (math.log(c.std) + 0.5 * math.log(2 * math.pi))

    def noised_score(self, x: Tensor, var: Tensor | float) -> Tensor:
        """``grad_x log (R * N(0, var I))(x) = -(x - m) / (s^2 + var)``, (..., d); ``var`` per point or scalar."""
        check_points(x, self.dim, "Gaussian.noised_score")
        v = self.config.std**2 + torch.as_tensor(var, dtype=x.dtype, device=x.device)
        if bool((v <= 0).any()):
            raise ValueError(f"Gaussian.noised_score: var must be >= 0, got {var}")
        v = v.expand(x.shape[:-1]).unsqueeze(-1) if v.ndim else v
        return -(x - self.config.mean) / v

    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> Tensor:
        shape = sample_shape_of(sample_shape)
        return self.config.mean + self.config.std * torch.randn(*shape, self.dim, generator=generator)
