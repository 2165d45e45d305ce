"""Claims of Baratin et al. (AISTATS 2021), as per-seed units and judges.

Every run trains with the core's ``procedure/supervised`` on ``task/digits``
(quick) and measures with the callbacks of :mod:`.callbacks`. The trained
runs shared by two claims (true / random labels, 30 epochs) come from the
artefact cache (``ctx.artefact``), so they are trained once per seed.

Quick setting (issue 27): digits (the core's split, 1 347 train / 450
test), MLP 64-256-256-10 (ReLU), SGD lr 0.05, momentum 0.9 (no Nesterov,
no weight decay, constant lr), batch 64, NTK on a fixed 100-example train
subset; full Grams at iteration 0, after epochs 1 and 3 and at the end, Tr K
at those checkpoints only (the log-spaced ``ceil(5 * 1.15^k)`` Tr K
schedule is used where it is the measurement: the path complexity). Full: MNIST-1D, a 1-D CNN, n = 500
(sized for one GPU; the paper's MNIST MLPs / CIFAR-10 VGG-19 need the files).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from etude.claims import JudgeContext, Outcome, SeedContext, mean_and_ci, paired_comparison

from .callbacks import AlignmentTracker, PathComplexity, StopAtTrainAccuracy


def _setting(ctx: SeedContext | JudgeContext) -> dict[str, Any]:
    return ctx.pick(
        smoke={"task": "digits", "model": "mlp", "model_options": {"hidden": [32, 32]}, "epochs": 2, "n": 20,
               "deep": [16, 16, 16], "max_epochs": 3},
        quick={"task": "digits", "model": "mlp", "model_options": {"hidden": [256, 256]}, "epochs": 30, "n": 100,
               "deep": [128, 128, 128, 128], "max_epochs": 150},
        full={"task": "mnist1d", "model": "cnn", "model_options": {"channels": [64, 64, 64]}, "epochs": 50, "n": 500,
              "deep": [256, 256, 256, 256], "max_epochs": 300},
    )


def _procedure(model: str, model_options: dict, epochs: int):
    from etude.data import SupervisedTraining  # noqa: PLC0415

    return SupervisedTraining(model=model, model_options=model_options, optimizer="sgd", lr=0.05, momentum=0.9,
                              nesterov=False, weight_decay=0.0, schedule="constant", epochs=epochs, batch_size=64)


def _task(name: str, fraction: float, seed: int):
    from .labels import RandomLabels  # noqa: PLC0415

    return RandomLabels(base=name, options={"seed": seed}, fraction=fraction, seed=seed)


def train_tracked(*, seed: int, device: str, task: str, fraction: float, model: str, model_options: dict,
                  epochs: int, n: int, gram_epochs: list[int]) -> dict[str, Any]:
    """Train for ``epochs`` with an :class:`AlignmentTracker`; the records and final metrics (artefact producer)."""
    tracker = AlignmentTracker(n=n, test=False, gram_epochs=gram_epochs, seed=seed, trace_schedule=False)
    result = _procedure(model, model_options, epochs).run(_task(task, fraction, seed), seed=seed, device=device,
                                                           callbacks=[tracker])
    return {"records": tracker.records, "test_accuracy": float(result.metrics.get("test_accuracy", float("nan")))}


def train_to_accuracy(*, seed: int, device: str, task: str, fraction: float, model: str, model_options: dict,
                      max_epochs: int, n: int, target: float, layerwise: bool) -> dict[str, Any]:
    """Train until ``target`` train accuracy (at most ``max_epochs``) with path complexity or layer-wise alignment."""
    stop = StopAtTrainAccuracy(target)
    meter = AlignmentTracker(n=n, test=False, gram_epochs=[], seed=seed, trace_schedule=False) if layerwise else PathComplexity(n=n, seed=seed)
    t = _task(task, fraction, seed)
    result = _procedure(model, model_options, max_epochs).run(t, seed=seed, device=device, callbacks=[meter, stop])
    out = {"epochs": stop.epochs_run, "train_accuracy": stop.train_accuracy,
           "test_accuracy": float(result.metrics.get("test_accuracy", float("nan")))}
    out["gap"] = out["train_accuracy"] - out["test_accuracy"]
    if layerwise:
        final = [r for r in meter.records if "alignment_layers" in r][-1]
        out.update(alignment_layers=final["alignment_layers"], alignment=final["alignment"])
    else:
        out.update({k: meter.result[k] for k in ("path_complexity", "frozen_complexity", "norm_dw")})
        out["trace_K_first_last"] = [meter.result["trace_K"][0], meter.result["trace_K"][-1]]
    return out


def _tracked(ctx: SeedContext, fraction: float) -> dict[str, Any]:
    s = _setting(ctx)
    grams = [1, 3] if s["epochs"] > 3 else [1]
    raw = ctx.artefact(train_tracked, task=s["task"], fraction=fraction, model=s["model"],
                       model_options=s["model_options"], epochs=s["epochs"], n=s["n"], gram_epochs=grams)
    full = [r for r in raw["records"] if "alignment" in r]
    trk = [r for r in raw["records"]]
    return {
        "iterations": [r["iteration"] for r in full],
        "epochs": [r["epoch"] for r in full],
        "alignment": [r["alignment"] for r in full],
        "alignment_trace": [r["alignment_trace"] for r in full],
        "alignment_layers_end": full[-1]["alignment_layers"],
        "effective_rank": [r["effective_rank"] for r in full],
        "trace_K_iterations": [r["iteration"] for r in trk],
        "trace_K": [r["trace_K"] for r in trk],
        "test_accuracy": raw["test_accuracy"],
    }


# -- alignment-increases ----------------------------------------------------------------------------
def alignment_increases_run(ctx: SeedContext) -> dict[str, Any]:
    """True labels: the full-kernel alignment at iteration 0, after epochs 1 and 3, and at the end."""
    return _tracked(ctx, 0.0)


def alignment_increases_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run): holds when A(end) >= 1.3 A(init) on every seed (full-kernel
    alignment with the training labels); does not hold when A(end) <= A(init) on average; else inconclusive.
    The trace-kernel alignment is logged, not gated (it rose only 1.23x in the pilots)."""
    init = [r["alignment"][0] for r in runs]
    end = [r["alignment"][-1] for r in runs]
    ratios = [e / i for e, i in zip(end, init, strict=True)]
    cmp = paired_comparison(end, init)
    holds: bool | None
    if all(e >= 1.3 * i for e, i in zip(end, init, strict=True)):
        holds = True
    elif sum(end) / len(end) <= sum(init) / len(init):
        holds = False
    else:
        holds = None
    _figure(ctx, runs, "alignment")
    return Outcome(holds=holds, metrics={
        "alignment_init": init, "alignment_end": end, "ratio_per_seed": ratios,
        "ratio_mean": sum(ratios) / len(ratios), "diff_ci": [cmp.ci_low, cmp.ci_high],
        "alignment_trace_init": [r["alignment_trace"][0] for r in runs],
        "alignment_trace_end": [r["alignment_trace"][-1] for r in runs],
        "trace_K_growth": [r["trace_K"][-1] / r["trace_K"][0] for r in runs],
        "test_accuracy": [r["test_accuracy"] for r in runs],
    }, notes="full-kernel alignment with the labels, fixed 100-example train subset; gate 1.3x on every seed")


# -- random-labels-align-less -----------------------------------------------------------------------
def random_labels_align_less_run(ctx: SeedContext) -> dict[str, Any]:
    """The same runs with true labels and with all labels shuffled (p = 1), paired on one seed."""
    return {"true": _tracked(ctx, 0.0), "random": _tracked(ctx, 1.0)}


def random_labels_align_less_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run): holds when A_true(end) >= 2 A_random(end) on every seed; does not
    hold when the paired mean ratio A_true(end) / A_random(end) is below 1; else inconclusive."""
    a_true = [r["true"]["alignment"][-1] for r in runs]
    a_rand = [r["random"]["alignment"][-1] for r in runs]
    ratios = [t / r if r > 0 else math.inf for t, r in zip(a_true, a_rand, strict=True)]
    mean_ratio = sum(ratios) / len(ratios)
    if all(t >= 2 * r for t, r in zip(a_true, a_rand, strict=True)):
        holds: bool | None = True
    elif mean_ratio < 1:
        holds = False
    else:
        holds = None
    cmp = paired_comparison(a_true, a_rand)
    _figure(ctx, [r["true"] for r in runs], "alignment-true-vs-random", [r["random"] for r in runs])
    return Outcome(holds=holds, metrics={
        "alignment_true_end": a_true, "alignment_random_end": a_rand, "ratio_per_seed": ratios,
        "ratio_mean": mean_ratio, "diff_ci": [cmp.ci_low, cmp.ci_high],
        "alignment_random_init": [r["random"]["alignment"][0] for r in runs],
        "test_accuracy_true": [r["true"]["test_accuracy"] for r in runs],
        "test_accuracy_random": [r["random"]["test_accuracy"] for r in runs],
    }, notes="alignment with the labels trained on (shuffled for random), end of the same 30-epoch budget")


# -- layerwise-profile ------------------------------------------------------------------------------
def layerwise_profile_run(ctx: SeedContext) -> dict[str, Any]:
    """MLP 64-128x4-10 with true labels trained to 99 % train accuracy: alignment of each layer's kernel."""
    s = _setting(ctx)
    model_options = dict(s["model_options"])
    if s["model"] == "mlp":
        model_options["hidden"] = s["deep"]
    return ctx.artefact(train_to_accuracy, task=s["task"], fraction=0.0, model=s["model"],
                        model_options=model_options, max_epochs=s["max_epochs"], n=s["n"], target=0.99,
                        layerwise=True)


def layerwise_profile_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run): holds when the layer of maximal alignment is an interior layer
    (neither the first nor the last) on every seed; does not hold when it is the first or the last on every
    seed; inconclusive otherwise."""
    argmax = [max(range(len(r["alignment_layers"])), key=r["alignment_layers"].__getitem__) for r in runs]
    depth = len(runs[0]["alignment_layers"])
    interior = [0 < a < depth - 1 for a in argmax]
    holds = True if all(interior) else (False if not any(interior) else None)
    return Outcome(holds=holds, metrics={
        "alignment_layers": [r["alignment_layers"] for r in runs], "argmax_layer": argmax,
        "epochs": [r["epochs"] for r in runs], "train_accuracy": [r["train_accuracy"] for r in runs],
    }, notes="layers input to output; the first layer's kernel includes only its weight and bias")


# -- complexity-tracks-gap --------------------------------------------------------------------------
FRACTIONS = (0.0, 0.5, 1.0)


def complexity_tracks_gap_run(ctx: SeedContext) -> dict[str, Any]:
    """Random-label fractions {0, 0.5, 1}, each trained to 99 % train accuracy: gap and complexities."""
    s = _setting(ctx)
    fractions = ctx.pick(smoke=FRACTIONS, quick=FRACTIONS, full=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0))
    out = {}
    for p in fractions:
        out[str(p)] = ctx.artefact(train_to_accuracy, task=s["task"], fraction=float(p), model=s["model"],
                                   model_options=s["model_options"], max_epochs=s["max_epochs"], n=s["n"],
                                   target=0.99, layerwise=False)
    return {"fractions": [float(p) for p in fractions], "by_fraction": out}


def _spearman(a: list[float], b: list[float]) -> float:
    """Spearman rank correlation (no ties expected; ties get their order of appearance)."""
    ra = torch.tensor(a).argsort().argsort().double()
    rb = torch.tensor(b).argsort().argsort().double()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = float(ra.norm() * rb.norm())
    return float((ra * rb).sum()) / den if den > 0 else float("nan")


def _strictly_increasing(values: list[float]) -> bool:
    return all(b > a for a, b in zip(values, values[1:], strict=False))


def complexity_tracks_gap_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run): holds when the path complexity rises strictly with the random-label
    fraction on every seed; does not hold when it fails to on most seeds; inconclusive otherwise. At quick all of
    path complexity, frozen-kernel complexity and ||dw|| order the fractions, so quick cannot tell the paper's
    measure apart from ||w_T - w_0||: all three are reported. At full scale (six fractions 0, 0.2, ..., 1) the
    rule is the issue's: holds when Spearman(gap, path complexity) >= 0.9 on every seed, does not hold when it
    is below 0.9 on most seeds, inconclusive otherwise."""
    keys = ("path_complexity", "frozen_complexity", "norm_dw", "gap")
    table = {k: [[r["by_fraction"][str(p)][k] for p in r["fractions"]] for r in runs] for k in keys}
    ordered = [_strictly_increasing(v) for v in table["path_complexity"]]
    spearman = [_spearman(g, c) for g, c in zip(table["gap"], table["path_complexity"], strict=True)]
    if ctx.scale == "full":
        ordered = [rho >= 0.9 for rho in spearman]
    if all(ordered):
        holds: bool | None = True
    elif sum(not o for o in ordered) > len(ordered) / 2:
        holds = False
    else:
        holds = None
    metrics: dict[str, Any] = {f"{k}_per_seed": v for k, v in table.items()}
    metrics["fractions"] = runs[0]["fractions"]
    metrics["spearman_gap_path_per_seed"] = spearman
    metrics["epochs_per_seed"] = [[r["by_fraction"][str(p)]["epochs"] for p in r["fractions"]] for r in runs]
    for k in ("path_complexity", "frozen_complexity", "norm_dw"):
        metrics[f"{k}_ordered_per_seed"] = [_strictly_increasing(v) for v in table[k]]
    if len(runs) > 1:
        metrics["gap_mean_ci"] = [list(mean_and_ci([v[i] for v in table["gap"]])) for i in range(len(runs[0]["fractions"]))]
    return Outcome(holds=holds, metrics=metrics,
                   notes="complexities on a fixed 100-example train subset; gap = train - test accuracy")


def _figure(ctx: JudgeContext, runs: list[dict], name: str, others: list[dict] | None = None) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
    for label, group, colour in (("true labels", runs, "C0"), ("random labels", others or [], "C3")):
        for i, r in enumerate(group):
            ax[0].plot(r["epochs"], r["alignment"], "o-", color=colour, label=label if i == 0 else None)
            ax[1].loglog([max(t, 1) for t in r["trace_K_iterations"]], r["trace_K"], color=colour,
                         label=label if i == 0 else None)
    ax[0].set(xlabel="epoch", ylabel="centred alignment (full K)", xscale="symlog")
    ax[1].set(xlabel="iteration", ylabel="Tr K")
    ax[0].legend()
    fig.tight_layout()
    ctx.save_figure(fig, name)
    plt.close(fig)


__all__ = [
    "alignment_increases_judge", "alignment_increases_run", "complexity_tracks_gap_judge",
    "complexity_tracks_gap_run", "layerwise_profile_judge", "layerwise_profile_run",
    "random_labels_align_less_judge", "random_labels_align_less_run", "train_tracked", "train_to_accuracy",
]
