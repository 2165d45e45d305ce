"""Variational lower bounds on mutual information and the MINE moving-average correction.

All functions take critic scores ``T(x, y)`` and return nats. The joint scores
``t_joint`` are ``T(x_i, y_i)`` on paired samples; the marginal scores
``t_marginal`` are ``T(x_i, y_j)`` on samples of the product of marginals
(re-paired, see :func:`derangement`).

- Donsker-Varadhan (MINE):   ``mean T_joint - log mean exp T_marginal``
- f-divergence / NWJ (MINE-f): ``mean T_joint - mean exp(T_marginal - 1)``
- InfoNCE (Oord et al. 2018): ``mean_i [S_ii - log sum_j exp S_ij] + log b`` on a
  (b, b) score matrix ``S_ij = T(x_i, y_j)``; it can never exceed ``log b``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def log_mean_exp(t: Tensor, dim: int | None = None) -> Tensor:
    """``log(mean(exp(t)))`` computed stably with ``torch.logsumexp``."""
    if dim is None:
        t, dim = t.reshape(-1), 0
    return torch.logsumexp(t, dim=dim) - math.log(t.shape[dim])


def dv_bound(t_joint: Tensor, t_marginal: Tensor) -> Tensor:
    """Donsker-Varadhan bound ``E_P[T] - log E_Q[e^T]`` (invariant to adding a constant to T)."""
    return t_joint.mean() - log_mean_exp(t_marginal)


def nwj_bound(t_joint: Tensor, t_marginal: Tensor) -> Tensor:
    """f-divergence (NWJ, "MINE-f") bound ``E_P[T] - E_Q[e^(T-1)]``; tight at T = 1 + log density ratio."""
    return t_joint.mean() - torch.exp(t_marginal - 1.0).mean()


def infonce_bound(scores: Tensor) -> Tensor:
    """InfoNCE bound on a (..., b, b) score matrix with positives on the diagonal; at most ``log b``."""
    b = scores.shape[-1]
    if scores.shape[-2] != b:
        raise ValueError(f"infonce_bound: scores must be square (..., b, b), got shape {tuple(scores.shape)}")
    diag = scores.diagonal(dim1=-2, dim2=-1)
    return (diag - torch.logsumexp(scores, dim=-1)).mean() + math.log(b)


def off_diagonal(scores: Tensor) -> Tensor:
    """The b(b-1) off-diagonal entries of a (b, b) matrix (the product-of-marginals pairs)."""
    b = scores.shape[-1]
    mask = ~torch.eye(b, dtype=torch.bool, device=scores.device)
    return scores[..., mask]


def derangement(n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None) -> Tensor:
    """A random permutation ``sigma`` of ``range(n)`` with no fixed point (``sigma[i] != i``), for n >= 2.

    Built as a random n-cycle: draw a permutation ``p`` and map ``p[k] -> p[k+1]``,
    so re-pairing ``x[i]`` with ``y[sigma[i]]`` never keeps an original pair.
    """
    if n < 2:
        raise ValueError(f"derangement needs n >= 2, got {n}")
    p = torch.randperm(n, generator=generator)
    sigma = torch.empty_like(p)
    sigma[p] = p.roll(-1)
    return sigma.to(device) if device is not None else sigma


class MovingAverage:
    """Exponential moving average of ``E_B[e^T]`` kept in log space (MINE, section 3.2).

    ``rate`` is the weight on the NEW value (the paper's small constant, e.g.
    0.01): ``mu_t = (1 - rate) * mu_{t-1} + rate * m_t``. The first update
    uses ``m_1`` as is (log-space state initialised to -inf, as in bmi). In
    log space: ``log mu_t = logaddexp(log(1 - rate) + log mu_{t-1}, log(rate) + log m_t)``.
    """

    def __init__(self, rate: float = 0.01) -> None:
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"MovingAverage: rate must be in (0, 1], got {rate!r}")
        self.rate = float(rate)
        self.log_value: Tensor | None = None

    def reset(self) -> None:
        self.log_value = None

    def update(self, log_batch_mean: Tensor) -> Tensor:
        """Fold in ``log m_t`` (a detached 0-d tensor); returns ``log mu_t``."""
        log_m = log_batch_mean.detach()
        if self.log_value is None or not torch.isfinite(self.log_value):
            self.log_value = log_m.clone()
        elif self.rate == 1.0:
            self.log_value = log_m.clone()
        else:
            self.log_value = torch.logaddexp(
                self.log_value.to(log_m) + math.log1p(-self.rate), log_m + math.log(self.rate)
            )
        return self.log_value

    @property
    def value(self) -> float:
        return float("nan") if self.log_value is None else float(torch.exp(self.log_value))


def dv_corrected(t_joint: Tensor, t_marginal: Tensor, log_mu: Tensor) -> Tensor:
    """The DV value whose gradient uses the moving average ``mu`` in the denominator.

    Forward value: exactly :func:`dv_bound`. Gradient:
    ``E_B[grad T_joint] - E_B[grad T_marg * e^T_marg] / mu`` (the paper's
    bias-corrected estimate), obtained from ``exp(lme - stopgrad(log mu))``.
    """
    lme = log_mean_exp(t_marginal)
    ratio = torch.exp(lme - log_mu.detach())
    return t_joint.mean() - (lme.detach() + ratio - ratio.detach())
