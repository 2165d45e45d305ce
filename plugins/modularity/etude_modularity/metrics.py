"""Specialisation metrics: did the modules specialise to the ground-truth factors (rules)?

A stable public library (used by ``etude-meta-rims`` and ``etude-brims``):
works for any routing a model records, soft (mixtures of experts, attention
over modules: ``(n, M)`` probabilities) or hard (RIMs' top-k: an ``(n, M)``
bool mask, normalised per row, so k of M active gives mass 1/k each).

The usage matrix is a *joint* distribution over (factor g, module m):
``P[g, m] = prior(g) * mean routing of module m on examples of factor g``
(``prior="uniform"``: 1/G, as the paper; ``"empirical"``: the factor's
frequency). With module marginal ``q_m = sum_g P[g, m]`` (Mittal et al. 2022,
Section 4; every metric lies in [0, 1] and lower is better):

- Collapse-Avg  = M/(M-1) * sum_m max(1/M - q_m, 0)
- Collapse-Worst = 1 - M * min_m q_m
- inverse MI    = (log min(G, M) - MI(P)) / log min(G, M)  (the paper's log R when G = M = R)
- Alignment     = sum |Pi - G P| / (2G), Pi the permutation matrix best matching G P (Hungarian; G = M)
- Adaptation    = E_{p ~ Dir(1)} 1/2 sum |sort(p) - sort(u(p))|, u(p) the mean usage on data drawn under prior p

Uniform usage (the random reference) gives collapse 0, inverse MI 1 and
alignment (R-1)/R; perfect specialisation (P = Pi/R) gives 0 everywhere.
All metrics are invariant to relabelling the modules. Computation is in
float64 on CPU; inputs are validated (NaN, negative mass, rows not summing
to 1, factors out of range) with the argument named.

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> import torch
    >>> rules = torch.arange(4).repeat(25)
    >>> routing = torch.nn.functional.one_hot((rules + 1) % 4, 4).float()   # specialised, permuted
    >>> report = specialisation_report(routing, rules, 4)
    >>> round(report.inverse_mi, 6), round(report.alignment, 6), round(report.collapse_avg, 6)
    (0.0, 0.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import torch
from torch import Tensor

_ATOL = 1e-4


def _as_routing(routing: Any, name: str = "routing") -> Tensor:
    """(n, M) float64 probabilities; a bool mask is normalised per row."""
    r = torch.as_tensor(routing).detach().cpu()
    if r.dim() != 2 or r.shape[0] < 1 or r.shape[1] < 1:
        raise ValueError(f"{name} must be (n, M) probabilities or a bool mask with n, M >= 1, got shape {tuple(r.shape)}")
    if r.dtype == torch.bool:
        active = r.sum(1)
        if bool((active == 0).any()):
            row = int(torch.nonzero(active == 0)[0])
            raise ValueError(f"{name} is a bool mask with no active module in row {row}; every row needs >= 1 True")
        return r.double() / active.unsqueeze(1).double()
    r = r.double()
    if not bool(torch.isfinite(r).all()):
        raise ValueError(f"{name} contains NaN or inf; pass finite routing probabilities")
    if bool((r < 0).any()):
        raise ValueError(f"{name} has negative mass (min {float(r.min()):.3g}); pass probabilities >= 0")
    sums = r.sum(1)
    bad = (sums - 1).abs() > _ATOL
    if bool(bad.any()):
        row = int(torch.nonzero(bad)[0])
        raise ValueError(f"{name} rows must sum to 1 (row {row} sums to {float(sums[row]):.6g}); "
                         "apply softmax over modules, or pass a bool mask")
    return r


def _as_factor(factor: Any, n: int, num_factors: int) -> Tensor:
    if isinstance(num_factors, bool) or not isinstance(num_factors, int) or num_factors < 1:
        raise ValueError(f"num_factors must be a positive int, got {num_factors!r}")
    f = torch.as_tensor(factor).detach().cpu()
    if f.dim() != 1 or f.shape[0] != n:
        raise ValueError(f"factor must be (n,) = ({n},) integer labels matching routing's rows, got shape {tuple(f.shape)}")
    if f.is_floating_point() or f.dtype == torch.bool:
        raise ValueError(f"factor must hold integer labels, got dtype {f.dtype}")
    f = f.long()
    if n and (int(f.min()) < 0 or int(f.max()) >= num_factors):
        raise ValueError(f"factor values must lie in [0, num_factors={num_factors}), got range "
                         f"[{int(f.min())}, {int(f.max())}]")
    return f


def _as_usage(P: Any, name: str = "P") -> Tensor:
    p = torch.as_tensor(P).detach().cpu().double()
    if p.dim() != 2:
        raise ValueError(f"{name} must be a (G, M) joint usage matrix, got shape {tuple(p.shape)}")
    if not bool(torch.isfinite(p).all()) or bool((p < 0).any()):
        raise ValueError(f"{name} must be finite and >= 0")
    if abs(float(p.sum()) - 1) > _ATOL:
        raise ValueError(f"{name} must be a joint distribution summing to 1, sums to {float(p.sum()):.6g} "
                         "(use usage_matrix, which scales by the factor prior)")
    return p


def conditional_usage(routing: Any, factor: Any, num_factors: int) -> Tensor:
    """(G, M) mean routing per factor, rows summing to 1 (``U[g, m] = E[routing_m | factor = g]``)."""
    r = _as_routing(routing)
    f = _as_factor(factor, r.shape[0], num_factors)
    counts = torch.bincount(f, minlength=num_factors).double()
    if bool((counts == 0).any()):
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"factor has no example of {missing} (of num_factors={num_factors}); "
                         "pass more examples or prior='empirical'")
    sums = torch.zeros(num_factors, r.shape[1], dtype=torch.float64).index_add_(0, f, r)
    return sums / counts.unsqueeze(1)


def usage_matrix(routing: Any, factor: Any, num_factors: int, prior: str = "uniform") -> Tensor:
    """The (G, M) joint usage P of factors (rows) and modules (columns), float64, summing to 1.

    Args:
        routing: (n, M) routing probabilities (rows sum to 1) or a bool active mask.
        factor: (n,) integer ground-truth factor (rule) of each example, in [0, num_factors).
        num_factors: G.
        prior: ``"uniform"`` (P[g] = U[g] / G, the paper) or ``"empirical"`` (factor frequencies).
    """
    if prior == "uniform":
        return conditional_usage(routing, factor, num_factors) / num_factors
    if prior == "empirical":
        r = _as_routing(routing)
        f = _as_factor(factor, r.shape[0], num_factors)
        return torch.zeros(num_factors, r.shape[1], dtype=torch.float64).index_add_(0, f, r) / r.shape[0]
    raise ValueError(f"prior must be 'uniform' or 'empirical', got {prior!r}")


def collapse_avg(P: Any) -> float:
    """M/(M-1) sum_m max(1/M - q_m, 0): 0 when every module is used equally, 1 when one takes all (M >= 2)."""
    p = _as_usage(P)
    m = p.shape[1]
    if m < 2:
        raise ValueError("collapse_avg needs M >= 2 modules (P's columns)")
    q = p.sum(0)
    return float(m / (m - 1) * (1.0 / m - q).clamp_min(0).sum())


def collapse_worst(P: Any) -> float:
    """1 - M min_m q_m: 0 when every module is used equally, 1 when some module is never used."""
    p = _as_usage(P)
    return float(1 - p.shape[1] * p.sum(0).min())


def mutual_information(P: Any) -> float:
    """MI of the joint P in nats (0 log 0 = 0)."""
    p = _as_usage(P)
    outer = p.sum(1, keepdim=True) * p.sum(0, keepdim=True)
    mask = p > 0
    return float((p[mask] * (p[mask] / outer[mask]).log()).sum())


def inverse_mutual_information(P: Any) -> float:
    """(log min(G, M) - MI(P)) / log min(G, M): 0 for a one-to-one factor-module map, 1 for independence."""
    p = _as_usage(P)
    k = min(p.shape)
    if k < 2:
        raise ValueError(f"inverse_mutual_information needs G, M >= 2, got P of shape {tuple(p.shape)}")
    value = (math.log(k) - mutual_information(p)) / math.log(k)
    return float(min(max(value, 0.0), 1.0))


def alignment(P: Any) -> float:
    """sum |Pi - G P| / (2G) for the permutation Pi best matching G P (Hungarian); needs G = M."""
    p = _as_usage(P)
    g, m = p.shape
    if g != m:
        raise ValueError(f"alignment needs a square P (as many modules as factors), got {g} x {m}; "
                         "use collapse / inverse MI for rectangular usage")
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    scaled = (g * p).numpy()
    rows, cols = linear_sum_assignment(scaled, maximize=True)
    perm = np.zeros_like(scaled)
    perm[rows, cols] = 1.0
    return float(np.abs(perm - scaled).sum() / (2 * g))


def _dirichlet_ones(draws: int, k: int, generator: torch.Generator | None) -> Tensor:
    """``draws`` samples of Dirichlet(1, ..., 1): normalised Exp(1) variables (float64, reproducible)."""
    e = -torch.rand(draws, k, generator=generator, dtype=torch.float64).clamp_min(1e-300).log()
    return e / e.sum(1, keepdim=True)


def _total_variation_sorted(p: Tensor, u: Tensor) -> float:
    k = max(p.numel(), u.numel())
    pp = torch.zeros(k, dtype=torch.float64)
    uu = torch.zeros(k, dtype=torch.float64)
    pp[:p.numel()] = p.sort(descending=True).values
    uu[:u.numel()] = u.sort(descending=True).values
    return float((pp - uu).abs().sum() / 2)


def adaptation(usage_under_prior: Callable[[Tensor], Any] | Any, rules: int, draws: int = 100,
               generator: torch.Generator | None = None) -> float:
    """Mean total variation between sorted rule priors p ~ Dirichlet(1) and sorted mean module usage under p.

    ``usage_under_prior`` is either a callable ``prior (R,) -> routing`` (the
    model's (n, M) routing on data drawn with rule probabilities ``prior``,
    or directly its (M,) mean usage), as the official ``spec.py``, or a
    (R, M) :func:`conditional_usage` matrix U, for which the mean usage is
    exactly ``prior @ U`` (no sampling noise). A module set that tracks the
    rule frequencies scores 0; shorter vectors are padded with zeros.
    """
    if isinstance(rules, bool) or not isinstance(rules, int) or rules < 1:
        raise ValueError(f"rules must be a positive int, got {rules!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws must be a positive int, got {draws!r}")
    priors = _dirichlet_ones(draws, rules, generator)
    if not callable(usage_under_prior):
        u = torch.as_tensor(usage_under_prior).detach().cpu().double()
        if u.dim() != 2 or u.shape[0] != rules:
            raise ValueError(f"usage_under_prior must be a callable or a ({rules}, M) conditional usage matrix, "
                             f"got shape {tuple(u.shape)}")
        _as_routing(u, "usage_under_prior")
        means = priors @ u
        return float(np.mean([_total_variation_sorted(p, m) for p, m in zip(priors, means, strict=True)]))
    total = 0.0
    for p in priors:
        out = torch.as_tensor(usage_under_prior(p)).detach().cpu()
        mean = _as_routing(out).mean(0) if out.dim() == 2 else out.double()
        if mean.dim() != 1 or not bool(torch.isfinite(mean).all()):
            raise ValueError("usage_under_prior(prior) must return finite (n, M) routing or (M,) mean usage, "
                             f"got shape {tuple(out.shape)}")
        total += _total_variation_sorted(p, mean)
    return total / draws


@attrs.frozen(kw_only=True)
class SpecialisationReport:
    """All specialisation metrics of one routing (lower is better), with the random reference beside them."""

    usage: Tensor = attrs.field(eq=False, repr=False)
    collapse_avg: float
    collapse_worst: float
    inverse_mi: float
    alignment: float | None
    adaptation: float | None
    reference: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        """Plain floats (JSON-able), with ``usage`` as nested lists."""
        return {"collapse_avg": self.collapse_avg, "collapse_worst": self.collapse_worst,
                "inverse_mi": self.inverse_mi, "alignment": self.alignment, "adaptation": self.adaptation,
                "reference": dict(self.reference), "usage": self.usage.tolist()}


def random_reference(G: int, M: int) -> dict[str, float | None]:
    """The metrics of uniform usage P = 1/(G M) (a router that ignores the factor); alignment None unless G = M."""
    p = torch.full((G, M), 1.0 / (G * M), dtype=torch.float64)
    return {"collapse_avg": collapse_avg(p) if M >= 2 else None, "collapse_worst": collapse_worst(p),
            "inverse_mi": inverse_mutual_information(p) if min(G, M) >= 2 else None,
            "alignment": alignment(p) if G == M else None}


def specialisation_report(routing: Any, factor: Any, num_factors: int, *, prior: str = "uniform",
                          draws: int = 100, generator: torch.Generator | None = None) -> SpecialisationReport:
    """Every metric of ``routing`` against ``factor`` in one record.

    Adaptation uses the exact reweighting ``prior @ U`` of the conditional
    usage (no resampling); alignment is None when G != M. 10^6 rows take a
    few tens of milliseconds.
    """
    p = usage_matrix(routing, factor, num_factors, prior=prior)
    g, m = p.shape
    adapt = adaptation(p / p.sum(1, keepdim=True), g, draws=draws, generator=generator) if prior == "uniform" or \
        bool((p.sum(1) > 0).all()) else None
    return SpecialisationReport(
        usage=p, collapse_avg=collapse_avg(p) if m >= 2 else 0.0, collapse_worst=collapse_worst(p),
        inverse_mi=inverse_mutual_information(p), alignment=alignment(p) if g == m else None,
        adaptation=adapt, reference=random_reference(g, m),
    )


__all__ = [
    "SpecialisationReport", "adaptation", "alignment", "collapse_avg", "collapse_worst", "conditional_usage",
    "inverse_mutual_information", "mutual_information", "random_reference", "specialisation_report",
    "usage_matrix",
]
