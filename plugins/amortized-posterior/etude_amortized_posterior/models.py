"""The probabilistic models as Pyro programs: GM, GMM, LR, LC, NLR, NLC.

Every model is one Pyro program over a batch of D datasets::

    with pyro.plate("datasets", D, dim=-2):
        theta = pyro.sample("theta", Normal(0, 1).expand([P]).to_event(1))   # (D, 1, P)
        with pyro.plate("data", N, dim=-1):
            pyro.sample("obs", likelihood(theta, x).mask(mask), obs=y)       # (D, N)

Datasets are padded to a common length N; ``mask`` (D, N) is True for real
observations, so padded rows contribute exactly 0 to the log joint. A
``feature_mask`` (D, dx) embeds lower-dimensional problems into ``dx``
dimensions (paper section 3.3, TabPFN-style): unused input features are
zeroed, so their weights leave the likelihood unchanged.

References:
    S. Mittal, N. L. Bracher, G. Lajoie, P. Jaini, M. A. Brubaker, "Amortized
    In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025), section 4.

Examples:
    >>> import torch
    >>> m = LinearRegression(dim=2)
    >>> data = m.simulate(4, n_min=8, n_max=16, generator=torch.Generator().manual_seed(0))
    >>> m.log_joint(data["theta"], data["x"], data["y"], data["mask"]).shape
    torch.Size([4])
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import Tensor

from ._checks import check_dataset


class BayesModel:
    """A Bayesian model p(theta) p(D | theta) as a Pyro program over a batch of datasets.

    Subclasses define ``num_params``, ``_likelihood(theta, x, feature_mask)``
    (a distribution with batch shape (..., D, N)) and ``predict``.
    ``supervised`` models observe ``y`` given inputs ``x``; unsupervised ones
    (GM, GMM) observe ``x`` itself.
    """

    name: ClassVar[str] = "model"
    supervised: ClassVar[bool] = True
    classification: ClassVar[bool] = False

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"{type(self).__name__}: 'dim' must be an integer >= 1, got {dim!r}")
        self.dim = dim

    # -- the model ---------------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        raise NotImplementedError

    @property
    def feature_dim(self) -> int:
        """Width of one encoded observation (what the set encoder sees)."""
        if not self.supervised:
            return self.dim
        return self.dim + (self.num_classes if self.classification else 1)

    num_classes: int = 2

    def prior(self, like: Tensor | None = None) -> dist.Distribution:
        """p(theta) = N(0, I_P), one event of P parameters (on ``like``'s device and dtype)."""
        zero = torch.zeros((), dtype=None if like is None else like.dtype, device=None if like is None else like.device)
        return dist.Normal(zero, 1.0).expand([self.num_params]).to_event(1)

    def _likelihood(self, theta: Tensor, x: Tensor, feature_mask: Tensor | None) -> dist.Distribution:
        raise NotImplementedError

    def model(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None,
              feature_mask: Tensor | None = None, kl_weight: float = 1.0, observe: bool = True) -> Tensor:
        """The Pyro program. ``x`` (D, N, dx); ``y`` (D, N) or None (then sampled); ``mask`` (D, N) bool.

        For unsupervised models ``x`` holds the observations and ``y`` is
        ignored; ``observe=False`` samples them instead (only ``x``'s shape is
        used), which is how :meth:`simulate` draws GM / GMM datasets.
        ``kl_weight`` scales the theta site (the KL warm-up of the reference
        code, applied to both log p(theta) and, in the guide, log q(theta)).
        """
        d, n = x.shape[0], x.shape[1]
        if mask is None:
            mask = torch.ones(d, n, dtype=torch.bool, device=x.device)
        with pyro.plate("datasets", d, dim=-2):
            with poutine.scale(scale=kl_weight):
                theta = pyro.sample("theta", self.prior(x))
            with pyro.plate("data", n, dim=-1):
                lik = self._likelihood(theta.squeeze(-2), x, feature_mask)
                obs = (y if self.supervised else x) if observe else None
                pyro.sample("obs", lik.mask(mask), obs=obs)
        return theta.squeeze(-2)

    # -- simulation ----------------------------------------------------------------------------
    def sample_inputs(self, d: int, n: int, generator: torch.Generator | None = None) -> Tensor:
        """x ~ N(0, I_dx), shape (d, n, dx)."""
        return torch.randn(d, n, self.dim, generator=generator)

    def simulate(self, num_datasets: int, *, n_min: int = 16, n_max: int = 64, n_query: int = 0,
                 feature_dims: tuple[int, int] | None = None,
                 generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Ancestral simulation through the Pyro program (``poutine.trace``).

        Returns ``theta`` (D, P), ``x`` (D, n_max, dx), ``y`` (D, n_max) (None
        for unsupervised models), ``mask`` (D, n_max) with n ~ U{n_min..n_max}
        valid rows first, ``x_query``/``y_query`` (D, n_query, ...) from the
        same theta, and ``feature_mask`` (D, dx) when ``feature_dims=(lo, hi)``
        asks for variable dimensionality. Deterministic given ``generator``.
        """
        if not 1 <= n_min <= n_max:
            raise ValueError(f"{type(self).__name__}.simulate: need 1 <= n_min <= n_max, got n_min={n_min}, n_max={n_max}")
        gen = generator
        d = num_datasets
        lengths = torch.randint(n_min, n_max + 1, (d,), generator=gen)
        mask = torch.arange(n_max)[None, :] < lengths[:, None]
        feature_mask = None
        if feature_dims is not None:
            lo, hi = feature_dims
            if not 1 <= lo <= hi <= self.dim:
                raise ValueError(f"feature_dims must satisfy 1 <= lo <= hi <= dim={self.dim}, got {feature_dims}")
            active = torch.randint(lo, hi + 1, (d,), generator=gen)
            feature_mask = torch.arange(self.dim)[None, :] < active[:, None]
        total = n_max + n_query
        x = self.sample_inputs(d, total, gen)
        full_mask = torch.cat([mask, torch.ones(d, n_query, dtype=torch.bool)], dim=1)
        seed = int(torch.randint(0, 2**62, (), generator=gen))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            trace = poutine.trace(self.model).get_trace(x, None, full_mask, feature_mask, observe=False)
        theta = trace.nodes["theta"]["value"].squeeze(-2)
        obs = trace.nodes["obs"]["value"]
        if self.supervised:
            y = obs
        else:
            x = obs
            y = None
        if feature_mask is not None:
            x = x * feature_mask[:, None, :].to(x)
        out: dict[str, Any] = {"theta": theta, "x": x[:, :n_max], "mask": mask, "feature_mask": feature_mask,
                               "y": None if y is None else y[:, :n_max]}
        out["x"] = out["x"] * mask[..., None].to(x)  # padded rows hold zeros
        if y is not None:
            out["y"] = out["y"] * mask.to(y)
        out["x_query"] = x[:, n_max:]
        out["y_query"] = None if y is None else y[:, n_max:]
        return out

    # -- densities -----------------------------------------------------------------------------
    def log_joint(self, theta: Tensor, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None,
                  feature_mask: Tensor | None = None) -> Tensor:
        """log p(theta, D) per dataset, (D,), read from a trace of the Pyro program."""
        x, y, mask = check_dataset(x, y, mask, supervised=self.supervised, owner=f"{type(self).__name__}.log_joint")
        theta = theta.reshape(theta.shape[0], 1, -1)
        conditioned = poutine.condition(self.model, data={"theta": theta})
        trace = poutine.trace(conditioned).get_trace(x, y, mask, feature_mask)
        trace.compute_log_prob()
        total = trace.nodes["theta"]["log_prob"].reshape(-1)
        return total + trace.nodes["obs"]["log_prob"].sum(-1)

    def log_likelihood(self, theta: Tensor, x: Tensor, y: Tensor | None, mask: Tensor,
                       feature_mask: Tensor | None = None) -> Tensor:
        """Masked sum_n log p(obs_n | theta) for theta (..., D, P): shape (..., D). Plain torch, vectorised."""
        lik = self._likelihood(theta, x, feature_mask)
        obs = y if self.supervised else x
        return (lik.log_prob(obs) * mask.to(x)).sum(-1)

    def encode(self, x: Tensor, y: Tensor | None) -> Tensor:
        """One observation per row for the set encoder: [x, y] (regression), [x, onehot(y)] or x."""
        if not self.supervised:
            return x
        if self.classification:
            onehot = torch.nn.functional.one_hot(y.long().clamp(0, self.num_classes - 1), self.num_classes)
            return torch.cat([x, onehot.to(x)], dim=-1)
        return torch.cat([x, y.unsqueeze(-1)], dim=-1)

    def predict(self, theta: Tensor, x: Tensor, feature_mask: Tensor | None = None) -> Tensor:
        """The mode of p(y | x, theta) for theta (..., D, P) and x (D, M, dx): (..., D, M)."""
        raise NotImplementedError

    def exact_posterior(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None,
                        feature_mask: Tensor | None = None) -> dist.Distribution:
        """The conjugate posterior, batch (D,), event (P,) (GM and LR only)."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form posterior; use estimator/nuts-posterior")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, num_params={self.num_params})"


def _masked(x: Tensor, feature_mask: Tensor | None) -> Tensor:
    return x if feature_mask is None else x * feature_mask[:, None, :].to(x)


class GaussianMean(BayesModel):
    """GM: theta ~ N(0, I_d), x_n ~ N(theta, I_d); exact posterior N(sum x / (n + 1), I / (n + 1))."""

    name = "gaussian-mean"
    supervised = False

    @property
    def num_params(self) -> int:
        return self.dim

    def _likelihood(self, theta, x, feature_mask):
        loc = theta.unsqueeze(-2)  # (..., D, 1, d)
        base = dist.Normal(loc.expand(*theta.shape[:-1], x.shape[1], self.dim), 1.0)
        if feature_mask is not None:
            base = base.mask(feature_mask[:, None, :])
        return base.to_event(1)

    def predict(self, theta, x, feature_mask=None):
        """The mean itself (broadcast over the M query points): (..., D, M, d)."""
        out = theta.unsqueeze(-2).expand(*theta.shape[:-1], x.shape[1], self.dim)
        return out if feature_mask is None else out * feature_mask[:, None, :].to(out)

    def exact_posterior(self, x, y=None, mask=None, feature_mask=None):
        x, _, mask = check_dataset(x, None, mask, supervised=False, owner="GaussianMean.exact_posterior")
        m = mask.to(x)
        xm = _masked(x, feature_mask) * m[..., None]
        n = m.sum(-1, keepdim=True)
        counts = n if feature_mask is None else n * feature_mask.to(x)
        precision = 1.0 + counts
        return dist.Normal(xm.sum(1) / precision, precision.rsqrt()).to_event(1)


class GaussianMixture(BayesModel):
    """GMM: K means theta_k ~ N(0, I_d), x_n ~ (1/K) sum_k N(theta_k, I_d) (K = 2); P = K d."""

    name = "gaussian-mixture"
    supervised = False

    def __init__(self, dim: int, components: int = 2) -> None:
        super().__init__(dim)
        self.components = components

    @property
    def num_params(self) -> int:
        return self.components * self.dim

    def means(self, theta: Tensor) -> Tensor:
        return theta.reshape(*theta.shape[:-1], self.components, self.dim)

    def _likelihood(self, theta, x, feature_mask):
        means = self.means(theta)  # (..., D, K, d)
        if feature_mask is not None:
            means = means * feature_mask[:, None, :].to(means)
        n = x.shape[1]
        means = means.unsqueeze(-3).expand(*means.shape[:-2], n, self.components, self.dim)
        mix = dist.Categorical(logits=torch.zeros(means.shape[:-1], dtype=means.dtype, device=means.device))
        comp = dist.Normal(means, 1.0).to_event(1)
        return dist.MixtureSameFamily(mix, comp)

    def predict(self, theta, x, feature_mask=None):
        """The mean closest to each query point: (..., D, M, d)."""
        means = self.means(theta)
        dists = ((x.unsqueeze(-2) - means.unsqueeze(-3)) ** 2).sum(-1)  # (..., D, M, K)
        idx = dists.argmin(-1, keepdim=True)[..., None].expand(*dists.shape[:-1], 1, self.dim)
        return torch.gather(means.unsqueeze(-3).expand(*dists.shape, self.dim), -2, idx).squeeze(-2)


class LinearRegression(BayesModel):
    """LR: y = w^T x + b + eps, eps ~ N(0, noise_variance), theta = (w, b) ~ N(0, I); P = d + 1."""

    name = "linear-regression"

    def __init__(self, dim: int, noise_variance: float = 0.25) -> None:
        super().__init__(dim)
        if not noise_variance > 0:
            raise ValueError(f"'noise_variance' must be > 0, got {noise_variance!r}")
        self.noise_variance = float(noise_variance)

    @property
    def num_params(self) -> int:
        return self.dim + 1

    def features(self, x: Tensor, feature_mask: Tensor | None = None) -> Tensor:
        x = _masked(x, feature_mask)
        return torch.cat([x, torch.ones_like(x[..., :1])], dim=-1)

    def mean(self, theta: Tensor, x: Tensor, feature_mask: Tensor | None = None) -> Tensor:
        return (self.features(x, feature_mask) * theta.unsqueeze(-2)).sum(-1)

    def _likelihood(self, theta, x, feature_mask):
        return dist.Normal(self.mean(theta, x, feature_mask), math.sqrt(self.noise_variance))

    def predict(self, theta, x, feature_mask=None):
        return self.mean(theta, x, feature_mask)

    def exact_posterior(self, x, y=None, mask=None, feature_mask=None):
        x, y, mask = check_dataset(x, y, mask, supervised=True, owner="LinearRegression.exact_posterior")
        phi = self.features(x, feature_mask) * mask[..., None].to(x)  # (D, N, P)
        s2 = self.noise_variance
        eye = torch.eye(phi.shape[-1], dtype=x.dtype, device=x.device)
        precision = eye + phi.transpose(-1, -2) @ phi / s2
        cov = torch.linalg.inv(precision)
        cov = 0.5 * (cov + cov.transpose(-1, -2))
        mean = (cov @ (phi.transpose(-1, -2) @ (y * mask.to(y)).unsqueeze(-1))).squeeze(-1) / s2
        return dist.MultivariateNormal(mean, covariance_matrix=cov)


class LinearClassification(BayesModel):
    """LC: p(y | x, W) = softmax([x, 1] W / temperature), W ~ N(0, I); P = (d + 1) C."""

    name = "linear-classification"
    classification = True

    def __init__(self, dim: int, num_classes: int = 2, temperature: float = 0.1) -> None:
        super().__init__(dim)
        if not temperature > 0:
            raise ValueError(f"'temperature' must be > 0, got {temperature!r}")
        self.num_classes = num_classes
        self.temperature = float(temperature)

    @property
    def num_params(self) -> int:
        return (self.dim + 1) * self.num_classes

    def logits(self, theta, x, feature_mask=None):
        x = _masked(x, feature_mask)
        phi = torch.cat([x, torch.ones_like(x[..., :1])], dim=-1)  # (D, N, d+1)
        w = theta.reshape(*theta.shape[:-1], self.dim + 1, self.num_classes)
        return phi @ w / self.temperature  # (..., D, N, C)

    def _likelihood(self, theta, x, feature_mask):
        return dist.Categorical(logits=self.logits(theta, x, feature_mask))

    def predict(self, theta, x, feature_mask=None):
        return self.logits(theta, x, feature_mask).argmax(-1)


class NonlinearRegression(BayesModel):
    """NLR: y = v^T tanh(W x + b) + eps (one tanh hidden layer, no output bias); P = (d + 2) h.

    With ``dim=1, hidden=8`` this is the paper brief's 24-parameter BNN (E1);
    the paper's default is ``hidden=32``.
    """

    name = "nonlinear-regression"

    def __init__(self, dim: int, hidden: int = 32, noise_variance: float = 0.25) -> None:
        super().__init__(dim)
        if not noise_variance > 0:
            raise ValueError(f"'noise_variance' must be > 0, got {noise_variance!r}")
        self.hidden = hidden
        self.noise_variance = float(noise_variance)

    @property
    def num_params(self) -> int:
        return (self.dim + 2) * self.hidden

    def hidden_units(self, theta, x, feature_mask=None):
        d, h = self.dim, self.hidden
        w = theta[..., : d * h].reshape(*theta.shape[:-1], d, h)
        b = theta[..., d * h : (d + 1) * h]
        return torch.tanh(_masked(x, feature_mask) @ w + b.unsqueeze(-2))  # (..., D, N, h)

    def mean(self, theta, x, feature_mask=None):
        v = theta[..., (self.dim + 1) * self.hidden :]
        return (self.hidden_units(theta, x, feature_mask) @ v.unsqueeze(-1)).squeeze(-1)

    def _likelihood(self, theta, x, feature_mask):
        return dist.Normal(self.mean(theta, x, feature_mask), math.sqrt(self.noise_variance))

    def predict(self, theta, x, feature_mask=None):
        return self.mean(theta, x, feature_mask)


class NonlinearClassification(NonlinearRegression):
    """NLC: p(y | x, theta) = softmax(V^T tanh(W x + b) / temperature); P = (d + 1) h + h C."""

    name = "nonlinear-classification"
    classification = True

    def __init__(self, dim: int, hidden: int = 32, num_classes: int = 2, temperature: float = 0.1) -> None:
        super().__init__(dim, hidden=hidden)
        if not temperature > 0:
            raise ValueError(f"'temperature' must be > 0, got {temperature!r}")
        self.num_classes = num_classes
        self.temperature = float(temperature)

    @property
    def num_params(self) -> int:
        return (self.dim + 1) * self.hidden + self.hidden * self.num_classes

    def logits(self, theta, x, feature_mask=None):
        v = theta[..., (self.dim + 1) * self.hidden :].reshape(*theta.shape[:-1], self.hidden, self.num_classes)
        return self.hidden_units(theta, x, feature_mask) @ v / self.temperature

    def _likelihood(self, theta, x, feature_mask):
        return dist.Categorical(logits=self.logits(theta, x, feature_mask))

    def predict(self, theta, x, feature_mask=None):
        return self.logits(theta, x, feature_mask).argmax(-1)


MODELS: dict[str, type[BayesModel]] = {
    cls.name: cls
    for cls in (GaussianMean, GaussianMixture, LinearRegression, LinearClassification,
                NonlinearRegression, NonlinearClassification)
}
