"""Rewards (constraints) r(x) for RTB, as etude Targets whose ``log_prob`` is ``log r``: not registered.

* :class:`ConstantReward`: ``log r = log c`` (posterior = prior; the identity tests).
* :class:`SigmoidQuadrantReward`: the brief's pilot reward ``log(s(u) s(v) + 0.5 s(u) s(-v) + 0.05)``
  with ``s(z) = sigmoid(2z)``: smooth, and reweights the four modes at (±3, ±3).
* :class:`GMMRatioReward`: ``log r = log q(x) - log p(x)`` for two mixtures (the reference toy:
  the 9-mode posterior over the 25-mode prior).
* :class:`GaussianLikelihood`: ``r(x) = N(y; x, s^2 I)`` (the Gaussian-Gaussian closed form).
* :class:`LikelihoodReward`: ``log r(x) = likelihood(x).log_prob(y)`` for any Pyro / torch
  likelihood, so RTB samples the Bayesian posterior ``p(x | y) ∝ p_theta(x) p(y | x)``.
* :class:`ClassifierReward`: ``log r(x) = log p(c | x)`` of a classifier network.

References:
    S. Venkatraman et al., "Amortizing intractable inference in diffusion models for vision,
    language, and control", NeurIPS 2024, arXiv:2405.20971 (Sections 2-3, Appendix on the toy).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from etude.kinds import Target
from etude_diffusion_samplers.targets import check_points


class _Reward(Target):
    """A reward over R^dim: ``log_prob(x) = log r(x)``; no normaliser, no exact sampler."""

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self._dim = dim
        self.config = None
        self.energy_calls = 0
        torch.distributions.Distribution.__init__(self, batch_shape=torch.Size(), event_shape=torch.Size([dim]), validate_args=False)

    @property
    def dim(self) -> int:
        return self._dim


class ConstantReward(_Reward):
    """``log r(x) = log_c`` everywhere.

    Examples:
        >>> import torch
        >>> ConstantReward(2, log_c=1.5).log_prob(torch.zeros(3, 2)).tolist()
        [1.5, 1.5, 1.5]
    """

    def __init__(self, dim: int, log_c: float = 0.0) -> None:
        super().__init__(dim)
        self.log_c = float(log_c)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "ConstantReward.log_prob")
        return torch.full(x.shape[:-1], self.log_c, dtype=x.dtype, device=x.device)


class SigmoidQuadrantReward(_Reward):
    """``log r(u, v) = log(s(u) s(v) + 0.5 s(u) s(-v) + 0.05)``, ``s(z) = sigmoid(scale z)`` (the brief's pilot).

    Examples:
        >>> import torch
        >>> round(float(SigmoidQuadrantReward().log_prob(torch.tensor([3.0, 3.0]))), 3)
        0.048
    """

    def __init__(self, scale: float = 2.0, floor: float = 0.05) -> None:
        super().__init__(2)
        self.scale, self.floor = float(scale), float(floor)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, 2, "SigmoidQuadrantReward.log_prob")
        su, sv = torch.sigmoid(self.scale * x[..., 0]), torch.sigmoid(self.scale * x[..., 1])
        return torch.log(su * sv + 0.5 * su * (1 - sv) + self.floor)


class GMMRatioReward(_Reward):
    """``log r(x) = log q(x) - log p(x)`` for two targets on R^d (the reference toy's reward).

    With ``p`` the prior's data distribution and ``q`` the wanted posterior, the
    ideal posterior ``p r / Z`` is exactly ``q`` (and ``Z = 1``) up to the prior model's error.
    """

    def __init__(self, posterior, prior) -> None:
        if posterior.dim != prior.dim:
            raise ValueError(f"posterior.dim={posterior.dim} differs from prior.dim={prior.dim}")
        super().__init__(int(posterior.dim))
        self.posterior, self.prior = posterior, prior

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        return self.posterior.log_prob(x) - self.prior.log_prob(x)


class GaussianLikelihood(_Reward):
    """``r(x) = N(y; x, s^2 I)``: with a Brownian prior ``N(0, sigma^2 I)`` the posterior is
    ``N(sigma^2 y / (sigma^2 + s^2), sigma^2 s^2 / (sigma^2 + s^2) I)`` and ``Z = N(y; 0, (sigma^2 + s^2) I)``.

    Examples:
        >>> import torch
        >>> r = GaussianLikelihood(torch.tensor([1.0, -1.0]), std=0.5)
        >>> round(r.log_Z_under_brownian(4.0), 4)
        -3.3098
    """

    def __init__(self, y: Tensor, std: float) -> None:
        y = torch.as_tensor(y, dtype=torch.float32)
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D observation, got shape {tuple(y.shape)}")
        if not std > 0:
            raise ValueError(f"std must be > 0, got {std}")
        super().__init__(int(y.numel()))
        self.y, self.std = y, float(std)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "GaussianLikelihood.log_prob")
        z = (x - self.y.to(x)) / self.std
        return -0.5 * (z**2).sum(-1) - self.dim * (math.log(self.std) + 0.5 * math.log(2 * math.pi))

    def log_Z_under_brownian(self, sigma2: float) -> float:
        var = sigma2 + self.std**2
        return float(-0.5 * (self.y**2).sum() / var - 0.5 * self.dim * math.log(2 * math.pi * var))

    def posterior_moments(self, sigma2: float) -> tuple[Tensor, float]:
        """``(mean (d,), variance)`` of the exact posterior under the Brownian prior."""
        k = sigma2 / (sigma2 + self.std**2)
        return k * self.y, k * self.std**2


class LikelihoodReward(_Reward):
    """``log r(x) = likelihood(x).log_prob(y)``: a Pyro / torch likelihood as an RTB reward.

    ``likelihood`` maps a batch of latents (N, d) to a distribution whose batch
    shape is (N,) (use ``.to_event`` for vector observations), e.g. a Pyro model's
    observation site. RTB then samples ``p(x | y) ∝ p_theta(x) p(y | x)``.

    Examples:
        >>> import torch, pyro.distributions as dist
        >>> lik = lambda x: dist.Normal(x, 0.5).to_event(1)
        >>> r = LikelihoodReward(lik, y=torch.tensor([1.0, 0.0]), dim=2)
        >>> r.log_prob(torch.zeros(4, 2)).shape
        torch.Size([4])
    """

    def __init__(self, likelihood: Callable[[Tensor], Any], y: Tensor, dim: int) -> None:
        if not callable(likelihood):
            raise TypeError(f"likelihood must be a callable x -> distribution, got {type(likelihood).__name__}")
        super().__init__(dim)
        self.likelihood, self.y = likelihood, torch.as_tensor(y)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "LikelihoodReward.log_prob")
        flat = x.reshape(-1, self.dim)
        lp = self.likelihood(flat).log_prob(self.y.to(x))
        if lp.shape != flat.shape[:1]:
            raise ValueError(
                f"likelihood(x).log_prob(y) must have shape ({flat.shape[0]},), got {tuple(lp.shape)}: "
                "declare vector observations with .to_event(1)"
            )
        return lp.reshape(x.shape[:-1])


class ClassifierReward(_Reward):
    """``log r(x) = log softmax(classifier(x))[c]``: the classifier-guided posterior ``p(x | c)``."""

    def __init__(self, classifier: torch.nn.Module, label: int, dim: int) -> None:
        super().__init__(dim)
        self.classifier, self.label = classifier, int(label)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        check_points(x, self.dim, "ClassifierReward.log_prob")
        flat = x.reshape(-1, self.dim)
        out = torch.log_softmax(self.classifier(flat), -1)[:, self.label]
        return out.reshape(x.shape[:-1])
