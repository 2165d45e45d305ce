"""Closed-form learning dynamics of the paper's analytical model: per-mode linear vs logistic dynamics.

A linear predictor ``f(x) = <theta, x>`` trained by gradient flow on
``c * sum_i (f(x_i) - y_i)^2`` decouples along the right singular vectors
``v_k`` of the inputs ``X`` (eigenvalues ``mu_k`` of ``X^T X``, label
alignment ``y~_k = |<v_k, X^T y>|``). Per mode ``k`` with initial value
``theta0`` and target ``theta*_k`` (George et al. 2022, Section 3; the
reference's normalisation is ``c = 1/2``):

* linear (lazy / kernel) dynamics: ``theta_k(t) = theta*_k + exp(-4 c mu_k theta0 t) (theta0 - theta*_k)``,
  rates ``~ mu_k``;
* non-linear (two-layer ``theta = u v``, rich) dynamics, a logistic equation:
  ``theta_k(t) = theta*_k theta0 / (theta0 + (theta*_k - theta0) exp(-4 c y~_k t))``,
  rates ``~ y~_k``, sigmoidal, hence sequential learning.

For the diagonal network of :mod:`etude_lazy_hasty.diagonal` trained on
``(1/alpha^2) L(alpha (f - f0))`` the dynamics are logistic for *every*
``alpha`` (:func:`diagonal_function`): ``theta*_k = sigma^2 + y_k / (alpha
sqrt(mu_k))`` and rate ``4 c mu_k theta*_k``; ``alpha -> inf`` gives the
linear (lazy) limit ``g_k(t) = y_k (1 - exp(-4 c sigma^2 mu_k t))``
(:func:`lazy_function`). :func:`half_loss_time` inverts them in closed form.

The three worked examples: :func:`example1` (``x = diag(sqrt(mu))``, label
alignment reversed), :func:`example2` (20 examples, 5 flipped labels,
``d = 200``, ``eta = 5`` memorisation features), :func:`example3` (a
spurious feature of strength ``lambda`` for 15 of 20 examples), with
:func:`mode_dynamics` giving every example's squared error in both regimes.

References:
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658, Section 3.
    A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the nonlinear dynamics of learning in
    deep linear neural networks", ICLR 2014, arXiv:1312.6120.

Examples:
    >>> import torch
    >>> x, y, info = example1()
    >>> mu = info["mu"]
    >>> rich = half_loss_time(mu, y, sigma=1e-3, alpha=1.0)
    >>> lazy = half_loss_time(mu, y, sigma=1e-3, alpha=1e8)
    >>> bool((rich.diff() < 0).all()), bool((lazy.diff() > 0).all())  # opposite orders
    (True, True)
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

_HALF = 1.0 - 1.0 / math.sqrt(2.0)  # g = y (1 - 1/sqrt 2): squared error y^2 / 2


def _t(value) -> Tensor:
    return torch.as_tensor(value, dtype=torch.float64)


def linear_dynamics(t, mu, theta_star, theta0, c: float = 0.5) -> Tensor:
    """``theta*_k + exp(-4 c mu_k theta0 t) (theta0 - theta*_k)``: ``t`` (T, 1) or scalar, modes broadcast last."""
    t, mu, ts, t0 = _t(t), _t(mu), _t(theta_star), _t(theta0)
    return ts + torch.exp(-4 * c * mu * t0 * t) * (t0 - ts)


def logistic_dynamics(t, rate, theta_star, theta0, c: float = 0.5) -> Tensor:
    """``theta* theta0 / (theta0 + (theta* - theta0) exp(-4 c rate t))`` (rate = ``y~_k``; ``theta* = 0``: 0)."""
    t, rate, ts, t0 = _t(t), _t(rate), _t(theta_star), _t(theta0)
    return ts * t0 / (t0 + (ts - t0) * torch.exp(-4 * c * rate * t))


def diagonal_theta_star(mu, y, sigma: float, alpha: float) -> Tensor:
    """Fixed point ``sigma^2 + y_k / (alpha sqrt(mu_k))`` of ``theta_k = u_k v_k`` at scale ``alpha``."""
    mu, y = _t(mu), _t(y)
    return sigma**2 + y / (alpha * mu.sqrt())


def diagonal_function(t, mu, y, sigma: float, alpha: float, c: float = 1.0) -> Tensor:
    """The trained function ``g_k(t) = alpha sqrt(mu_k) (theta_k(t) - sigma^2)`` on example ``k``, exact for any alpha.

    Gradient flow (time ``t = lr * steps``) on ``(c / alpha^2) sum_k (g_k - y_k)^2``
    with ``u = v = sigma`` at ``t = 0`` keeps ``u = v`` and gives
    ``d theta / dt = 4 c mu theta (theta* - theta)``: logistic with rate ``4 c mu theta*``.
    ``c = 1``: summed squared errors; ``c = 1/n``: their mean (the core loop's ``mse``).
    """
    mu, y = _t(mu), _t(y)
    ts = diagonal_theta_star(mu, y, sigma, alpha)
    theta = logistic_dynamics(t, mu * ts, ts, sigma**2, c=c)
    return alpha * mu.sqrt() * (theta - sigma**2)


def lazy_function(t, mu, y, sigma: float, c: float = 1.0) -> Tensor:
    """The ``alpha -> inf`` limit of :func:`diagonal_function`: ``y_k (1 - exp(-4 c sigma^2 mu_k t))``."""
    t, mu, y = _t(t), _t(mu), _t(y)
    return y * (1 - torch.exp(-4 * c * sigma**2 * mu * t))


def half_loss_time(mu, y, sigma: float, alpha: float, c: float = 1.0) -> Tensor:
    """Time at which example ``k``'s squared error halves (``g_k = (1 - 1/sqrt 2) y_k``), closed form.

    ``alpha = float('inf')`` gives the lazy limit ``-ln(1 - h) / (4 c sigma^2 mu_k)``, ``h = 1 - 1/sqrt 2``.
    """
    mu, y = _t(mu), _t(y)
    if math.isinf(alpha):
        return -math.log(1 - _HALF) / (4 * c * sigma**2 * mu)
    t0 = sigma**2
    ts = diagonal_theta_star(mu, y, sigma, alpha)
    th = t0 + _HALF * (ts - t0)
    rate = 4 * c * mu * ts
    return -torch.log(t0 * (ts - th) / (th * (ts - t0))) / rate


def example1(mu=(9.0, 8.0, 7.0, 6.0, 5.0)) -> tuple[Tensor, Tensor, dict]:
    """``X = diag(sqrt(mu))``, ``y_k = mu_{d+1-k} / sqrt(mu_k)``: label alignment in reverse order of ``mu``."""
    mu = _t(mu)
    y = mu.flip(0) / mu.sqrt()
    return torch.diag(mu.sqrt()), y, {"mu": mu, "label_alignment": mu.sqrt() * y}


def example2(seed: int = 0, n: int = 20, flipped: int = 5, eta: float = 5.0, d: int = 200) -> tuple[Tensor, Tensor, dict]:
    """Label noise: feature 0 is the clean label, features 1..n one per example (scale ``eta``); ``flipped`` labels
    are negated. ``info["noisy"]`` marks them; targets are the noisy labels."""
    rng = np.random.default_rng(seed)
    kappa = np.ones(n)
    kappa[rng.permutation(n)[:flipped]] = -1
    y = rng.integers(0, 2, size=n) * 2 - 1
    x = np.concatenate([y[:, None], np.diag([eta] * n), np.zeros((n, d - n - 1))], axis=1)
    return _t(x), _t(kappa * y), {"noisy": torch.from_numpy(kappa < 0), "clean_targets": _t(y)}


def example3(seed: int = 0, n: int = 20, without: int = 5, eta: float = 10.0, lam: float = 1.0,
             d: int = 200) -> tuple[Tensor, Tensor, dict]:
    """Spurious feature: feature 0 carries the label ``y``, feature 1 ``lam * kappa * y``, with ``kappa = -1`` for
    ``without`` examples (the group without the spurious correlation); targets ``kappa * y``.
    ``info["spurious"]`` marks the examples whose spurious feature agrees with the target."""
    rng = np.random.default_rng(seed)
    kappa = np.ones(n)
    kappa[rng.permutation(n)[:without]] = -1
    y = rng.integers(0, 2, size=n) * 2 - 1
    x = np.concatenate([y[:, None], (lam * kappa * y)[:, None], np.diag([eta] * n), np.zeros((n, d - n - 2))], axis=1)
    return _t(x), _t(kappa * y), {"spurious": torch.from_numpy(kappa > 0)}


def mode_dynamics(x: Tensor, y: Tensor, t: Tensor, sigma: float, c: float = 0.5) -> dict[str, Tensor]:
    """Per-example squared errors (T, n) under linear and logistic per-mode dynamics at times ``t`` (T,).

    Modes: ``X = U S V^T`` (full ``V``); ``theta*`` the minimum-norm least-squares solution;
    in the basis ``V`` with signs chosen so that ``theta*_k >= 0``, every mode starts at
    ``theta0 = sigma`` and follows :func:`linear_dynamics` (rate ``mu_k``) or
    :func:`logistic_dynamics` (rate ``y~_k = |<v_k, X^T y>|``); modes with ``theta*_k = 0``
    are 0 in the logistic case (as in the reference); modes with ``mu_k = 0`` do not affect predictions.
    """
    x, y, t = _t(x), _t(y), _t(t).reshape(-1, 1)
    _, s, vh = torch.linalg.svd(x, full_matrices=True)
    mu = torch.zeros(vh.shape[0], dtype=torch.float64)
    mu[: s.shape[0]] = s**2
    theta_star = torch.linalg.lstsq(x, y.unsqueeze(1), driver="gelsd").solution.squeeze(1)
    proj = vh @ theta_star
    vh = torch.where(proj < 0, -1.0, 1.0).unsqueeze(1) * vh
    ts = proj.abs()
    ytilde = (vh @ (x.T @ y)).abs()
    lin = linear_dynamics(t, mu, ts, sigma, c) @ vh
    nonlin = torch.where(ts > 0, logistic_dynamics(t, ytilde, ts, sigma, c), torch.zeros(())) @ vh
    return {"linear": (lin @ x.T - y) ** 2, "nonlinear": (nonlin @ x.T - y) ** 2, "mu": mu, "label_alignment": ytilde}


__all__ = [
    "diagonal_function",
    "diagonal_theta_star",
    "example1",
    "example2",
    "example3",
    "half_loss_time",
    "lazy_function",
    "linear_dynamics",
    "logistic_dynamics",
    "mode_dynamics",
]
