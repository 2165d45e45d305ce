"""Ground-truth mutual-information tasks: correlated Gaussians and invertible transforms of them."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, in_range, one_of
from etude.kinds import Split, Task


def correlated_gaussian_mi(dim: int, rho: float) -> float:
    """``-(dim / 2) log(1 - rho^2)`` nats: I(X; Y) for X, Y in R^dim with corr(X_i, Y_j) = rho delta_ij."""
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must be in (-1, 1), got {rho!r}")
    return -0.5 * dim * math.log1p(-rho * rho)


def gaussian_mi(cov: Tensor, x_dim: int) -> float:
    """``0.5 log(det S_X det S_Y / det S)`` nats for a joint Gaussian with covariance ``cov``, X = first ``x_dim`` coordinates."""
    cov = torch.as_tensor(cov, dtype=torch.float64)
    if cov.dim() != 2 or cov.shape[0] != cov.shape[1] or not 0 < x_dim < cov.shape[0]:
        raise ValueError(f"gaussian_mi: cov must be square (D, D) with 0 < x_dim < D, got {tuple(cov.shape)}, x_dim={x_dim}")
    _, ld = torch.linalg.slogdet(cov)
    _, ldx = torch.linalg.slogdet(cov[:x_dim, :x_dim])
    _, ldy = torch.linalg.slogdet(cov[x_dim:, x_dim:])
    return float(0.5 * (ldx + ldy - ld))


def _positive_int(instance, attribute, value):
    if not (isinstance(value, int) and value >= 1):
        raise FieldValueError(attribute.name, value, "an integer >= 1")


def _pairs(instance, attribute, value):
    if not (isinstance(value, int) and value >= 2):
        raise FieldValueError(attribute.name, value, "an integer >= 2 (mutual information needs pairs to re-pair)")


@configclass
class CorrelatedGaussiansConfig:
    dim: int = field(default=2, validator=_positive_int, doc="dimension d of X and of Y")
    rho: float = field(default=0.5, validator=in_range(-1.0, 1.0, low_open=True, high_open=True),
                       doc="correlation of each coordinate pair (X_i, Y_i); other pairs are independent")
    n_train: int = field(default=10000, validator=_pairs, doc="training pairs")
    n_test: int = field(default=10000, validator=_pairs, doc="held-out pairs")
    seed: int = field(default=0, doc="seed of the generator")


class CorrelatedGaussians(Task):
    """Paired Gaussians X, Y in R^d with corr(X_i, Y_j) = rho * delta_ij and known mutual information.

    ``Y = rho X + sqrt(1 - rho^2) E`` with X, E standard normal, so
    ``I(X; Y) = -(d/2) log(1 - rho^2)`` nats (the paper's first experiment).
    Splits hold ``inputs = x``, ``targets = y``; :attr:`mutual_information`
    is the truth and :meth:`log_density_ratio` the optimal critic.

    References:
        M. I. Belghazi et al., "Mutual Information Neural Estimation", ICML 2018,
        arXiv:1801.04062 (section 5.1).

    Examples:
        >>> task = CorrelatedGaussians(dim=2, rho=0.9, n_train=100, n_test=100)
        >>> round(task.mutual_information, 3), tuple(task.split("train").inputs.shape)
        (1.661, (100, 2))
    """

    Config = CorrelatedGaussiansConfig
    split_names = ("train", "test")

    @property
    def mutual_information(self) -> float:
        """The analytic I(X; Y) in nats."""
        return correlated_gaussian_mi(self.config.dim, self.config.rho)

    def true_mi(self) -> float:
        return self.mutual_information

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` fresh pairs (x, y) from ``generator`` (the global RNG if None)."""
        d, rho = self.config.dim, self.config.rho
        x = torch.randn(n, d, generator=generator)
        y = rho * x + math.sqrt(1.0 - rho * rho) * torch.randn(n, d, generator=generator)
        return x, y

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        """The optimal DV critic ``log p(x, y) - log p(x) - log p(y)`` per pair, shape (N,)."""
        rho = self.config.rho
        one_m = 1.0 - rho * rho
        quad = (rho * rho * (x * x + y * y) - 2.0 * rho * x * y) / (2.0 * one_m)
        return (-0.5 * math.log(one_m) - quad).sum(-1)

    def make_splits(self) -> dict[str, Split]:
        g = torch.Generator().manual_seed(self.config.seed)
        out = {}
        for name, n in (("train", self.config.n_train), ("test", self.config.n_test)):
            x, y = self.sample(n, g)
            out[name] = Split(inputs=x, targets=y, info={"mutual_information": self.mutual_information})
        return out


TRANSFORMS = {
    "identity": lambda t: t,
    "cube": lambda t: t**3,
    "half-cube": lambda t: t * t.abs().sqrt(),
    "asinh": torch.asinh,
    "sigmoid": torch.sigmoid,
    "exp": torch.exp,
}


@configclass
class TransformedGaussiansConfig(CorrelatedGaussiansConfig):
    x_transform: str = field(default="half-cube", validator=one_of(*TRANSFORMS),
                             doc="invertible map applied elementwise to X")
    y_transform: str = field(default="asinh", validator=one_of(*TRANSFORMS),
                             doc="invertible map applied elementwise to Y")


class TransformedGaussians(CorrelatedGaussians):
    """Correlated Gaussians pushed through invertible elementwise maps: non-Gaussian, same mutual information.

    Mutual information is invariant to invertible maps of each variable,
    ``I(f(X); g(Y)) = I(X; Y)``, so ``(f(X), g(Y))`` with e.g.
    ``f(t) = t |t|^(1/2)`` (half-cube) and ``g = asinh`` keeps the analytic
    ``-(d/2) log(1 - rho^2)`` while its marginals are far from Gaussian (the
    "transformed distributions" of the bmi benchmark).

    References:
        P. Czyz, F. Grabowski, J. Vogt, N. Beerenwinkel, A. Marx, "Beyond Normal: On the
        Evaluation of Mutual Information Estimators", NeurIPS 2023, arXiv:2306.11078.

    Examples:
        >>> task = TransformedGaussians(rho=0.6, x_transform="cube", y_transform="exp", n_train=10, n_test=10)
        >>> round(task.mutual_information, 4), bool((task.split("test").targets > 0).all())
        (0.4463, True)
    """

    Config = TransformedGaussiansConfig

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        x, y = super().sample(n, generator)
        return TRANSFORMS[self.config.x_transform](x), TRANSFORMS[self.config.y_transform](y)

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Any:
        raise NotImplementedError("the density ratio is defined on the untransformed Gaussians; use CorrelatedGaussians")
