"""Metrics of a posterior estimate: predictive L2 / accuracy, closest-mean L2, predictive log-likelihood,
symmetric KL to a Gaussian posterior, and W2 to reference samples (POT).

Predictive metrics follow the paper (section 4): for theta_s ~ q(. | D) and
held-out (x*, y*) of the same dataset, ``E_s mean_m METRIC(yhat(x*_m; theta_s), y*_m)``
with yhat the mode of p(y | x*, theta) (L2 for regression, accuracy for
classification; for GM the squared distance of theta to held-out points,
summed over dimensions, for GMM the distance to the closest mean).

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025),
    section 4 and Tables 1, 5 and 6.

Examples:
    >>> import torch
    >>> from etude_amortized_posterior.models import LinearRegression
    >>> m = LinearRegression(dim=2); theta = torch.randn(3, 3); xq = torch.randn(3, 5, 2)
    >>> float(predictive_l2(m, theta.unsqueeze(0), xq, m.predict(theta, xq)).max())
    0.0
"""

from __future__ import annotations

import math

import pyro.distributions as dist
import torch
from torch import Tensor


def predictive_l2(model, theta: Tensor, x_query: Tensor, y_query: Tensor) -> Tensor:
    """Per-dataset E_s mean_m ||yhat(x*_m; theta_s) - y*_m||^2 for theta (S, D, P): shape (D,).

    For GM ``y_query`` is ignored and the held-out points ``x_query`` are the targets.
    """
    pred = model.predict(theta, x_query)  # (S, D, M) or (S, D, M, d)
    target = x_query if not model.supervised else y_query
    err = (pred - target) ** 2
    if err.dim() == theta.dim() + 1:  # vector-valued predictions: sum over dimensions
        err = err.sum(-1)
    return err.mean(-1).mean(0)


def closest_mean_l2(means: Tensor, x_query: Tensor) -> Tensor:
    """GMM: mean_m min_k ||mu_k - x*_m||^2 for means (S, D, K, d): (D,). Invariant to relabelling the k."""
    sq = ((x_query.unsqueeze(-2).unsqueeze(0) - means.unsqueeze(-3)) ** 2).sum(-1)  # (S, D, M, K)
    return sq.amin(-1).mean(-1).mean(0)


def predictive_accuracy(model, theta: Tensor, x_query: Tensor, y_query: Tensor) -> Tensor:
    """Per-dataset E_s mean_m 1[argmax p(y | x*_m, theta_s) = y*_m], in percent: (D,)."""
    pred = model.predict(theta, x_query)
    return 100.0 * (pred == y_query.long()).to(x_query.dtype).mean(-1).mean(0)


def predictive_log_likelihood(model, theta: Tensor, x_query: Tensor, y_query: Tensor | None) -> Tensor:
    """Per-dataset mean_m log (1/S) sum_s p(y*_m | x*_m, theta_s), the posterior predictive density: (D,)."""
    lik = model._likelihood(theta, x_query, None)
    obs = y_query if model.supervised else x_query
    logp = lik.log_prob(obs)  # (S, D, M)
    return (torch.logsumexp(logp, dim=0) - math.log(theta.shape[0])).mean(-1)


def gaussian_moments(q) -> tuple[Tensor, Tensor]:
    """(mean (D, P), covariance (D, P, P)) of a Gaussian posterior (diagonal Normal or MultivariateNormal)."""
    if isinstance(q, dist.MultivariateNormal) or isinstance(q, torch.distributions.MultivariateNormal):
        return q.loc, q.covariance_matrix
    base = q.base_dist if isinstance(q, (dist.Independent, torch.distributions.Independent)) else q
    if not isinstance(base, (dist.Normal, torch.distributions.Normal)):
        raise TypeError(f"symmetric KL needs a Gaussian q (diagonal Normal or MultivariateNormal), got {type(q).__name__}")
    return base.loc, torch.diag_embed(base.scale**2)


def gaussian_kl(m0: Tensor, s0: Tensor, m1: Tensor, s1: Tensor) -> Tensor:
    """KL(N(m0, S0) || N(m1, S1)) = 1/2 [tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - P + log det S1 - log det S0]."""
    p = m0.shape[-1]
    l1 = torch.linalg.cholesky(s1)
    sol = torch.cholesky_solve(s0, l1)
    diff = (m1 - m0).unsqueeze(-1)
    maha = (diff * torch.cholesky_solve(diff, l1)).sum((-2, -1))
    logdet1 = 2 * torch.log(torch.diagonal(l1, dim1=-2, dim2=-1)).sum(-1)
    logdet0 = torch.linalg.slogdet(s0)[1]
    return 0.5 * (torch.diagonal(sol, dim1=-2, dim2=-1).sum(-1) + maha - p + logdet1 - logdet0)


def symmetric_kl(q, p) -> Tensor:
    """KL(q || p) + KL(p || q) per dataset for Gaussians q, p with batch (D,): (D,). Full-covariance formula."""
    mq, sq = gaussian_moments(q)
    mp, sp = gaussian_moments(p)
    mq, sq, mp, sp = (t.double() for t in (mq, sq, mp, sp))
    return (gaussian_kl(mq, sq, mp, sp) + gaussian_kl(mp, sp, mq, sq)).to(q.mean.dtype)


def wasserstein2(samples: Tensor, reference: Tensor) -> Tensor:
    """Squared 2-Wasserstein distance per dataset between sample sets (S, D, P) and (R, D, P), exact OT (POT): (D,)."""
    import ot  # noqa: PLC0415

    out = []
    for d in range(samples.shape[1]):
        a, b = samples[:, d].double(), reference[:, d].double()
        cost = torch.cdist(a, b).square()
        out.append(ot.emd2(torch.full((a.shape[0],), 1.0 / a.shape[0], dtype=a.dtype),
                           torch.full((b.shape[0],), 1.0 / b.shape[0], dtype=b.dtype), cost))
    return torch.stack([torch.as_tensor(v) for v in out]).to(samples.dtype)


def evaluate(model, q, data: dict, *, num_samples: int = 25) -> dict[str, float]:
    """Predictive metrics of a posterior q (batch (D,)) on held-out queries, averaged over datasets."""
    with torch.no_grad():
        theta = q.sample((num_samples,))
    out: dict[str, float] = {}
    xq, yq = data["x_query"], data.get("y_query")
    if model.name == "gaussian-mixture":
        out["closest_mean_l2"] = float(closest_mean_l2(model.means(theta), xq).mean())
    elif model.classification:
        out["accuracy"] = float(predictive_accuracy(model, theta, xq, yq).mean())
    else:
        out["l2"] = float(predictive_l2(model, theta, xq, yq).mean())
    out["predictive_loglik"] = float(predictive_log_likelihood(model, theta, xq, yq).mean())
    return out
