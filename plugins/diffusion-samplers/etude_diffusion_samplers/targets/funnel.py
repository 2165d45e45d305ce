"""Neal's funnel in d dimensions with the first coordinate N(0, 3^2)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from etude.config import configclass, field, positive
from etude.kinds import Target

from ._base import check_points, sample_shape_of


def _at_least_two(instance, attribute, value):
    from etude.config import FieldValueError

    if not isinstance(value, int) or value < 2:
        raise FieldValueError(attribute.name, value, "an integer >= 2")


@configclass
class FunnelConfig:
    dim: int = field(default=10, validator=_at_least_two, doc="dimension d (first coordinate plus d-1 funnel coordinates)")
    scale: float = field(default=3.0, validator=positive, doc="std of the first coordinate (3, not 1: pitfall of older work)")


class Funnel(Target):
    """Neal's funnel: ``x_0 ~ N(0, 3^2)``, ``x_{1:d} | x_0 ~ N(0, exp(x_0) I)``; normalised, log Z = 0.

    The density is ``log N(x_0; 0, 9) + sum_i log N(x_i; 0, e^{x_0})``. Older
    work used variance 1 for the first coordinate by mistake; the
    diffusion-sampler benchmark uses 9.

    References:
        R. M. Neal, "Slice sampling", Annals of Statistics 2003. M. Sendera et
        al., "Improved off-policy training of diffusion samplers", NeurIPS 2024,
        arXiv:2402.05098.

    Examples:
        >>> import torch
        >>> f = Funnel(dim=10)
        >>> f.sample((3,), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3, 10])
    """

    Config = FunnelConfig
    has_exact_samples = True

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def log_Z(self) -> float:
        return 0.0

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "Funnel.log_prob")
        s = self.config.scale
        x0, rest = x[..., 0], x[..., 1:]
        lp0 = -0.5 * (x0 / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)
        k = rest.shape[-1]
        lp_rest = -0.5 * (rest**2).sum(-1) * torch.exp(-x0) - 0.5 * k * x0 - 0.5 * k * math.log(2 * math.pi)
        return lp0 + lp_rest

    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> Tensor:
        shape = sample_shape_of(sample_shape)
        n = int(shape.numel())
        x0 = torch.randn(n, 1, generator=generator) * self.config.scale
        rest = torch.randn(n, self.dim - 1, generator=generator) * torch.exp(0.5 * x0)
        return torch.cat([x0, rest], -1).reshape(*shape, self.dim)
