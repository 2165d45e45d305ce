"""The paper's claims as per-seed runs and judges (verdict rules in each judge's docstring).

Every ``*_run`` takes an :class:`etude.claims.SeedContext` and returns plain
JSON values that depend only on (scale, seed); every ``*_judge`` applies the
rule written in its docstring, fixed before the first run.

References:
    Y. Bengio, T. Deleu, N. Rahaman, N. R. Ke, S. Lachapelle, O. Bilaniuk,
    A. Goyal, C. Pal. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

from etude.claims import Outcome, paired_comparison

from .episodes import meta_train
from .tabular import TabularHypotheses
from .tasks import make_data_scm, sample_transfers

__all__ = [
    "causal_model_adapts_faster_judge",
    "continuous_multimodal_judge",
    "continuous_multimodal_run",
    "encoder_recovers_causal_variables_judge",
    "encoder_recovers_causal_variables_run",
    "causal_model_adapts_faster_run",
    "sparse_expected_gradient_judge",
    "sparse_expected_gradient_run",
    "structural_parameter_finds_cause_judge",
    "structural_parameter_finds_cause_run",
]

N = 10


# -- causal model adapts faster ------------------------------------------------------------------------
def causal_model_adapts_faster_run(ctx) -> dict[str, Any]:
    """One training distribution (N = 10, Dirichlet(1)), 10 transfers (full 100) on the cause's marginal.

    Both hypotheses start at the exact training tables and adapt by SGD lr 1.0 on
    batches of 100 for 500 steps (notebook 02), the transfers batched as runs.
    After every step: the exact expected log-likelihood per sample (sum over the
    N x N cells of the transfer joint) of G1 minus that of G2, averaged over transfers.
    """
    transfers = ctx.pick(smoke=10, quick=10, full=100)
    steps, batch = 500, 100
    g = ctx.generator()
    scm = make_data_scm(N, "A", g)
    x, _, joints = sample_transfers(scm, "A", transfers, steps * batch, g)
    x = x.view(transfers, steps, batch, 2)
    hyp = TabularHypotheses.exact([scm] * transfers)
    gap = []
    for t in range(steps + 1):
        e1, e2 = hyp.expected_log_likelihood(joints)
        gap.append(float((e1 - e2).mean()))
        if t < steps:
            hyp.step(x[:, t], lr=1.0)
    return {"gap": gap, "gap_0": gap[0], "gap_10": gap[10], "gap_100": gap[100], "gap_500": gap[500]}


def causal_model_adapts_faster_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff over all seeds (quick: 10): the gap at 10 steps exceeds 0.1 nats in every seed, its
    paired 95% interval (G1 vs G2 over seeds) lies above 0, and the gap at 500 steps is below
    0.2 x the gap at 10 steps in every seed."""
    g10 = [r["gap_10"] for r in runs]
    g500 = [r["gap_500"] for r in runs]
    cmp = paired_comparison(g10, [0.0] * len(g10))
    holds = all(v > 0.1 for v in g10) and cmp.ci_low > 0 and all(b < 0.2 * a for a, b in zip(g10, g500))
    metrics = {
        "gap_0_mean": statistics.fmean(r["gap_0"] for r in runs),
        "gap_10_mean": cmp.mean, "gap_10_ci_low": cmp.ci_low, "gap_10_ci_high": cmp.ci_high,
        "gap_10_min": min(g10), "gap_100_mean": statistics.fmean(r["gap_100"] for r in runs),
        "gap_500_mean": statistics.fmean(g500), "gap_500_max": max(g500),
        "max_ratio_500_to_10": max(b / a if a > 0 else float("inf") for a, b in zip(g10, g500)),
    }
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for r in runs:
        ax.plot([i * 100 for i in range(len(r["gap"]))], r["gap"], lw=0.8, alpha=0.6)
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlabel("transfer samples")
    ax.set_ylabel("E log p, G1 - G2 (nats)")
    ax.set_title("causal model adapts faster")
    ctx.save_figure(fig, "gap")
    plt.close(fig)
    return Outcome(holds=holds, metrics=metrics, notes=f"{len(runs)} seeds")


# -- sparse expected gradient ----------------------------------------------------------------------------
def sparse_expected_gradient_run(ctx) -> dict[str, Any]:
    """One SCM; modules at the MLE of 10,000 training samples; a new marginal of A (Dirichlet(1)).

    The exact expected gradient of the transfer log-likelihood per sample (closed form,
    ``P_t[a, b] - P_t[a] q(b | a)`` and ``P_t[a] - q(a)``); the share of its squared norm
    on each hypothesis' conditional module.
    """
    g = ctx.generator()
    scm = make_data_scm(N, "A", g)
    v = scm.sample(10_000, g)
    hyp = TabularHypotheses.mle(torch.stack([v["A"], v["B"]], -1), N)
    _, _, joints = sample_transfers(scm, "A", 1, 1, g)
    ga1, gc1, ga2, gc2 = (t.square().sum().item() for t in hyp.grads(joints))
    return {"share_g1": gc1 / (ga1 + gc1), "share_g2": gc2 / (ga2 + gc2)}


def sparse_expected_gradient_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff in every seed (quick: 20) G1's conditional share is < 0.1 and G2's is > 0.3."""
    s1 = [r["share_g1"] for r in runs]
    s2 = [r["share_g2"] for r in runs]
    holds = all(a < 0.1 for a in s1) and all(b > 0.3 for b in s2)
    metrics = {
        "g1_share_median": statistics.median(s1), "g1_share_max": max(s1),
        "g2_share_median": statistics.median(s2), "g2_share_min": min(s2),
    }
    return Outcome(holds=holds, metrics=metrics, notes=f"{len(runs)} seeds")


# -- structural parameter finds the cause ------------------------------------------------------------------
def structural_parameter_finds_cause_run(ctx) -> dict[str, Any]:
    """One SCM (N = 10) run both ways: data A -> B and role-swapped B -> A, batched as two runs.

    10,000 observational samples; modules reset every episode to the MLE of the joint with a
    pseudo-count of 0.1 per cell, factorised both ways (the plain MLE gives unseen cells log 0 = -inf,
    and the regret is undefined when a transfer sample lands on one); per episode a new
    cause marginal ~ Dirichlet(1), 2 inner SGD steps (lr 0.1) on batches of 10, RMSprop lr 1e-2 on
    gamma; 300 episodes (full 1000). Returns the final sigma(gamma) of each direction.
    """
    episodes = ctx.pick(smoke=300, quick=300, full=1000)
    trains, transfers = [], []
    for cause in ("A", "B"):
        g = torch.Generator().manual_seed(int(ctx.seed))
        scm = make_data_scm(N, cause, g)
        v = scm.sample(10_000, g)
        trains.append(torch.stack([v["A"], v["B"]], -1))
        x, _, _ = sample_transfers(scm, cause, episodes, 20, g)
        transfers.append(x.view(episodes, 2, 10, 2))
    hyp = TabularHypotheses.mle(torch.stack(trains), N, pseudo_count=0.1)
    out = meta_train(hyp, torch.stack(transfers), inner_lr=0.1, meta_lr=1e-2, meta_optimizer="rmsprop")
    sig = torch.sigmoid(out["gamma"])
    every = max(1, episodes // 100)
    return {
        "sigma_ab": float(sig[0, -1]), "sigma_ba": float(sig[1, -1]),
        "curve_ab": sig[0, ::every].tolist(), "curve_ba": sig[1, ::every].tolist(),
    }


def structural_parameter_finds_cause_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff over all seeds (quick: 20) sigma(gamma) on A -> B data is above 0.5 in >= 90% of seeds
    with median > 0.85, and on the role-swapped B -> A data below 0.5 in >= 90% with median < 0.15."""
    ab = [r["sigma_ab"] for r in runs]
    ba = [r["sigma_ba"] for r in runs]
    frac_ab = sum(v > 0.5 for v in ab) / len(ab)
    frac_ba = sum(v < 0.5 for v in ba) / len(ba)
    med_ab, med_ba = statistics.median(ab), statistics.median(ba)
    holds = frac_ab >= 0.9 and med_ab > 0.85 and frac_ba >= 0.9 and med_ba < 0.15
    metrics = {
        "frac_ab_above_half": frac_ab, "median_sigma_ab": med_ab, "min_sigma_ab": min(ab), "max_sigma_ab": max(ab),
        "frac_ba_below_half": frac_ba, "median_sigma_ba": med_ba, "min_sigma_ba": min(ba), "max_sigma_ba": max(ba),
    }
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for r in runs:
        ax.plot(r["curve_ab"], color="C0", lw=0.7, alpha=0.6)
        ax.plot(r["curve_ba"], color="C3", lw=0.7, alpha=0.6)
    ax.set_xlabel("episode (x len/100)")
    ax.set_ylabel("sigma(gamma)")
    ax.set_title("A -> B data (blue), B -> A control (red)")
    ctx.save_figure(fig, "sigma-gamma")
    plt.close(fig)
    return Outcome(holds=holds, metrics=metrics, notes=f"{len(runs)} seeds")


# -- continuous multimodal -----------------------------------------------------------------------------------
def continuous_multimodal_run(ctx) -> dict[str, Any]:
    """One spline SCM A -> B (etude-scm ``spline-scm``), MDN hypotheses (10 components, capacity 32).

    Full (notebook ``02_meta_learning``): 3000 pretraining steps (Adam 1e-3, 1000 samples), 500 gamma
    steps (Adam lr 0.1), each episode a transfer ``A ~ N(m, 2^2)``, m uniform in {-4..4}, 10
    fine-tuning steps (Adam lr 1e-3) on its 1000 samples, marginals refitted by EM. Smoke: 100
    pretraining steps, 10 episodes of 200 samples (a plumbing check, not a measurement).
    """
    from .continuous import continuous_meta_train  # noqa: PLC0415

    sizes = ctx.pick(
        smoke={"pretrain_steps": 100, "episodes": 10, "samples": 200},
        full={"pretrain_steps": 3000, "episodes": 500, "samples": 1000},
    )
    out = continuous_meta_train(ctx.seed, **sizes)
    sig = out["sigma_gamma"]
    return {"sigma_gamma": sig[-1], "curve": sig[:: max(1, len(sig) // 100)]}


def continuous_multimodal_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff sigma(gamma) > 0.5 in >= 4 of 5 seeds (>= 80% of the seeds) and the median is > 0.8."""
    s = [r["sigma_gamma"] for r in runs]
    frac = sum(v > 0.5 for v in s) / len(s)
    med = statistics.median(s)
    metrics = {"frac_above_half": frac, "median_sigma": med, "min_sigma": min(s), "max_sigma": max(s)}
    return Outcome(holds=frac >= 0.8 and med > 0.8, metrics=metrics, notes=f"{len(runs)} seeds")


# -- encoder recovers the causal variables ------------------------------------------------------------------
def encoder_recovers_causal_variables_run(ctx) -> dict[str, Any]:
    """One spline SCM A -> B observed through ``(X, Y) = R(pi/4)(A, B)``; learn the encoder angle and gamma.

    Full (notebook ``03_encoder_learning``): 1000 meta-steps; per step 20 preheating Adam steps (lr 0.01)
    of both MDN conditionals (10 components, capacity 32) on 1000 training samples, one transfer
    ``A ~ N(m, 2^2)``, ``m ~ U(-4, 4)``, of 1000 samples, marginals by EM, 5 fine-tuning Adam steps
    (lr 1e-3) scored before each step, the paper's regret differentiated through the fine-tuning;
    theta by Adam lr 0.01 from 0, gamma by Adam lr 1e-3 from 0. Smoke: 20 meta-steps of 200 samples
    (a plumbing check, not a measurement). The correct angles are ``-pi/4 + k pi/2``.
    """
    import math  # noqa: PLC0415

    from .encoder import angle_to_solution, solution_index  # noqa: PLC0415
    from .representation import encoder_meta_train  # noqa: PLC0415

    sizes = ctx.pick(
        smoke={"meta_steps": 20, "samples": 200, "preheat_steps": 5, "em_iters": 20},
        full={"meta_steps": 1000, "samples": 1000},
    )
    out = encoder_meta_train(ctx.seed, mixing_angle=math.pi / 4, **sizes)
    theta, sig = out["theta"][-1], out["sigma_gamma"][-1]
    every = max(1, len(out["theta"]) // 200)
    return {
        "theta": theta, "sigma_gamma": sig, "solution": -math.pi / 4,
        "distance": angle_to_solution(theta, -math.pi / 4), "k": solution_index(theta, -math.pi / 4),
        "curve_theta": out["theta"][::every], "curve_sigma": out["sigma_gamma"][::every],
    }


def encoder_recovers_causal_variables_judge(ctx, runs: list[dict]) -> Outcome:
    """Holds iff in >= 4 of 5 seeds (>= 80% of the seeds) the final angle is within 0.1 rad of a correct
    solution ``theta* + k pi/2`` (``theta* = -pi/4``) AND sigma(gamma) points to the cause in the encoded
    coordinates: > 0.5 when k is even ((U, V) = (+-A, +-B), G1 = U -> V correct), < 0.5 when k is odd
    ((U, V) = (+-B, +-A), G2 correct). The issue's wording "sigma(gamma) > 0.5" is that rule for even k
    only; the seeds meeting the literal wording are reported as ``frac_issue_wording``."""
    ok = [r["distance"] < 0.1 and ((r["sigma_gamma"] > 0.5) if r["k"] % 2 == 0 else (r["sigma_gamma"] < 0.5))
          for r in runs]
    literal = [r["distance"] < 0.1 and r["sigma_gamma"] > 0.5 for r in runs]
    frac = sum(ok) / len(ok)
    metrics = {
        "frac_recovered": frac, "frac_issue_wording": sum(literal) / len(literal),
        "frac_within_0.1_rad": sum(r["distance"] < 0.1 for r in runs) / len(runs),
        "distance_median": statistics.median(r["distance"] for r in runs),
        "distance_max": max(r["distance"] for r in runs),
        "theta_final": [r["theta"] for r in runs], "k": [r["k"] for r in runs],
        "sigma_gamma_final": [r["sigma_gamma"] for r in runs],
    }
    import math  # noqa: PLC0415

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.2))
    for r in runs:
        a1.plot([t / (math.pi / 2) for t in r["curve_theta"]], lw=0.8)
        a2.plot(r["curve_sigma"], lw=0.8)
    for k in (-1, 0, 1):
        a1.axhline((-math.pi / 4 + k * math.pi / 2) / (math.pi / 2), ls="--", color="0.5", lw=0.7)
    a1.set_xlabel("meta-step (subsampled)")
    a1.set_ylabel("encoder angle [pi/2 rad]")
    a1.set_title("theta (dashed: solutions)")
    a2.set_xlabel("meta-step")
    a2.set_ylabel("sigma(gamma)")
    ctx.save_figure(fig, "encoder-angle")
    plt.close(fig)
    return Outcome(holds=frac >= 0.8, metrics=metrics, notes=f"{len(runs)} seeds")
