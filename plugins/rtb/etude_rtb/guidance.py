"""Classifier guidance on a diffusion prior (no training): the biased baselines of RTB's Table 2 / Fig. 1.

The guided process adds to the prior's drift ``u_theta(x, t)``:

* ``noisy``: ``gamma sigma^2 (t_k / t_{k+1}) grad log r(x_t)``, the reward evaluated at the *noisy* state (the
  reference toy; exact only if r(x_t) were the noisy likelihood, which it is not);
* ``dps``: ``gamma sigma^2 (t_k / t_{k+1}) grad_x log r(x_hat_1(x))`` with the one-step denoised estimate
  ``x_hat_1 = x + (1 - t) u_theta(x, t)``, differentiated through ``u_theta`` (Chung et al. 2023);
* ``lgd-mc``: ``dps`` with ``log r(x_hat_1)`` replaced by ``log mean_j r(x_hat_1 + s_t eps_j)``,
  ``s_t^2 = sigma^2 (1 - t)`` (Song et al. 2023's Monte Carlo smoothing; the scale is our choice).

With a constant reward every variant is exactly the prior.

References:
    S. Venkatraman et al., "Amortizing intractable inference in diffusion models for vision, language,
    and control", NeurIPS 2024, arXiv:2405.20971 (baselines). H. Chung et al., "Diffusion posterior
    sampling for general noisy inverse problems", ICLR 2023, arXiv:2209.14687. J. Song et al.,
    "Loss-guided diffusion models for plug-and-play controllable generation", ICML 2023.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, non_negative, one_of, positive
from etude.kinds import Sampler
from etude_diffusion_samplers.path import DiffusionPath

from .priors import BrownianPrior, path_drift


def _pos_int(instance, attribute, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FieldValueError(attribute.name, value, "an integer >= 1")


@configclass
class GuidanceConfig:
    mode: str = field(default="noisy", validator=one_of("noisy", "dps", "lgd-mc"), doc="guidance term (see the module docstring)")
    gamma: float = field(default=1.0, validator=non_negative, doc="guidance scale (1 in the reference toy)")
    n_mc: int = field(default=8, validator=_pos_int, doc="lgd-mc: Monte Carlo draws around x_hat_1")
    grad_clip: float = field(default=1e2, validator=positive, doc="clip of the guidance gradient (the reference's lgv clip)")
    n_steps: int = field(default=100, validator=_pos_int, doc="T of the default Brownian prior")
    t_scale: float = field(default=5.0, validator=positive, doc="sigma^2 of the default Brownian prior")


class Guidance(Sampler, nn.Module):
    """Guided sampling from a diffusion prior towards ``p_theta r`` (approximate; see module docstring).

    Examples:
        >>> from etude_rtb.rewards import SigmoidQuadrantReward
        >>> g = Guidance(mode="dps", n_steps=5).fit(SigmoidQuadrantReward())
        >>> g.sample(3).shape
        torch.Size([3, 2])
    """

    Config = GuidanceConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        Sampler.__init__(self, config, **overrides)
        self.prior: DiffusionPath | None = None
        self.path: DiffusionPath | None = None
        self.reward = None

    def _guide(self, x: Tensor, t: Tensor) -> Tensor:
        c, prior = self.config, self.prior
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            if c.mode == "noisy":
                log_r = self.reward.log_prob(xg)
            else:
                x_hat = xg + (1 - t)[:, None] * path_drift(prior, xg, t)
                if c.mode == "dps":
                    log_r = self.reward.log_prob(x_hat)
                else:
                    s = torch.sqrt(prior.sigma2 * (1 - t))[:, None, None]
                    eps = torch.randn(x.shape[0], c.n_mc, x.shape[1], dtype=x.dtype, device=x.device)
                    lr = self.reward.log_prob(x_hat[:, None] + s * eps)
                    log_r = torch.logsumexp(lr, 1) - math.log(c.n_mc)
            g = torch.autograd.grad(log_r.sum(), xg, allow_unused=True)[0] if log_r.requires_grad else None
        if g is None:  # a reward that does not depend on x: no guidance
            g = torch.zeros_like(x)
        g = torch.nan_to_num(g).clamp(-c.grad_clip, c.grad_clip)
        base = prior.base_drift(x, t) if prior.base_drift is not None else 0.0
        # the reference's guidance variance sigma^2 t_k / t_{k+1} (0 at the first step), on the prior's uniform grid
        dt = 1.0 / prior.n_steps
        return base + c.gamma * prior.sigma2 * (t / (t + dt))[:, None] * g

    def fit(self, reward, *, prior: DiffusionPath | None = None, steps: int | None = None, progress: bool = False,
            **kwargs: Any) -> Guidance:
        """No training: store the reward and the prior (default Brownian); ``steps`` is ignored."""
        if not hasattr(reward, "log_prob") or not hasattr(reward, "dim"):
            raise TypeError(f"reward must be an etude Target (log_prob = log r, and dim), got {type(reward).__name__}")
        if prior is None:
            prior = self.prior if self.prior is not None else BrownianPrior(reward.dim, sigma2=self.config.t_scale, n_steps=self.config.n_steps)
        if not isinstance(prior, DiffusionPath):
            raise TypeError(f"prior must be a DiffusionPath, got {type(prior).__name__}")
        if prior.dim != reward.dim:
            raise ValueError(f"prior.dim={prior.dim} differs from reward.dim={reward.dim}")
        if prior.policy.langevin:
            raise ValueError("Guidance needs a non-Langevin prior")
        self.prior, self.reward = prior.requires_grad_(False), reward
        # the prior's own policy (shared, frozen) plus the prior's base drift and the guidance term
        self.path = DiffusionPath(prior.policy, sigma2=prior.sigma2, n_steps=prior.n_steps, base_drift=self._guide)
        return self

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        if self.path is None:
            raise RuntimeError("call fit(reward) before sampling")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        return self.path.sample_forward(n, self.reward, generator=generator, with_grad=False).terminal
