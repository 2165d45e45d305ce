"""Gaussian-mixture targets: the 9- and 25-mode grids and the 40-mode FAB mixture."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, non_negative, one_of
from etude.kinds import Target

from ._base import check_points, sample_shape_of

_LAYOUT_DEFAULT_STD = {"grid9": math.sqrt(0.3), "grid25": math.sqrt(0.3), "fab40": math.log1p(math.e)}


@configclass
class GMMConfig:
    layout: str = field(
        default="grid25",
        validator=one_of("grid9", "grid25", "fab40"),
        doc="'grid9': modes on {-5,0,5}^2; 'grid25': modes on {-10,-5,0,5,10}^2; 'fab40': 40 modes uniform in [-40,40]^2",
    )
    std: float = field(
        default=0.0,
        validator=non_negative,
        doc="component standard deviation; 0 = the layout's default (sqrt(0.3) for the grids, softplus(1) for fab40)",
    )
    mode_seed: int = field(default=0, validator=non_negative, doc="seed of the fab40 mode locations (FAB uses 0)")


class GMM(Target):
    """Equal-weight mixture of isotropic Gaussians in 2-D, normalised (log Z = 0).

    The benchmark mixtures of the diffusion-sampler literature: 9 modes on
    {-5, 0, 5}^2 and 25 modes on {-10, -5, 0, 5, 10}^2, each with variance 0.3
    (Sendera et al. 2024), and the 40-mode mixture of FAB (Midgley et al. 2023)
    with means uniform in [-40, 40]^2 and scale softplus(1).
    ``log_prob(x) = logsumexp_k [log w_k + log N(x; mu_k, s^2 I)]``; exact
    samples and ``log_Z = 0``. ``modes`` and ``weights`` feed the mode metrics.

    References:
        M. Sendera et al., "Improved off-policy training of diffusion samplers",
        NeurIPS 2024, arXiv:2402.05098. L. I. Midgley et al., "Flow Annealed
        Importance Sampling Bootstrap", ICLR 2023, arXiv:2208.01893.

    Examples:
        >>> import torch
        >>> t = GMM(layout="grid9")
        >>> t.modes.shape, round(float(t.log_prob(torch.zeros(2)).exp()), 4)
        (torch.Size([9, 2]), 0.0589)
    """

    Config = GMMConfig
    has_exact_samples = True

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)
        c = self.config
        if c.layout == "grid9":
            axis = torch.tensor([-5.0, 0.0, 5.0])
            self.modes = torch.cartesian_prod(axis, axis)
        elif c.layout == "grid25":
            axis = torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
            self.modes = torch.cartesian_prod(axis, axis)
        else:
            g = torch.Generator().manual_seed(c.mode_seed)
            self.modes = (torch.rand(40, 2, generator=g) - 0.5) * 2 * 40.0
        self.weights = torch.full((self.modes.shape[0],), 1.0 / self.modes.shape[0])
        self.std = torch.tensor(c.std if c.std > 0 else _LAYOUT_DEFAULT_STD[c.layout])
        super().__init__(c)

    @property
    def dim(self) -> int:
        return 2

    @property
    def log_Z(self) -> float:
        return 0.0

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, 2, "GMM.log_prob")
        modes, std = self.modes.to(x), self.std.to(x)
        sq = ((x.unsqueeze(-2) - modes) ** 2).sum(-1)  # (..., K)
        log_comp = -0.5 * sq / std**2 - 2 * torch.log(std) - math.log(2 * math.pi)
        return torch.logsumexp(log_comp + self.weights.to(x).log(), dim=-1)

    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> Tensor:
        shape = sample_shape_of(sample_shape)
        n = int(torch.Size(shape).numel())
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator).to(self.modes.device)
        noise = torch.randn(n, 2, generator=generator).to(self.modes)
        return (self.modes[idx] + self.std * noise).reshape(*shape, 2)
