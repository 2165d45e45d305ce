"""The paper's claims as per-seed runs and judges (smoke / quick / full).

Every run trains with :func:`etude_spectral_bias.training.fit` (the core's
``procedure/supervised``: full-batch Adam, MSE, ``model/mlp``). The trained
sum-of-sinusoids networks are shared between claims through the runner's
artefact cache (:func:`sinusoid_fit`). Learning times that were never
reached are returned as ``None`` (JSON has no infinity) and read back as
``inf`` by the judges.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import torch

from etude.claims import Outcome, mean_and_ci

from .fourier import envelope_from_values, envelope_level, grid_values
from .tracking import learning_times, plot_heatmap, spearman

# -- settings per scale (the paper's at full) -----------------------------------------------------------------


def _first_settings(ctx: Any) -> dict[str, Any]:
    """Claim 1's fit (shared with claim 2): the notebook's setting at full, the issue's CPU setting at quick."""
    return ctx.pick(
        smoke={"n_points": 200, "frequencies": [5, 10, 15], "width": 32, "depth": 3, "lr": 3e-3,
               "iterations": 200, "every": 25},
        quick={"n_points": 200, "frequencies": [5, 10, 15, 20, 25], "width": 128, "depth": 4, "lr": 1e-3,
               "iterations": 8000, "every": 25},
        full={"n_points": 200, "frequencies": list(range(5, 55, 5)), "width": 256, "depth": 6, "lr": 3e-4,
              "iterations": 60000, "every": 100},
    )


def sinusoid_fit(*, seed: int, device: str, n_points: int, frequencies: list[int], width: int, depth: int,
                 lr: float, iterations: int, every: int, amplitudes: str = "unit") -> dict[str, Any]:
    """Artefact producer: fit ``task/sum-of-sinusoids`` (phases from ``seed``) and keep the net and the tracker's records."""
    from .tasks import SumOfSinusoids  # noqa: PLC0415
    from .training import fit  # noqa: PLC0415

    task = SumOfSinusoids(seed=seed, n_points=n_points, frequencies=tuple(frequencies), amplitudes=amplitudes)
    net, tracker = fit(task, width=width, depth=depth, lr=lr, iterations=iterations, seed=seed, device=device,
                       every=every)
    return {"state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "iterations": torch.tensor(tracker.iterations), "magnitudes": tracker.magnitudes.to(torch.float64)}


def _build_mlp(in_features: int, width: int, depth: int) -> torch.nn.Module:
    import etude  # noqa: PLC0415

    from .training import mlp_hidden  # noqa: PLC0415

    return etude.create("model", "mlp", in_features=in_features, out_features=1, hidden=mlp_hidden(width, depth))


def _finite_or_none(values: list[float]) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in values]


def _inf(values: list[Any]) -> list[float]:
    return [math.inf if v is None else float(v) for v in values]


def _nan_none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


# -- spectral-bias/low-frequencies-first -----------------------------------------------------------------------


def low_frequencies_first_run(ctx: Any) -> dict[str, Any]:
    """Fit lambda = sum_k sin(2 pi k z + 2 pi phi_k) on N = 200 points; learning time per frequency.

    Quick: k = 5, 10, ..., 25, A = 1, MLP width 128 depth 4 (3 hidden
    layers), Adam 1e-3, full batch, 8 000 iterations, recorded every 25.
    Full: the notebook (k = 5 ... 50, width 256, depth 6, Adam 3e-4,
    60 000 iterations, recorded every 100). t_k = first recorded iteration
    with 2|f(k)|/(N A_k) >= 0.5 (None: never).
    """
    s = _first_settings(ctx)
    out = ctx.artefact(sinusoid_fit, **s)
    k = s["frequencies"]
    mags = out["magnitudes"]
    times = learning_times(out["iterations"], mags, 0.5)
    mean_mag = mags.mean(0).tolist()
    return {
        "frequencies": k, "learning_times": _finite_or_none(times),
        "spearman_time": _nan_none(spearman(k, times)) if any(math.isfinite(t) for t in times) else None,
        "mean_magnitude": mean_mag, "spearman_magnitude": _nan_none(spearman(k, mean_mag)),
        "final_magnitude": mags[-1].tolist(),
        "iterations": out["iterations"].tolist(), "magnitudes": mags.tolist(),
    }


def _ordered(k: list[int], times: list[float]) -> tuple[bool, bool]:
    """(t_k non-decreasing over the reached k, the lowest k reached before any k >= 3 k_min)."""
    reached = [t for t in times if math.isfinite(t)]
    monotone = all(a <= b for a, b in zip(reached, reached[1:]))
    high = [t for kk, t in zip(k, times) if kk >= 3 * k[0]]
    first = math.isfinite(times[0]) and all(times[0] < t for t in high)
    return monotone, first


def low_frequencies_first_judge(ctx: Any, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict for ``spectral-bias/low-frequencies-first`` (rule fixed before the first run).

    Holds when, on every seed, t_k is non-decreasing in k over the reached
    frequencies, the lowest frequency (k = 5) is reached before any
    k >= 15, and Spearman(k, mean normalised magnitude over training)
    <= -0.9; and the mean over seeds of Spearman(k, t_k) (unreached = inf,
    tied) is >= 0.8. Does not hold when that mean is below 0. Otherwise
    (or when a seed learned nothing, so its Spearman is undefined) the
    verdict is inconclusive.
    """
    k = runs[0]["frequencies"]
    per_seed = []
    for r in runs:
        times = _inf(r["learning_times"])
        monotone, first = _ordered(k, times)
        per_seed.append({"monotone": monotone, "first_before_high": first, "rho_time": r["spearman_time"],
                         "rho_mag": r["spearman_magnitude"]})
    rhos = [p["rho_time"] for p in per_seed]
    defined = all(x is not None for x in rhos)
    mean_rho = statistics.fmean(rhos) if defined else float("nan")
    every_seed = all(p["monotone"] and p["first_before_high"] and p["rho_mag"] is not None and p["rho_mag"] <= -0.9
                     for p in per_seed)
    holds = True if (defined and every_seed and mean_rho >= 0.8) else False if (defined and mean_rho < 0) else None
    metrics: dict[str, Any] = {"mean_spearman_k_time": mean_rho,
                               "spearman_k_time_per_seed": rhos,
                               "spearman_k_mean_magnitude_per_seed": [p["rho_mag"] for p in per_seed],
                               "monotone_every_seed": all(p["monotone"] for p in per_seed),
                               "lowest_first_every_seed": all(p["first_before_high"] for p in per_seed)}
    for i, kk in enumerate(k):
        metrics[f"t_{kk}_per_seed"] = [("inf" if r["learning_times"][i] is None else r["learning_times"][i]) for r in runs]
    _heatmaps(ctx, runs)
    return Outcome(holds=holds, metrics=metrics, notes=(
        "t_k = first recorded iteration with 2|f(k)|/(N A_k) >= 0.5 (inf if never). Rule: every seed monotone over "
        "reached k, k_min before k >= 3 k_min, Spearman(k, mean magnitude) <= -0.9, and mean Spearman(k, t_k) >= 0.8; "
        "fails if that mean < 0. Paper: Fig. 1 (qualitative, no numbers); issue pilots 1.0, 1.0, 0.975."))


def _heatmaps(ctx: Any, runs: list[dict[str, Any]], name: str = "heatmap") -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.8), squeeze=False)
    for ax, r, seed in zip(axes[0], runs, ctx.seeds):
        plot_heatmap(r["iterations"], r["frequencies"], r["magnitudes"], ax=ax, title=f"seed {seed}")
    fig.tight_layout()
    ctx.save_figure(fig, name)


# -- spectral-bias/fourier-decay -------------------------------------------------------------------------------

_DECAY_CONFIGS = ((64, 2), (128, 4), (256, 6))


def fourier_decay_run(ctx: Any) -> dict[str, Any]:
    """Detrended Fourier envelope slope over octaves k = 8 ... 2048 (4096-point float64 grid) of 1-D ReLU MLPs.

    (width, depth) = (64, 2), (128, 4), (256, 6) at PyTorch's default
    initialisation (seeded with ``ctx.seed``), and after claim 1's fit
    (same task, optimiser and budget, shared through the artefact cache):
    every configuration at full; at quick the (64, 2) and (128, 4) networks
    (the latter is claim 1's network; the (256, 6) fit, about 5x the cost
    per step, runs at full); at smoke (64, 2) only. The raw (not detrended) slope and the
    envelope level (mean log10 of the octave maxima) are reported.
    """
    s = _first_settings(ctx)
    trained = ctx.pick(smoke=((64, 2),), quick=((64, 2), (128, 4)), full=_DECAY_CONFIGS)
    rows = []
    for width, depth in _DECAY_CONFIGS:
        torch.manual_seed(ctx.seed)
        net = _build_mlp(1, width, depth)
        rows.append(_envelope_row(net, width, depth, "untrained"))
        if (width, depth) in trained:
            out = ctx.artefact(sinusoid_fit, **{**s, "width": width, "depth": depth})
            net.load_state_dict(out["state_dict"])
            rows.append(_envelope_row(net, width, depth, "trained"))
    return {"rows": rows}


def _envelope_row(net: torch.nn.Module, width: int, depth: int, state: str) -> dict[str, Any]:
    t, values = grid_values(net, 4096)  # one float64 evaluation for both
    env, raw = envelope_from_values(t, values), envelope_from_values(t, values, detrend=False)
    edges, maxima = env.octaves(8, 2048)
    return {"width": width, "depth": depth, "state": state, "slope": env.slope(8, 2048),
            "slope_raw": raw.slope(8, 2048), "level": envelope_level(env.frequencies, env.magnitudes, k_min=8, k_max=2048),
            "octave_edges": edges.tolist(), "octave_maxima": maxima.tolist()}


def fourier_decay_judge(ctx: Any, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict for ``spectral-bias/fourier-decay`` (rule fixed before the first run).

    Holds when every detrended envelope slope (every configuration, state
    and seed) is <= -1.5; does not hold when any is above -1.2;
    inconclusive otherwise. v1's width / depth statements are reported as
    envelope levels, not gated.
    """
    rows = [row for r in runs for row in r["rows"]]
    slopes = [row["slope"] for row in rows]
    holds = True if max(slopes) <= -1.5 else False if max(slopes) > -1.2 else None
    metrics: dict[str, Any] = {"max_slope": max(slopes), "min_slope": min(slopes)}
    for (width, depth) in _DECAY_CONFIGS:
        for state in ("untrained", "trained"):
            sel = [row for row in rows if (row["width"], row["depth"], row["state"]) == (width, depth, state)]
            if sel:
                tag = f"{width}x{depth}_{state}"
                metrics[f"slope_{tag}"] = statistics.fmean(row["slope"] for row in sel)
                metrics[f"slope_raw_{tag}"] = statistics.fmean(row["slope_raw"] for row in sel)
                metrics[f"level_{tag}"] = statistics.fmean(row["level"] for row in sel)
    _plot_envelopes(ctx, runs[0]["rows"])
    return Outcome(holds=holds, metrics=metrics, notes=(
        "Slope of log max_{octave}|f(k)| vs log k, k = 8..2048, after subtracting (f(1) - f(0)) t. v1: |f(k)| = O(k^-2) "
        "for d = 1 (piecewise-linear f); rule: every slope <= -1.5, fails if any > -1.2. Raw slopes (boundary jump, "
        "k^-1) are reported for contrast."))


def _plot_envelopes(ctx: Any, rows: list[dict[str, Any]]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, row in enumerate(rows):
        ls = "-" if row["state"] == "trained" else "--"
        ax.loglog(row["octave_edges"], row["octave_maxima"], ls, marker="o", color=f"C{i // 2}",
                  label=f"{row['width']}x{row['depth']} {row['state']} ({row['slope']:.2f})")
    edges = rows[0]["octave_edges"]
    ax.loglog(edges, [rows[0]["octave_maxima"][0] * (edges[0] / e) ** 2 for e in edges], "k:", label="k^-2")
    ax.set_xlabel("octave lower edge k")
    ax.set_ylabel("max |f(k)| in octave (detrended)")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "envelopes")


# -- spectral-bias/manifold-helps-high-frequencies -------------------------------------------------------------


def manifold_helps_high_frequencies_run(ctx: Any) -> dict[str, Any]:
    """Fit the sum-of-sinusoids target in z on the flower curve gamma_L(z) in R^2 for L = 0, 4, 10.

    Quick: N = 200, k = 5, 10, 15, 20 (A = 1, phases from the seed, shared
    across L), MLP 2-128x4-1, Adam 1e-3, 2 000 iterations recorded every
    5. Reported per L: learning times and their mean over k >= 15 (inf
    when one is never reached).
    """
    from .tasks import FlowerManifold  # noqa: PLC0415
    from .training import fit  # noqa: PLC0415

    s = ctx.pick(
        smoke={"petals": [0, 10], "frequencies": (5, 10, 15), "width": 32, "depth": 3, "lr": 3e-3, "iterations": 150,
               "every": 5},
        quick={"petals": [0, 4, 10], "frequencies": (5, 10, 15, 20), "width": 128, "depth": 4, "lr": 1e-3,
               "iterations": 2000, "every": 5},
        full={"petals": [0, 2, 4, 6, 8, 10], "frequencies": (5, 10, 15, 20, 25, 30), "width": 256, "depth": 6,
              "lr": 3e-4, "iterations": 10000, "every": 10},
    )
    k = list(s["frequencies"])
    high = [i for i, kk in enumerate(k) if kk >= 15]
    per_l = []
    for petals in ctx.track(s["petals"], desc="petals"):
        task = FlowerManifold(seed=ctx.seed, petals=petals, frequencies=s["frequencies"])
        _, tracker = fit(task, width=s["width"], depth=s["depth"], lr=s["lr"], iterations=s["iterations"],
                         seed=ctx.seed, device=ctx.device, every=s["every"])
        times = tracker.learning_times()
        mean_high = statistics.fmean(times[i] for i in high)
        per_l.append({"petals": petals, "learning_times": _finite_or_none(times),
                      "mean_time_high": None if not math.isfinite(mean_high) else mean_high,
                      "iterations": tracker.iterations, "magnitudes": tracker.magnitudes.tolist()})
    rho = spearman([p["petals"] for p in per_l], _inf([p["mean_time_high"] for p in per_l]))
    return {"frequencies": k, "per_petals": per_l, "spearman_petals_time": _nan_none(rho)}


def manifold_helps_high_frequencies_judge(ctx: Any, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict for ``spectral-bias/manifold-helps-high-frequencies`` (rule fixed before the first run).

    With T(L) the mean learning time over k >= 15 (inf if one is never
    reached): holds when T(L_max) < T(0) on every seed and the mean over
    seeds of Spearman(L, T(L)) is <= -0.5; does not hold when T(L_max),
    averaged over seeds, is higher than T(0) averaged over seeds;
    inconclusive otherwise.
    """
    lows = [_inf([r["per_petals"][0]["mean_time_high"]])[0] for r in runs]
    tops = [_inf([r["per_petals"][-1]["mean_time_high"]])[0] for r in runs]
    rhos = [r["spearman_petals_time"] for r in runs]
    mean_rho = statistics.fmean(rhos) if all(x is not None for x in rhos) else float("nan")
    every = all(t < lo for t, lo in zip(tops, lows))
    mean_low, mean_top = statistics.fmean(lows), statistics.fmean(tops)
    holds = True if (every and mean_rho <= -0.5) else False if mean_top > mean_low else None
    petals = [p["petals"] for p in runs[0]["per_petals"]]
    metrics: dict[str, Any] = {"mean_spearman_petals_time": mean_rho, "spearman_per_seed": rhos,
                               "faster_at_max_petals_every_seed": every}
    for j, L in enumerate(petals):
        metrics[f"T_high_L={L}_per_seed"] = [("inf" if r["per_petals"][j]["mean_time_high"] is None
                                              else r["per_petals"][j]["mean_time_high"]) for r in runs]
    _plot_manifold(ctx, runs[0])
    return Outcome(holds=holds, metrics=metrics, notes=(
        "T(L) = mean over k >= 15 of the first iteration (recorded every 5 at quick) with 2|f(k)|/N >= 0.5. Rule: "
        "T(L_max) < T(0) on every seed and mean Spearman(L, T) <= -0.5; fails if mean T(L_max) > mean T(0). "
        "Issue pilot (every 25): 225 -> 150 -> 50 iterations for L = 0, 4, 10."))


def _plot_manifold(ctx: Any, run: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    per = run["per_petals"]
    fig, axes = plt.subplots(1, len(per), figsize=(4.0 * len(per), 3.6), squeeze=False)
    for ax, p in zip(axes[0], per):
        plot_heatmap(p["iterations"], run["frequencies"], p["magnitudes"], ax=ax, title=f"L = {p['petals']}")
    fig.tight_layout()
    ctx.save_figure(fig, "heatmaps")


# -- spectral-bias/low-frequencies-robust ----------------------------------------------------------------------

_DELTAS = (0.03, 0.05, 0.1)
_GLOBAL_NORMS = (0.5, 1.0, 2.0)


def low_frequencies_robust_run(ctx: Any) -> dict[str, Any]:
    """Fit k = 2, 4, ..., 10, then retention per frequency under parameter noise.

    Quick: N = 200, k = 2, 4, 6, 8, 10 (A = 1), MLP width 128 depth 4, Adam
    1e-3, 6 000 iterations; then 64 draws of relative Gaussian noise (std
    delta x RMS of each parameter tensor) at delta = 0.03, 0.05, 0.1, and,
    for comparison with ``ICML_Robustness.ipynb``, the notebook's global
    isotropic noise of norm 0.5, 1, 2 (reported, not gated). Per delta:
    the coherent retention Re(F_d F_0*)/|F_0|^2 per k and Spearman(k, it).
    """
    from .perturbation import perturbation_spectrum  # noqa: PLC0415
    from .tasks import SumOfSinusoids  # noqa: PLC0415

    s = ctx.pick(
        smoke={"n_points": 200, "frequencies": [2, 4, 6], "width": 32, "depth": 3, "lr": 3e-3, "iterations": 300,
               "every": 50, "draws": 8},
        quick={"n_points": 200, "frequencies": [2, 4, 6, 8, 10], "width": 128, "depth": 4, "lr": 1e-3,
               "iterations": 6000, "every": 100, "draws": 64},
        full={"n_points": 200, "frequencies": list(range(5, 55, 5)), "width": 256, "depth": 6, "lr": 3e-4,
              "iterations": 60000, "every": 100, "draws": 100},
    )
    draws = s.pop("draws")
    out = ctx.artefact(sinusoid_fit, **s)
    net = _build_mlp(1, s["width"], s["depth"]).to(ctx.device)
    net.load_state_dict(out["state_dict"])
    x = SumOfSinusoids(seed=ctx.seed, n_points=s["n_points"], frequencies=tuple(s["frequencies"])).split("train").inputs
    x = x.to(ctx.device)
    g = ctx.generator()
    k = s["frequencies"]
    rows = []
    for noise, scales in (("relative", _DELTAS), ("global", _GLOBAL_NORMS)):
        for delta in scales:
            p = perturbation_spectrum(net, delta, draws, inputs=x, frequencies=k, noise=noise, generator=g)
            rows.append({"noise": noise, "delta": delta, "retention": p.retention.tolist(),
                         "magnitude_ratio": p.magnitude_ratio.tolist(),
                         "spearman": _nan_none(spearman(k, p.retention.tolist()))})
    return {"frequencies": k, "final_magnitude": out["magnitudes"][-1].tolist(), "rows": rows}


def low_frequencies_robust_judge(ctx: Any, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict for ``spectral-bias/low-frequencies-robust`` (rule fixed before the first run).

    Among the relative-noise deltas, take the one whose retention, averaged
    over seeds and frequencies, lies in [0.3, 0.9] (closest to 0.6 if
    several). Holds when the mean over seeds of Spearman(k, retention) at
    that delta is <= -0.5 and its 95% t interval lies below 0; does not
    hold when that interval lies above 0; inconclusive otherwise, or when
    no delta gives a retention in [0.3, 0.9].
    """
    k = runs[0]["frequencies"]
    by_delta: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in runs:
        for row in r["rows"]:
            by_delta.setdefault((row["noise"], row["delta"]), []).append(row)
    metrics: dict[str, Any] = {}
    candidates = []
    for (noise, delta), rows in sorted(by_delta.items()):
        mean_ret = statistics.fmean(x for row in rows for x in row["retention"])
        rhos = [row["spearman"] for row in rows]
        tag = f"{noise}_{delta:g}"
        metrics[f"mean_retention_{tag}"] = mean_ret
        metrics[f"retention_per_k_{tag}"] = [statistics.fmean(row["retention"][i] for row in rows) for i in range(len(k))]
        metrics[f"magnitude_ratio_per_k_{tag}"] = [statistics.fmean(row["magnitude_ratio"][i] for row in rows)
                                                   for i in range(len(k))]
        metrics[f"spearman_per_seed_{tag}"] = rhos
        if noise == "relative" and 0.3 <= mean_ret <= 0.9 and all(x is not None for x in rhos):
            candidates.append((abs(mean_ret - 0.6), delta, rhos))
    holds = None
    if candidates:
        _, delta, rhos = min(candidates)
        mean, low, high = mean_and_ci(rhos) if len(rhos) > 1 else (rhos[0], float("-inf"), float("inf"))
        metrics.update({"delta_used": delta, "mean_spearman_k_retention": mean, "ci_low": low, "ci_high": high})
        holds = True if (mean <= -0.5 and high < 0) else False if low > 0 else None
    else:
        metrics["delta_used"] = None
    _plot_retention(ctx, k, metrics)
    return Outcome(holds=holds, metrics=metrics, notes=(
        "Coherent retention Re(F_d(k) F_0(k)*)/|F_0(k)|^2, mean over draws; relative noise std = delta x RMS(tensor). "
        "Rule: at the delta with mean retention in [0.3, 0.9], mean Spearman(k, retention) <= -0.5 with its 95% "
        "interval below 0; fails if the interval is above 0. The issue expected inconclusive at quick (3 seeds)."))


def _plot_retention(ctx: Any, k: list[int], metrics: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for i, delta in enumerate(_DELTAS):
        ax.plot(k, metrics[f"retention_per_k_relative_{delta:g}"], "o-", color=f"C{i}", label=f"relative delta={delta:g}")
    for i, norm in enumerate(_GLOBAL_NORMS):
        ax.plot(k, metrics[f"retention_per_k_global_{norm:g}"], "s:", color=f"C{i + 3}", label=f"global norm={norm:g}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel("frequency k")
    ax.set_ylabel("coherent retention")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "retention")
