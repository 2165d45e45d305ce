"""Closed forms for linear-Gaussian SCMs: implied mean and covariance, conditionals, exact KLs.

A linear-Gaussian SCM ``x = W x + b + e``, ``e ~ N(0, diag(d))`` (``W[i, j]``
the weight of ``x_j`` in ``x_i``'s mechanism) implies ``x ~ N(mu, Sigma)`` with
``mu = (I - W)^{-1} b`` and ``Sigma = (I - W)^{-1} diag(d) (I - W)^{-T}``. A
hard intervention ``do(x_k = c)`` zeroes row ``k`` of ``W`` and sets
``b_k = c``, ``d_k = 0``. Conditionals ``p(x_i | x_S)`` follow by Gaussian
conditioning, and every KL divergence here is exact.

References:
    B. Schölkopf et al. "Toward Causal Representation Learning". Proceedings
    of the IEEE, 2021. arXiv:2102.11107 (Sec. 4: the sparse mechanism shift
    hypothesis, tested exactly on linear-Gaussian SCMs).

Example:
    >>> import torch
    >>> from etude_scm import CausalGraph, LinearGaussian, SCM
    >>> scm = SCM(CausalGraph(["A", "B"], [("A", "B")]), {"A": LinearGaussian(), "B": LinearGaussian([2.0])})
    >>> mu, cov = implied_gaussian(scm)
    >>> cov.tolist()
    [[1.0, 2.0], [2.0, 5.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "conditional_gaussian",
    "expected_conditional_kl",
    "gaussian_kl",
    "implied_gaussian",
    "linear_gaussian_parameters",
]


def linear_gaussian_parameters(scm) -> tuple[Tensor, Tensor, Tensor]:
    """``(W, b, d)`` in float64 over ``scm.nodes`` (index order); every mechanism must be LinearGaussian."""
    from .mechanisms import LinearGaussian  # noqa: PLC0415

    nodes = scm.nodes
    n = len(nodes)
    W = torch.zeros(n, n, dtype=torch.float64)
    b = torch.zeros(n, dtype=torch.float64)
    d = torch.zeros(n, dtype=torch.float64)
    for i, v in enumerate(nodes):
        if v in scm.interventions:
            value = torch.as_tensor(scm.interventions[v], dtype=torch.float64)
            if value.ndim:
                raise ValueError(f"do({v}=...) must be a scalar for closed forms, got shape {tuple(value.shape)}")
            b[i] = value
            continue
        m = scm.mechanisms[v]
        if not isinstance(m, LinearGaussian):
            raise TypeError(f"node {v!r} has a {type(m).__name__} mechanism; closed forms need LinearGaussian everywhere")
        for j, p in enumerate(scm.mechanism_graph.parents(v)):
            W[i, nodes.index(p)] = float(m.weight[j].detach())
        b[i] = float(m.bias.detach())
        d[i] = float(m.scale.detach()) ** 2
    return W, b, d


def implied_gaussian(scm) -> tuple[Tensor, Tensor]:
    """Mean ``(n,)`` and covariance ``(n, n)`` (float64) of the SCM's joint distribution."""
    W, b, d = linear_gaussian_parameters(scm)
    A = torch.linalg.inv(torch.eye(W.shape[0], dtype=W.dtype) - W)
    return A @ b, A @ torch.diag(d) @ A.T


def conditional_gaussian(mean: Tensor, cov: Tensor, i: int, given: Sequence[int]) -> tuple[Tensor, Tensor, Tensor]:
    """``x_i | x_S ~ N(intercept + coef . x_S, var)``: returns ``(coef, intercept, var)``."""
    given = list(given)
    if not given:
        return torch.zeros(0, dtype=cov.dtype), mean[i], cov[i, i]
    S = torch.tensor(given)
    coef = torch.linalg.solve(cov[S][:, S], cov[S, i])
    intercept = mean[i] - coef @ mean[S]
    var = cov[i, i] - cov[i, S] @ coef
    return coef, intercept, var


def gaussian_kl(mean_p: Tensor, cov_p: Tensor, mean_q: Tensor, cov_q: Tensor) -> Tensor:
    """``KL(N(mean_p, cov_p) || N(mean_q, cov_q))`` for vectors/matrices, or scalars (means, variances)."""
    mean_p, mean_q = torch.atleast_1d(mean_p), torch.atleast_1d(mean_q)
    cov_p, cov_q = torch.atleast_2d(cov_p), torch.atleast_2d(cov_q)
    k = mean_p.shape[0]
    diff = mean_q - mean_p
    solve = torch.linalg.solve(cov_q, torch.cat([cov_p, diff.unsqueeze(1)], dim=1))
    trace = torch.diagonal(solve[:, :k]).sum()
    maha = diff @ solve[:, k]
    return 0.5 * (trace + maha - k + torch.logdet(cov_q) - torch.logdet(cov_p))


def expected_conditional_kl(mean_p, cov_p, mean_q, cov_q, i: int, given: Sequence[int]) -> Tensor:
    """``E_{x_S ~ p}[ KL(p(x_i | x_S) || q(x_i | x_S)) ]``, exact (zero iff the conditionals agree)."""
    cp, ap, vp = conditional_gaussian(mean_p, cov_p, i, given)
    cq, aq, vq = conditional_gaussian(mean_q, cov_q, i, given)
    given = list(given)
    dc, da = cq - cp, aq - ap
    if given:
        S = torch.tensor(given)
        second = (da + dc @ mean_p[S]) ** 2 + dc @ cov_p[S][:, S] @ dc
    else:
        second = da**2
    return 0.5 * (torch.log(vq / vp) + (vp + second) / vq - 1)
