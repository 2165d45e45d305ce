"""Gaussian-mixture targets: the 9- and 25-mode grids, the 40-mode FAB mixture, and custom mixtures in any dimension."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, non_negative, one_of
from etude.kinds import Target

from ._base import check_points, sample_shape_of

_LAYOUT_DEFAULT_STD = {"grid9": math.sqrt(0.3), "grid25": math.sqrt(0.3), "fab40": math.log1p(math.e), "custom": 1.0}


def _nested_floats(value: Any) -> tuple:
    """Means as a tuple of equal-length float tuples (accepts lists, arrays, tensors)."""
    if isinstance(value, Tensor):
        value = value.detach().cpu().tolist()
    try:
        return tuple(tuple(float(v) for v in row) for row in value)
    except TypeError:
        raise FieldValueError("means", value, "a (K, d) nested sequence of numbers, e.g. [[-1, 0], [1, 0]]") from None


def _floats(value: Any) -> tuple:
    if isinstance(value, Tensor):
        value = value.detach().cpu().tolist()
    try:
        return tuple(float(v) for v in value)
    except TypeError:
        raise FieldValueError("weights", value, "a sequence of K positive numbers") from None


@configclass
class GMMConfig:
    layout: str = field(
        default="grid25",
        validator=one_of("grid9", "grid25", "fab40", "custom"),
        doc="'grid9': modes on {-5,0,5}^2; 'grid25': modes on {-10,-5,0,5,10}^2; 'fab40': 40 modes uniform in [-40,40]^2; "
        "'custom': the modes given in means (any dimension)",
    )
    std: float = field(
        default=0.0,
        validator=non_negative,
        doc="component standard deviation; 0 = the layout's default (sqrt(0.3) for the grids, softplus(1) for fab40, 1 for custom)",
    )
    mode_seed: int = field(default=0, validator=non_negative, doc="seed of the fab40 mode locations (FAB uses 0)")
    means: Any = field(default=(), converter=_nested_floats, doc="custom layout only: the K component means, shape (K, d)")
    weights: Any = field(default=(), converter=_floats, doc="custom layout only: K mixture weights (normalised to sum 1); empty = equal")

    def __attrs_post_init__(self) -> None:
        if self.layout != "custom":
            if self.means or self.weights:
                raise FieldValueError("means", self.means, f"empty unless layout='custom' (layout is {self.layout!r})")
            return
        if not self.means:
            raise FieldValueError("means", self.means, "a non-empty (K, d) list of component means when layout='custom'")
        dims = {len(row) for row in self.means}
        if len(dims) != 1 or 0 in dims:
            raise FieldValueError("means", self.means, "rows of one common length d >= 1")
        if any(not math.isfinite(v) for row in self.means for v in row):
            raise FieldValueError("means", self.means, "finite numbers")
        if self.weights:
            if len(self.weights) != len(self.means):
                raise FieldValueError("weights", self.weights, f"{len(self.means)} numbers (one per mean)")
            if any(not (w > 0 and math.isfinite(w)) for w in self.weights):
                raise FieldValueError("weights", self.weights, "finite numbers > 0")


class GMM(Target):
    """Mixture of isotropic Gaussians with a shared std, normalised (log Z = 0).

    The benchmark mixtures of the diffusion-sampler literature: 9 modes on
    {-5, 0, 5}^2 and 25 modes on {-10, -5, 0, 5, 10}^2, each with variance 0.3
    (Sendera et al. 2024), and the 40-mode mixture of FAB (Midgley et al. 2023)
    with means uniform in [-40, 40]^2 and scale softplus(1).
    ``log_prob(x) = logsumexp_k [log w_k + log N(x; mu_k, s^2 I)]``; exact
    samples and ``log_Z = 0``. ``modes`` and ``weights`` feed the mode metrics.
    ``layout="custom"`` takes any (K, d) ``means``, optional unequal
    ``weights`` (normalised) and ``std`` (default 1): the mixture of a test or a
    pilot (e.g. 9 modes on {-4, 0, 4}^2 with variance 0.1 in the iDEM plugin).
    :meth:`noised_score` is the closed-form score of the mixture convolved
    with ``N(0, var I)`` (a GMM with component variance ``s^2 + var``).

    References:
        M. Sendera et al., "Improved off-policy training of diffusion samplers",
        NeurIPS 2024, arXiv:2402.05098. L. I. Midgley et al., "Flow Annealed
        Importance Sampling Bootstrap", ICLR 2023, arXiv:2208.01893.

    Examples:
        >>> import torch
        >>> t = GMM(layout="grid9")
        >>> t.modes.shape, round(float(t.log_prob(torch.zeros(2)).exp()), 4)
        (torch.Size([9, 2]), 0.0589)
        >>> c = GMM(layout="custom", means=[[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]], weights=[1, 3], std=0.5)
        >>> c.dim, c.weights.tolist()
        (3, [0.25, 0.75])
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
        elif c.layout == "fab40":
            g = torch.Generator().manual_seed(c.mode_seed)
            self.modes = (torch.rand(40, 2, generator=g) - 0.5) * 2 * 40.0
        else:
            self.modes = torch.tensor(c.means, dtype=torch.float32)
        k = self.modes.shape[0]
        if c.layout == "custom" and c.weights:
            w = torch.tensor(c.weights, dtype=torch.float64)
            self.weights = (w / w.sum()).float()
        else:
            self.weights = torch.full((k,), 1.0 / k)
        self.std = torch.tensor(c.std if c.std > 0 else _LAYOUT_DEFAULT_STD[c.layout])
        super().__init__(c)

    @property
    def dim(self) -> int:
        return int(self.modes.shape[1])

    @property
    def log_Z(self) -> float:
        return 0.0

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "GMM.log_prob")
        return self._log_mixture(x, self.std.to(x) ** 2)

    def _log_mixture(self, x: Tensor, var: Tensor) -> Tensor:
        """``log sum_k w_k N(x; mu_k, var I)`` with ``var`` a scalar or (...,) per point."""
        modes, d = self.modes.to(x), self.dim
        var = var.unsqueeze(-1) if var.ndim else var
        sq = ((x.unsqueeze(-2) - modes) ** 2).sum(-1)  # (..., K)
        log_comp = -0.5 * sq / var - 0.5 * d * torch.log(2 * math.pi * var)
        return torch.logsumexp(log_comp + self.weights.to(x).log(), dim=-1)

    def noised_score(self, x: Tensor, var: Tensor | float) -> Tensor:
        """``grad_x log (p * N(0, var I))(x)`` in closed form, (..., d).

        The convolved density is the mixture with component variance
        ``v = s^2 + var``, so the score is ``sum_k r_k(x) (mu_k - x) / v`` with
        responsibilities ``r = softmax_k(log w_k - |x - mu_k|^2 / (2 v))``.
        ``var`` is a number or a tensor broadcasting against ``x.shape[:-1]``
        (one variance per point). No energy evaluations are counted.
        """
        check_points(x, self.dim, "GMM.noised_score")
        v = self.std.to(x) ** 2 + torch.as_tensor(var, dtype=x.dtype, device=x.device)
        if bool((v <= 0).any()):
            raise ValueError(f"GMM.noised_score: var must be >= 0 and s^2 + var > 0, got var={var}")
        v = v.expand(x.shape[:-1]).unsqueeze(-1) if v.ndim else v
        modes = self.modes.to(x)
        diff = modes - x.unsqueeze(-2)  # (..., K, d)
        logits = self.weights.to(x).log() - 0.5 * (diff**2).sum(-1) / v
        r = torch.softmax(logits, dim=-1)
        return (r.unsqueeze(-1) * diff).sum(-2) / v

    def sample(self, sample_shape=torch.Size(), generator: torch.Generator | None = None) -> Tensor:
        shape = sample_shape_of(sample_shape)
        n = int(torch.Size(shape).numel())
        idx = torch.multinomial(self.weights, n, replacement=True, generator=generator).to(self.modes.device)
        noise = torch.randn(n, self.dim, generator=generator).to(self.modes)
        return (self.modes[idx] + self.std * noise).reshape(*shape, self.dim)
