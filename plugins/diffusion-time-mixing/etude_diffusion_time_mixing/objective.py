"""The DRL objective: denoising score matching with an encoder, plus the latent's KL or L1 penalty.

For data ``x0``, ``t ~ U(t_min, 1)`` and ``eps ~ N(0, I)``, with
``x_t = x0 + sigma_t eps`` and ``z = E_phi(x0, t)``, the per-example DSM
term is ``|| sigma_t s_theta(x_t, t, z) + eps ||^2``, or in the
likelihood-weighted form ``g(t)^2 || s_theta + eps / sigma_t ||^2``, the
squares reduced over data dimensions by ``reduction``: ``"sum"`` (the
textbook form, the default of :func:`dsm_loss`), ``"half-sum"`` (one half of
the sum: the official ``sarthmit/traj_drl`` training, whose
``diffusion_model/losses.py`` line 72 sets ``reduce_op = 0.5 * torch.sum``
when ``reduce_mean`` is False, the value of ``training.reduce_mean`` in
``configs/default_cifar10_configs.py`` line 23; the default of ``DRL``) or
``"mean"`` (the same file's ``reduce_mean=True``). For the VE SDE
``g(t)^2 / sigma_t^2 = 2 log(sigma_max / sigma_min)`` is constant, so the
two weightings differ by that factor only. The
latent penalty is ``lambda_z KL(N(mu, diag sigma^2) || N(0, I))`` (summed over
latent dimensions, as ``losses.py`` line 117) for the probabilistic encoder,
``lambda_z ||z||_1`` for a deterministic one (line 122); both terms are
averaged over the batch (line 141). At the exact score of Gaussian data
``N(0, s^2 I_d)`` the summed DSM term has expectation ``d s^2 / (s^2 +
sigma_t^2)`` (the irreducible part of DSM).

References:
    P. Vincent, "A Connection Between Score Matching and Denoising Autoencoders", Neural
    Computation 2011; K. Abstreiter, S. Mittal, S. Bauer, B. Schölkopf, A. Mehrjou, "Diffusion-Based
    Representation Learning", arXiv:2105.14257 (unverified); S. Mittal et al., "From Points to
    Functions", preprint 2022, arXiv:2210.13774 (unverified).

Examples:
    >>> import torch
    >>> from etude_diffusion_time_mixing.sde import VESDE
    >>> sde, s = VESDE(0.01, 10.0), 2.0
    >>> x0 = s * torch.randn(20000, 4, generator=torch.Generator().manual_seed(0))
    >>> t = torch.full((20000,), 0.3)
    >>> xt, eps = sde.perturb(x0, t, torch.Generator().manual_seed(1))
    >>> loss = dsm_loss(-xt / (s**2 + sde.sigma(t)[:, None] ** 2), eps, t, sde).mean()
    >>> sigma = sde.sigma(torch.tensor(0.3))
    >>> bool(abs(loss - 4 * s**2 / (s**2 + sigma**2)) < 0.05)
    True
"""

from __future__ import annotations

import torch
from torch import Tensor

from .sde import VESDE

__all__ = ["REDUCTIONS", "WEIGHTINGS", "dsm_loss", "gaussian_kl", "latent_penalty"]

WEIGHTINGS = ("sigma2", "likelihood")
REDUCTIONS = ("sum", "half-sum", "mean")


def dsm_loss(score: Tensor, eps: Tensor, t: Tensor, sde: VESDE, weighting: str = "sigma2",
             reduction: str = "sum") -> Tensor:
    """Per-example DSM loss (N,): ``||sigma_t score + eps||^2`` or ``g(t)^2 ||score + eps / sigma_t||^2``.

    ``score`` and ``eps`` are (N, ...), ``t`` is (N,); the squares are reduced
    over every non-batch dimension by ``reduction`` (``"sum"``, ``"half-sum"``:
    0.5 x the sum as the official traj_drl ``losses.py`` line 72, ``"mean"``).
    """
    if score.shape != eps.shape:
        raise ValueError(f"score {tuple(score.shape)} and eps {tuple(eps.shape)} must have the same shape")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    std = sde.sigma(t).reshape(-1, *([1] * (score.dim() - 1)))
    per = (std * score + eps) if weighting == "sigma2" else (score + eps / std)
    per = per.square().reshape(per.shape[0], -1)
    reduced = per.mean(1) if reduction == "mean" else per.sum(1) * (0.5 if reduction == "half-sum" else 1.0)
    return reduced if weighting == "sigma2" else reduced * sde.g2(t)


def gaussian_kl(mean: Tensor, log_var: Tensor) -> Tensor:
    """``KL(N(mean, diag exp(log_var)) || N(0, I))`` per example (N,), via ``torch.distributions``."""
    from torch.distributions import Normal, kl_divergence  # noqa: PLC0415

    posterior = Normal(mean, torch.exp(0.5 * log_var), validate_args=False)
    prior = Normal(torch.zeros_like(mean), torch.ones_like(mean), validate_args=False)
    return kl_divergence(posterior, prior).sum(-1)


def latent_penalty(mean: Tensor, log_var: Tensor | None, kind: str) -> Tensor:
    """Per-example latent penalty (N,): ``"kl"`` (probabilistic encoder), ``"l1"`` (deterministic: ``|mean|_1``) or ``"none"``."""
    if kind == "kl":
        if log_var is None:
            raise ValueError("latent penalty 'kl' needs the encoder's log-variance (a probabilistic encoder)")
        return gaussian_kl(mean, log_var)
    if kind == "l1":
        return mean.abs().sum(-1)
    if kind == "none":
        return torch.zeros(mean.shape[0], dtype=mean.dtype, device=mean.device)
    raise ValueError(f"latent penalty must be 'kl', 'l1' or 'none', got {kind!r}")
