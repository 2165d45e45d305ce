"""The review's principles as claims, each tested against a closed form (per-seed run + judge).

The paper is a review without experiments; each claim paraphrases one
principle (marked so in its statement) and checks it on an SCM whose answer
is known in closed form. Every ``*_run`` takes a :class:`etude.claims.SeedContext`
(``ctx.seed``, ``ctx.pick``, ``ctx.generator()``) and returns that seed's
measurements as plain JSON values; every ``*_judge`` turns all seeds'
measurements into the verdict written in its docstring.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch

from etude.claims import Outcome

from .graphs import CausalGraph, random_dag
from .linear import expected_conditional_kl, gaussian_kl, implied_gaussian
from .mechanisms import LinearGaussian
from .models import create_linear_gaussian_scm
from .scm import SCM
from .shift import sparse_mechanism_shift

__all__ = [
    "causal_predictor_transfers_judge",
    "causal_predictor_transfers_run",
    "confounded_scm",
    "intervention_is_not_conditioning_judge",
    "intervention_is_not_conditioning_run",
    "sparse_mechanism_shift_is_local_judge",
    "sparse_mechanism_shift_is_local_run",
]


def _ols(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Slope of y on x (with intercept) and its standard error."""
    xc, yc = x - x.mean(), y - y.mean()
    sxx = float((xc * xc).sum())
    slope = float((xc * yc).sum()) / sxx
    resid = yc - slope * xc
    se = math.sqrt(float((resid * resid).sum()) / (x.numel() - 2) / sxx)
    return slope, se


# -- intervention is not conditioning ---------------------------------------------------------------
def confounded_scm(a: float = 1.0, c: float = 1.0, beta: float = 1.0, dtype=torch.float64) -> SCM:
    """``Z -> X`` (a), ``Z -> Y`` (c), ``X -> Y`` (beta), unit Gaussian noises (float64)."""
    g = CausalGraph(["Z", "X", "Y"], [("Z", "X"), ("Z", "Y"), ("X", "Y")])
    mechs = {"Z": LinearGaussian(), "X": LinearGaussian([a]), "Y": LinearGaussian([c, beta])}
    return SCM(g, mechs).to(dtype)


def intervention_is_not_conditioning_run(ctx) -> dict[str, Any]:
    """One seed: the observational slope of Y on X and the interventional slope of E[Y | do(X = x)].

    SCM: Z -> X (a = 1), Z -> Y (c = 1), X -> Y (beta = 1), unit noises.
    ``n_obs`` observational samples (quick 1e5) give the OLS slope of Y on X
    (closed form beta + ac/(a^2 + 1) = 1.5); ``n_do`` samples of each
    do(X = x), x in {-2, ..., 2} (quick 2e4), pooled, give the OLS slope of Y
    on x (closed form beta = 1) and corr(X, Z) under do.
    """
    n_obs = ctx.pick(smoke=20_000, quick=100_000, full=100_000)
    n_do = ctx.pick(smoke=4_000, quick=20_000, full=20_000)
    g = ctx.generator()
    scm = confounded_scm()
    obs = scm.sample(n_obs, g)
    slope_obs, se_obs = _ols(obs["X"], obs["Y"])
    xs, ys, zs, means = [], [], [], []
    for x in (-2.0, -1.0, 0.0, 1.0, 2.0):
        s = scm.do(X=x).sample(n_do, g)
        xs.append(s["X"])
        ys.append(s["Y"])
        zs.append(s["Z"])
        means.append(float(s["Y"].mean()))
    X, Y, Z = torch.cat(xs), torch.cat(ys), torch.cat(zs)
    slope_do, se_do = _ols(X, Y)
    corr = float(torch.corrcoef(torch.stack([X, Z]))[0, 1])
    # E[Y | X = x] by binning the observational sample, for the figure
    bins = torch.linspace(-2.5, 2.5, 11, dtype=X.dtype)
    centres, cond = [], []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (obs["X"] >= lo) & (obs["X"] < hi)
        if int(m.sum()) >= 20:
            centres.append(float((lo + hi) / 2))
            cond.append(float(obs["Y"][m].mean()))
    return {
        "slope_obs": slope_obs, "se_obs": se_obs, "slope_do": slope_do, "se_do": se_do,
        "corr_xz_do": corr, "n_obs": n_obs, "n_do_total": int(X.numel()),
        "do_x": [-2.0, -1.0, 0.0, 1.0, 2.0], "do_mean_y": means, "cond_x": centres, "cond_mean_y": cond,
    }


def intervention_is_not_conditioning_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff in every seed |slope_do - 1| < 4 SE, |slope_obs - 1.5| < 4 SE and |corr(X, Z)| under do < 4/sqrt(n).

    (``n``: the pooled interventional samples.) Quick: 5 seeds, 1e5
    observational and 5 x 2e4 interventional samples each.
    """
    z_do = [abs(r["slope_do"] - 1.0) / r["se_do"] for r in runs]
    z_obs = [abs(r["slope_obs"] - 1.5) / r["se_obs"] for r in runs]
    corr_ratio = [abs(r["corr_xz_do"]) * math.sqrt(r["n_do_total"]) for r in runs]
    holds = max(z_do) < 4 and max(z_obs) < 4 and max(corr_ratio) < 4
    metrics = {
        "slope_do": statistics.fmean(r["slope_do"] for r in runs),
        "slope_obs": statistics.fmean(r["slope_obs"] for r in runs),
        "max_z_do": max(z_do), "max_z_obs": max(z_obs),
        "max_abs_corr_xz_do": max(abs(r["corr_xz_do"]) for r in runs),
        "corr_threshold": 4 / math.sqrt(runs[0]["n_do_total"]),
        "seeds": len(runs),
    }
    _plot_confounding(ctx, runs[0])
    return Outcome(
        holds=holds, metrics=metrics,
        notes=(
            "Closed forms: slope under do(X) = beta = 1; observational slope = beta + ac/(a^2+1) = 1.5. "
            "Criterion: every seed within 4 SE of both and |corr(X, Z)| under do below 4/sqrt(n)."
        ),
    )


def _plot_confounding(ctx, run: dict) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    ax.plot(run["cond_x"], run["cond_mean_y"], "o", color="C1", label="E[Y | X = x] (observational bins)")
    ax.plot(run["do_x"], run["do_mean_y"], "s", color="C0", label="E[Y | do(X = x)]")
    grid = torch.linspace(-2.5, 2.5, 2)
    ax.plot(grid, 1.5 * grid, "--", color="C1", lw=1, label="slope 1.5 (confounded)")
    ax.plot(grid, 1.0 * grid, "--", color="C0", lw=1, label="slope beta = 1 (causal)")
    ax.set_xlabel("x")
    ax.set_ylabel("mean of Y")
    ax.legend(fontsize=8)
    ax.set_title("Intervening is not conditioning")
    ctx.save_figure(fig, "slopes")


# -- sparse mechanism shift ----------------------------------------------------------------------------
_CHANGED = 1e-9


def _shift_counts(scm: SCM, shifted: SCM, nodes: tuple[str, ...]) -> dict[str, Any]:
    mu_p, cov_p = implied_gaussian(scm)
    mu_q, cov_q = implied_gaussian(shifted)
    names = scm.nodes
    d = len(names)
    causal, reverse, marginal = [], [], []
    for i, v in enumerate(names):
        pa = [names.index(p) for p in scm.graph.parents(v)]
        causal.append(float(expected_conditional_kl(mu_p, cov_p, mu_q, cov_q, i, pa)))
        reverse.append(float(expected_conditional_kl(mu_p, cov_p, mu_q, cov_q, i, list(range(i + 1, d)))))
        marginal.append(float(gaussian_kl(mu_p[i], cov_p[i, i], mu_q[i], cov_q[i, i])))
    moved = {names[i] for i, kl in enumerate(marginal) if kl > _CHANGED}
    expected = set(nodes) | set(scm.graph.descendants_of(nodes))
    return {
        "shifted": list(nodes),
        "causal_changed": sum(kl > _CHANGED for kl in causal),
        "reverse_changed": sum(kl > _CHANGED for kl in reverse),
        "marginals_moved": sorted(moved, key=names.index),
        "marginals_expected": sorted(expected, key=names.index),
        "marginals_exact": moved == expected,
        "max_unchanged_causal_kl": max([kl for v, kl in zip(names, causal) if v not in nodes], default=0.0),
    }


def sparse_mechanism_shift_is_local_run(ctx) -> dict[str, Any]:
    """One seed: a linear-Gaussian SCM on an 8-node random DAG (edge prob 0.3), k = 1 and k = 2 shifts.

    For each k, ``sparse_mechanism_shift`` redraws k mechanisms; exact KLs
    (from the implied covariances) between pre- and post-shift conditionals
    count the changed factors of the causal factorisation p(x_i | pa_i), of
    the reverse-order chain rule p(x_i | x_{j>i}), and the moved marginals
    (changed: KL > 1e-9).
    """
    g = ctx.generator()
    graph = random_dag(8, g, edge_prob=0.3)
    scm = create_linear_gaussian_scm(graph, g).to(torch.float64)
    out: dict[str, Any] = {"edges": graph.num_edges}
    for k in (1, 2):
        shifted, nodes = sparse_mechanism_shift(scm, k, g)
        out[f"k{k}"] = _shift_counts(scm, shifted, nodes)
    return out


def sparse_mechanism_shift_is_local_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff for k = 1, in every seed, exactly k causal factors change and the moved marginals are
    exactly the shifted nodes and their descendants, while the reverse-order count exceeds k in >= 80%
    of the seeds with mean >= 3. (Quick: 20 seeds. Pilot: causal 1 in 20/20, reverse 4.9 on average,
    1 to 8.) The same counts at k = 2 are reported, not judged.
    """
    k1 = [r["k1"] for r in runs]
    causal_ok = all(r["causal_changed"] == 1 for r in k1)
    marg_ok = all(r["marginals_exact"] for r in k1)
    rev = [r["reverse_changed"] for r in k1]
    frac_rev = sum(c > 1 for c in rev) / len(rev)
    mean_rev = statistics.fmean(rev)
    holds = causal_ok and marg_ok and frac_rev >= 0.8 and mean_rev >= 3
    k2 = [r["k2"] for r in runs]
    metrics = {
        "causal_changed_k1_mean": statistics.fmean(r["causal_changed"] for r in k1),
        "causal_equals_k_fraction": sum(r["causal_changed"] == 1 for r in k1) / len(k1),
        "marginals_exact_fraction": sum(r["marginals_exact"] for r in k1) / len(k1),
        "reverse_changed_k1_mean": mean_rev,
        "reverse_changed_k1_min": min(rev), "reverse_changed_k1_max": max(rev),
        "reverse_exceeds_k_fraction": frac_rev,
        "causal_changed_k2_mean": statistics.fmean(r["causal_changed"] for r in k2),
        "reverse_changed_k2_mean": statistics.fmean(r["reverse_changed"] for r in k2),
        "marginals_exact_k2_fraction": sum(r["marginals_exact"] for r in k2) / len(k2),
        "max_unchanged_causal_kl": max(r["max_unchanged_causal_kl"] for r in k1 + k2),
        "mean_edges": statistics.fmean(r["edges"] for r in runs),
        "seeds": len(runs),
    }
    _plot_counts(ctx, rev, [r["causal_changed"] for r in k1])
    return Outcome(
        holds=holds, metrics=metrics,
        notes=(
            "SMS: one redrawn mechanism changes one factor of the causal factorisation but several of the "
            "reverse-order (anticausal) chain rule. Criterion at k = 1: causal count = 1 and moved marginals = "
            "shifted node + descendants in every seed; reverse count > 1 in >= 80% of seeds, mean >= 3."
        ),
    )


def _plot_counts(ctx, reverse: list[int], causal: list[int]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    bins = [b - 0.5 for b in range(0, 10)]
    ax.hist(causal, bins=bins, alpha=0.7, label="causal factorisation")
    ax.hist(reverse, bins=bins, alpha=0.7, label="reverse-order chain rule")
    ax.set_xlabel("factors changed by one redrawn mechanism (8 nodes)")
    ax.set_ylabel("seeds")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "changed-factors")


# -- causal predictor transfers --------------------------------------------------------------------------
def _anticausal_scm(dtype=torch.float64) -> SCM:
    g = CausalGraph(["X1", "Y", "X2"], [("X1", "Y"), ("Y", "X2")])
    return SCM(g, {"X1": LinearGaussian(), "Y": LinearGaussian([1.0]), "X2": LinearGaussian([1.0])}).to(dtype)


def _lstsq_mse(train: dict, test: dict, features: list[str]) -> float:
    """Test MSE of least squares (with intercept) of Y on ``features``, fit on ``train``.

    Normal equations of the centred features, their Gram entries as plain
    elementwise sums: bitwise reproducible, unlike a LAPACK least-squares
    driver whose last bits vary with memory alignment.
    """
    X = torch.stack([train[f] for f in features], dim=-1)
    mx, my = X.mean(0), train["Y"].mean()
    Xc, yc = X - mx, train["Y"] - my
    gram = (Xc.unsqueeze(-1) * Xc.unsqueeze(-2)).sum(0)
    coef = torch.linalg.solve(gram, (Xc * yc.unsqueeze(-1)).sum(0))
    pred = my + ((torch.stack([test[f] for f in features], dim=-1) - mx) * coef).sum(-1)
    return float((test["Y"] - pred).square().mean())


def causal_predictor_transfers_run(ctx) -> dict[str, Any]:
    """One seed: least squares of Y on X1 (causal) and on (X1, X2), in distribution and after X2's shift.

    SCM X1 -> Y -> X2, unit weights and noises; the ood SCM replaces X2's
    mechanism by X2 := -Y + N(0, 2^2). ``n`` train, test and ood samples
    (quick 1e4). Closed forms: causal MSE 1.0 (test) and 1.0 (ood);
    two-feature MSE 0.5 (test) and 4.25 (ood).
    """
    n = ctx.pick(smoke=2_000, quick=10_000, full=10_000)
    g = ctx.generator()
    scm = _anticausal_scm()
    ood_scm = scm.replace_mechanism("X2", LinearGaussian([-1.0], 0.0, 2.0).to(torch.float64))
    train, test, ood = scm.sample(n, g), scm.sample(n, g), ood_scm.sample(n, g)
    out = {"n": n}
    for name, feats in (("causal", ["X1"]), ("both", ["X1", "X2"])):
        out[f"{name}_test_mse"] = _lstsq_mse(train, test, feats)
        out[f"{name}_ood_mse"] = _lstsq_mse(train, ood, feats)
    return out


def causal_predictor_transfers_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff in every seed the causal predictor's ood/test MSE ratio is in [0.9, 1.1], the two-feature
    predictor has the lower test MSE, and its ood MSE exceeds twice the causal ood MSE. (Quick: 5 seeds.)
    """
    ratio = [r["causal_ood_mse"] / r["causal_test_mse"] for r in runs]
    wins_iid = [r["both_test_mse"] < r["causal_test_mse"] for r in runs]
    loses_ood = [r["both_ood_mse"] > 2 * r["causal_ood_mse"] for r in runs]
    holds = all(0.9 <= x <= 1.1 for x in ratio) and all(wins_iid) and all(loses_ood)
    mean = lambda key: statistics.fmean(r[key] for r in runs)  # noqa: E731
    metrics = {
        "causal_test_mse": mean("causal_test_mse"), "causal_ood_mse": mean("causal_ood_mse"),
        "both_test_mse": mean("both_test_mse"), "both_ood_mse": mean("both_ood_mse"),
        "causal_ood_over_test_min": min(ratio), "causal_ood_over_test_max": max(ratio),
        "seeds": len(runs),
    }
    return Outcome(
        holds=holds, metrics=metrics,
        notes=(
            "Closed forms: causal 1.0 / 1.0, two-feature 0.5 / 4.25 (test / ood). Criterion: causal ood/test in "
            "[0.9, 1.1], two-feature better in distribution and worse than 2x the causal one ood, every seed."
        ),
    )
