"""ManyWell: d/2 independent copies of a 2-D double well, with exact log Z."""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field
from etude.kinds import Target

from ._base import check_points, sample_shape_of


def _even_positive(instance, attribute, value):
    if not isinstance(value, int) or value < 2 or value % 2:
        raise FieldValueError(attribute.name, value, "an even integer >= 2")


@configclass
class ManyWellConfig:
    dim: int = field(default=32, validator=_even_positive, doc="dimension d (even): d/2 double wells")


def double_well_x1_log_density(x: Tensor) -> Tensor:
    """``-x^4 + 6 x^2 + x/2``: the unnormalised log density of the first coordinate."""
    return -(x**4) + 6 * x**2 + 0.5 * x


@lru_cache(maxsize=1)
def double_well_x1_log_normaliser() -> float:
    """``log int exp(-x^4 + 6x^2 + x/2) dx`` by adaptive quadrature (= log 11784.509...)."""
    from scipy.integrate import quad  # noqa: PLC0415

    value, _ = quad(lambda x: math.exp(-(x**4) + 6 * x**2 + 0.5 * x), -10.0, 10.0, points=[-1.7, 0.0, 1.7], limit=200)
    return math.log(value)


class ManyWell(Target):
    """ManyWell: ``log R(x) = sum_i [-x_{2i}^4 + 6 x_{2i}^2 + x_{2i}/2 - x_{2i+1}^2 / 2]``.

    Each of the d/2 pairs is a double well in its first coordinate (two modes,
    unequal weights) times a standard Gaussian in its second, so the target has
    2^(d/2) modes. ``log Z = (d/2) (log Z_1 + log(2 pi)/2)`` with
    ``Z_1 = int exp(-x^4 + 6x^2 + x/2) dx = 11784.509`` (computed by quadrature).
    Exact samples: the first coordinates by vectorised rejection sampling from
    a two-Gaussian proposal, the second ones Gaussian.

    References:
        H. Wu, J. Köhler, F. Noé, "Stochastic Normalizing Flows", NeurIPS 2020,
        arXiv:2002.06707. M. Sendera et al., "Improved off-policy training of
        diffusion samplers", NeurIPS 2024, arXiv:2402.05098.

    Examples:
        >>> t = ManyWell(dim=4)
        >>> round(t.log_Z, 3)
        20.587
    """

    Config = ManyWellConfig
    has_exact_samples = True

    @property
    def dim(self) -> int:
        return self.config.dim

    @property
    def n_wells(self) -> int:
        return self.dim // 2

    @property
    def log_Z(self) -> float:
        return self.n_wells * (double_well_x1_log_normaliser() + 0.5 * math.log(2 * math.pi))

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "ManyWell.log_prob")
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return (double_well_x1_log_density(x1) - 0.5 * x2**2).sum(-1)

    def _sample_x1(self, n: int, generator: torch.Generator | None) -> Tensor:
        # proposal q = 0.2 N(-1.7, 0.5^2) + 0.8 N(1.7, 0.5^2); bound M >= p~/q found on a grid (+25 %)
        means, std, mix = torch.tensor([-1.7, 1.7], dtype=torch.float64), 0.5, torch.tensor([0.2, 0.8], dtype=torch.float64)

        def log_q(x):
            comp = -0.5 * ((x[:, None] - means) / std) ** 2 - math.log(std * math.sqrt(2 * math.pi))
            return torch.logsumexp(comp + mix.log(), -1)

        grid = torch.linspace(-4, 4, 8001, dtype=torch.float64)
        log_m = float((double_well_x1_log_density(grid) - log_q(grid)).max()) + math.log(1.25)
        out = torch.empty(0, dtype=torch.float64)
        while out.numel() < n:
            m = 2 * (n - out.numel()) + 16
            comp = torch.multinomial(mix, m, replacement=True, generator=generator)
            prop = means[comp] + std * torch.randn(m, generator=generator, dtype=torch.float64)
            u = torch.rand(m, generator=generator, dtype=torch.float64)
            keep = torch.log(u) < double_well_x1_log_density(prop) - log_q(prop) - log_m
            out = torch.cat([out, prop[keep]])
        return out[:n]

    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> Tensor:
        shape = sample_shape_of(sample_shape)
        n = int(shape.numel())
        x1 = self._sample_x1(n * self.n_wells, generator).reshape(n, self.n_wells).float()
        x2 = torch.randn(n, self.n_wells, generator=generator)
        return torch.stack([x1, x2], -1).reshape(*shape, self.dim)
