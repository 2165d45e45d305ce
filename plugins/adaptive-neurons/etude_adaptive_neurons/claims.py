"""The paper's claims as per-seed runs and judges on permuted sequential digits.

Every claim trains :class:`~etude_adaptive_neurons.model.ANRU` networks that
differ only in their neuron (``relu``, ``tanh``, learned ``gamma``,
``adaptive-gamma``), paired by seed: same data split, same permutation, same
batch order, same initialisation of the shared weights. Trained networks are
artefacts (``ctx.artefact(train_network, ...)``), so the three claims share
their training through the runner's on-disk cache, whichever worker runs
them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from etude.claims import JudgeContext, Outcome, SeedContext, mean_and_ci, paired_comparison

__all__ = [
    "gain_scaling_judge",
    "gain_scaling_run",
    "heterogeneity_judge",
    "heterogeneity_run",
    "robust_to_input_perturbation_judge",
    "robust_to_input_perturbation_run",
    "train_network",
    "trained",
]

NEURONS = ("relu", "tanh", "gamma", "adaptive-gamma")

#: settings per scale: recurrent units, controller units, epochs, train/test sizes, batch
SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": {"hidden": 8, "controller": 4, "epochs": 1, "max_train": 96, "max_test": 64, "batch": 32},
    "quick": {"hidden": 32, "controller": 16, "epochs": 10, "max_train": None, "max_test": None, "batch": 64},
    "full": {"hidden": 64, "controller": 50, "epochs": 40, "max_train": None, "max_test": None, "batch": 64},
}


def _data(seed: int, s: dict[str, Any]):
    import etude  # noqa: PLC0415

    task = etude.create("task", "sequential-digits", seed=seed, permute=True,
                        max_train=s["max_train"], max_test=s["max_test"])
    return task.split("train"), task.split("test")


def _untrained(neuron: str, seed: int, scale: str):
    from .training import make_model  # noqa: PLC0415

    s = SETTINGS[scale]
    torch.manual_seed(seed)  # same shared-weight initialisation for every neuron type
    gain_init = 5.0 + 2.0 * float(torch.rand((), generator=torch.Generator().manual_seed(seed)))
    return make_model(neuron, hidden_size=s["hidden"], controller_size=s["controller"], gain_init=gain_init)


def train_network(*, seed: int, device: str, neuron: str, scale: str) -> dict[str, Any]:
    """Artefact producer: train one (neuron, seed) network at ``scale``; its CPU state dict and seconds."""
    import time  # noqa: PLC0415

    from .training import fit  # noqa: PLC0415

    s = SETTINGS[scale]
    train, _ = _data(seed, s)
    model = _untrained(neuron, seed, scale)
    start = time.perf_counter()
    fit(model, train.inputs, train.targets, epochs=s["epochs"], batch_size=s["batch"],
        generator=torch.Generator().manual_seed(seed), device=device)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"state": state, "seconds": time.perf_counter() - start}


def trained(ctx: SeedContext, neuron: str) -> dict[str, Any]:
    """The ANRU with ``neuron`` units trained on seed ``ctx.seed`` (shared through the artefact cache).

    Returns ``{"model", "train", "test", "seconds"}``; the model is on CPU.
    """
    produced = ctx.artefact(train_network, neuron=neuron, scale=ctx.scale)
    model = _untrained(neuron, ctx.seed, ctx.scale)
    model.load_state_dict(produced["state"])
    train, test = _data(ctx.seed, SETTINGS[ctx.scale])
    return {"model": model.cpu(), "train": train, "test": test, "seconds": produced["seconds"]}


def _perturbations():
    from .perturbations import AdditiveNoise, SinusoidalGain  # noqa: PLC0415

    return {
        "sin0.5": SinusoidalGain(amplitude=0.5, frequency=1.0, phase=0.0),
        "sin1.0": SinusoidalGain(amplitude=1.0, frequency=1.0, phase=0.0),
        "noise0.2": AdditiveNoise(std=0.2),
    }


# -- claim 1 -------------------------------------------------------------------
def robust_to_input_perturbation_run(ctx: SeedContext) -> dict[str, Any]:
    """Adaptive networks lose less accuracy under the paper's perturbations than fixed-activation ones.

    Pre-registered comparison: relative accuracy drop ``(clean - perturbed) / clean``
    under the sinusoidal input gain (amplitude 0.5, frequency 1, period T,
    phase 0), ReLU minus adaptive-gamma, paired by seed, with a 95% t
    interval (``paired_comparison``). Verdict: True if the interval lies
    above 0; False if it lies below 0, or at ``full`` scale (>= 5 seeds) if it
    contains 0 (the effect was not found); None at ``quick`` when it contains
    0 (too few seeds to decide) and always at ``smoke``. Drops under
    amplitude 1.0 and additive noise (std 0.2), and tanh / learned gamma
    baselines, are reported alongside.
    """
    from .training import accuracy  # noqa: PLC0415

    device = ctx.device
    drops: dict[str, dict[str, float]] = {n: {} for n in NEURONS}
    accs: dict[str, dict[str, float]] = {n: {} for n in NEURONS}
    for neuron in ctx.track(NEURONS, desc="neurons"):
        run = trained(ctx, neuron)
        model, test = run["model"], run["test"]
        clean = accuracy(model, test.inputs, test.targets, device=device)
        accs[neuron]["clean"] = clean
        for name, pert in _perturbations().items():
            acc = accuracy(model, test.inputs, test.targets, perturbation=pert,
                           generator=torch.Generator().manual_seed(1000 + ctx.seed), device=device)
            accs[neuron][name] = acc
            drops[neuron][name] = (clean - acc) / max(clean, 1e-9)
        model.cpu()
    return {"accs": accs, "drops": drops}


def robust_to_input_perturbation_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``adaptive-neurons/robust-to-input-perturbation`` (rule in the run's docstring)."""
    accs = {n: {c: [r["accs"][n][c] for r in runs] for c in runs[0]["accs"][n]} for n in NEURONS}
    drops = {n: {c: [r["drops"][n][c] for r in runs] for c in runs[0]["drops"][n]} for n in NEURONS}
    metrics: dict[str, Any] = {}
    for neuron in NEURONS:
        for name, values in accs[neuron].items():
            metrics[f"acc_{name}_{neuron}"] = sum(values) / len(values)
        for name, values in drops[neuron].items():
            metrics[f"drop_{name}_{neuron}"] = sum(values) / len(values)
    primary = paired_comparison(drops["relu"]["sin0.5"], drops["adaptive-gamma"]["sin0.5"])
    metrics.update(primary.as_dict("relu_minus_adaptive_drop_sin0.5_"))
    for other in ("tanh", "gamma"):
        for name in ("sin0.5", "noise0.2"):
            pc = paired_comparison(drops[other][name], drops["adaptive-gamma"][name])
            metrics[f"{other}_minus_adaptive_drop_{name}_mean_diff"] = pc.mean
            metrics[f"{other}_minus_adaptive_drop_{name}_ci_low"] = pc.ci_low
            metrics[f"{other}_minus_adaptive_drop_{name}_ci_high"] = pc.ci_high
    pc_noise = paired_comparison(drops["relu"]["noise0.2"], drops["adaptive-gamma"]["noise0.2"])
    metrics.update(pc_noise.as_dict("relu_minus_adaptive_drop_noise0.2_"))

    if ctx.scale == "smoke":
        holds, why = None, "smoke scale trains for one epoch on a few sequences: mechanics only, no verdict."
    elif primary.significant_positive:
        holds, why = True, "the adaptive network's drop is significantly smaller than ReLU's."
    elif primary.significant_negative:
        holds, why = False, "the adaptive network's drop is significantly larger than ReLU's."
    elif ctx.scale == "full":
        holds, why = False, f"no significant difference over {len(ctx.seeds)} seeds: the effect was not reproduced."
    else:
        holds, why = None, f"the 95% interval contains 0 with {len(ctx.seeds)} seed(s): undecided at this scale."
    s = SETTINGS[ctx.scale]
    notes = (f"Permuted sequential digits (T=64), {s['hidden']} units, controller {s['controller']}, "
             f"{s['epochs']} epochs, seeds {list(ctx.seeds)}. Relative drop under sin(A=0.5): "
             + ", ".join(f"{n} {metrics[f'drop_sin0.5_{n}']:.3f}" for n in NEURONS)
             + f". ReLU minus adaptive: {primary.mean:+.3f} [{primary.ci_low:+.3f}, {primary.ci_high:+.3f}]. " + why)
    _robustness_figure(ctx, accs)
    return Outcome(holds=holds, metrics=metrics, notes=notes)


def _robustness_figure(ctx: JudgeContext, accs: dict[str, dict[str, list[float]]]) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    conditions = ["clean", "sin0.5", "sin1.0", "noise0.2"]
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    width = 0.8 / len(NEURONS)
    for i, neuron in enumerate(NEURONS):
        means = [sum(accs[neuron][c]) / len(accs[neuron][c]) for c in conditions]
        ax.bar([j + i * width for j in range(len(conditions))], means, width, label=neuron)
        for j, c in enumerate(conditions):
            ax.scatter([j + i * width] * len(accs[neuron][c]), accs[neuron][c], color="k", s=6, zorder=3)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(conditions))], conditions)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Sequential digits, {ctx.scale} scale, {len(ctx.seeds)} seed(s)")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "accuracy")


# -- claim 2 -------------------------------------------------------------------
def gain_scaling_run(ctx: SeedContext) -> dict[str, Any]:
    """After training, a step increase of input amplitude lowers the controller's mean gain n_t.

    For each seed the trained adaptive network sees every test sequence
    twice: as is, and with the nonzero inputs of the second half doubled
    (``StepGain(step_size=1, start=0.5, length=0.5)``). The per-sequence
    change of mean ``n_t`` over the second half (units and steps averaged) has
    a 95% t interval over test sequences. Verdict: True if the interval is
    below 0 for every seed (gain decreases), False if it is above 0 for any
    seed, None otherwise and at ``smoke``. Also reported: mean ``n_t`` when the
    whole sequence is scaled by 0.5, 1, 2 (the slope against log amplitude).
    """
    from .perturbations import StepGain  # noqa: PLC0415
    from .training import shape_trace  # noqa: PLC0415

    device, seed = ctx.device, ctx.seed
    run = trained(ctx, "adaptive-gamma")
    model, test = run["model"], run["test"]
    T = test.inputs.shape[1]
    half = T // 2
    base = shape_trace(model, test.inputs, device=device)["n"]
    stepped_inputs = StepGain(step_size=1.0, start=0.5, length=0.5)(test.inputs, test.targets, num_classes=10).inputs
    stepped = shape_trace(model, stepped_inputs, device=device)["n"]
    delta = (stepped[:, half:] - base[:, half:]).mean(dim=(1, 2))
    mean, low, high = mean_and_ci(delta.tolist())
    # control: the same network before training (does the initial controller already scale?)
    untrained = _untrained("adaptive-gamma", seed, ctx.scale)
    control = (shape_trace(untrained, stepped_inputs, device=device)["n"][:, half:]
               - shape_trace(untrained, test.inputs, device=device)["n"][:, half:]).mean()
    entry = {"seed": seed, "delta_n": mean, "ci_low": low, "ci_high": high,
             "n_base": float(base[:, half:].mean()), "delta_n_untrained": float(control)}
    levels = [0.5, 1.0, 2.0]
    ns = [float(shape_trace(model, test.inputs * c, device=device)["n"][:, T // 4:].mean()) for c in levels]
    logs = [math.log(c) for c in levels]
    mx, my = sum(logs) / 3, sum(ns) / 3
    slope = sum((a - mx) * (b - my) for a, b in zip(logs, ns)) / sum((a - mx) ** 2 for a in logs)
    curve = {"base": base.mean(dim=(0, 2)), "stepped": stepped.mean(dim=(0, 2)), "levels": levels, "ns": ns}
    model.cpu()
    return {"entry": entry, "slope": slope, "curve": curve, "half": half}


def gain_scaling_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``adaptive-neurons/gain-scaling`` (rule in the run's docstring)."""
    per_seed = [r["entry"] for r in runs]
    slopes = [r["slope"] for r in runs]
    curves = [(torch.tensor(r["curve"]["base"]), torch.tensor(r["curve"]["stepped"]), r["curve"]["levels"],
               r["curve"]["ns"]) for r in runs]
    half = runs[-1]["half"]
    metrics: dict[str, Any] = {
        "delta_n_step": sum(p["delta_n"] for p in per_seed) / len(per_seed),
        "n_before_step": sum(p["n_base"] for p in per_seed) / len(per_seed),
        "delta_n_step_untrained": sum(p["delta_n_untrained"] for p in per_seed) / len(per_seed),
        "slope_n_vs_log_amplitude": sum(slopes) / len(slopes),
        "per_seed": per_seed,
    }
    if len(slopes) > 1:
        m, lo, hi = mean_and_ci(slopes)
        metrics.update({"slope_ci_low": lo, "slope_ci_high": hi})
    if ctx.scale == "smoke":
        holds, why = None, "smoke scale: one epoch on a few sequences, no verdict."
    elif all(p["ci_high"] < 0 for p in per_seed):
        holds, why = True, "n_t decreases after the input step in every seed (gain scaling)."
    elif any(p["ci_low"] > 0 for p in per_seed):
        holds, why = False, "n_t increases after the input step in at least one seed."
    else:
        holds, why = None, "the change of n_t is not significant in every seed."
    notes = ("Mean n_t change after doubling the input amplitude (second half): "
             + ", ".join(f"seed {p['seed']}: {p['delta_n']:+.4f} [{p['ci_low']:+.4f}, {p['ci_high']:+.4f}]" for p in per_seed)
             + f"; untrained control {metrics['delta_n_step_untrained']:+.4f}"
             + f"; slope of mean n_t vs log amplitude {metrics['slope_n_vs_log_amplitude']:+.4f}. " + why)
    _gain_figure(ctx, curves, half)
    return Outcome(holds=holds, metrics=metrics, notes=notes)


def _gain_figure(ctx: JudgeContext, curves, half) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2))
    for i, (base, stepped, levels, ns) in enumerate(curves):
        ax1.plot(base.numpy(), color=f"C{i}", label=f"seed {ctx.seeds[i]}: clean")
        ax1.plot(stepped.numpy(), color=f"C{i}", ls="--", label=f"seed {ctx.seeds[i]}: x2 from t={half}")
        ax2.plot(levels, ns, "o-", color=f"C{i}")
    ax1.axvline(half, color="grey", lw=0.8)
    ax1.set_xlabel("time step")
    ax1.set_ylabel("mean gain n_t")
    ax1.legend(fontsize=7)
    ax2.set_xscale("log")
    ax2.set_xlabel("input amplitude")
    ax2.set_ylabel("mean gain n_t")
    fig.tight_layout()
    ctx.save_figure(fig, "gain")


# -- claim 3 -------------------------------------------------------------------
def heterogeneity_run(ctx: SeedContext) -> dict[str, Any]:
    """Training spreads the learned (n_i, s_i) of initially identical neurons.

    The gamma network starts homogeneous (one n for all neurons, s = 0.1).
    Criterion, fixed before running: shapes are "diverse" when the
    interquartile range of learned n across neurons is at least 10% of the
    median n, or the IQR of s is at least 0.05. For the adaptive network the
    same statistics of each neuron's time-averaged (n_t, s_t) on test data are
    reported. Verdict: True if the gamma network is diverse in every seed,
    False if in none, None if mixed and at ``smoke``.
    """
    from .training import shape_trace  # noqa: PLC0415

    seed = ctx.seed
    model = trained(ctx, "gamma")["model"]
    n = model.neuron.n.detach().cpu().double()
    s = model.neuron.s.detach().cpu().double()
    entry = {
        "seed": seed,
        "n_init": float(model.neuron.config.n_init),
        "n_median": float(n.median()),
        "n_iqr": float(n.quantile(0.75) - n.quantile(0.25)),
        "n_cv": float(n.std() / n.mean()),
        "s_median": float(s.median()),
        "s_iqr": float(s.quantile(0.75) - s.quantile(0.25)),
    }
    entry["diverse"] = entry["n_iqr"] >= 0.1 * entry["n_median"] or entry["s_iqr"] >= 0.05
    adaptive = trained(ctx, "adaptive-gamma")
    trace = shape_trace(adaptive["model"], adaptive["test"].inputs, device=ctx.device)
    na, sa = trace["n"].mean(dim=(0, 1)).double(), trace["s"].mean(dim=(0, 1)).double()
    entry.update({
        "adaptive_n_median": float(na.median()),
        "adaptive_n_iqr": float(na.quantile(0.75) - na.quantile(0.25)),
        "adaptive_s_median": float(sa.median()),
        "adaptive_s_iqr": float(sa.quantile(0.75) - sa.quantile(0.25)),
    })
    return {"entry": entry, "learned": {"n": n, "s": s, "adaptive_n": na, "adaptive_s": sa}}


def heterogeneity_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``adaptive-neurons/heterogeneity`` (rule in the run's docstring)."""
    per_seed = [r["entry"] for r in runs]
    learned = [tuple(torch.tensor(r["learned"][k], dtype=torch.float64) for k in ("n", "s", "adaptive_n", "adaptive_s"))
               for r in runs]
    metrics: dict[str, Any] = {
        key: sum(p[key] for p in per_seed) / len(per_seed)
        for key in ("n_median", "n_iqr", "n_cv", "s_median", "s_iqr", "adaptive_n_iqr", "adaptive_s_iqr")
    }
    metrics["per_seed"] = per_seed
    diverse = [p["diverse"] for p in per_seed]
    if ctx.scale == "smoke":
        holds, why = None, "smoke scale: one epoch, no verdict."
    elif all(diverse):
        holds, why = True, "learned shapes are diverse in every seed."
    elif not any(diverse):
        holds, why = False, "learned shapes stay close to homogeneous in every seed."
    else:
        holds, why = None, "diverse in some seeds only."
    notes = ("Learned gamma, per seed: "
             + "; ".join(f"seed {p['seed']}: n median {p['n_median']:.3f} IQR {p['n_iqr']:.3f} (start {p['n_init']:.3f}), "
                         f"s median {p['s_median']:.3f} IQR {p['s_iqr']:.3f}" for p in per_seed)
             + ". Criterion: IQR(n) >= 0.1 median(n) or IQR(s) >= 0.05. " + why)
    _heterogeneity_figure(ctx, learned)
    return Outcome(holds=holds, metrics=metrics, notes=notes)


def _heterogeneity_figure(ctx: JudgeContext, learned) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), sharey=False)
    for i, (n, s, na, sa) in enumerate(learned):
        ax1.scatter(n.numpy(), s.numpy(), s=10, color=f"C{i}", label=f"seed {ctx.seeds[i]}")
        ax2.scatter(na.numpy(), sa.numpy(), s=10, color=f"C{i}")
    ax1.set_title("learned gamma: (n_i, s_i)")
    ax2.set_title("adaptive: time-averaged (n_t, s_t)")
    for ax in (ax1, ax2):
        ax.set_xlabel("gain n")
        ax.set_ylabel("saturation s")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "shapes")
