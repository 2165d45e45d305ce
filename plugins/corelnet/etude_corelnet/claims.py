"""CoRelNet's claims as per-seed runs and judges (smoke / quick / full).

Every model is trained with the core's ``procedure/supervised`` (Adam 5e-4,
constant rate, no weight decay: the paper's defaults) on the unit's seed; the
task's seed (which objects are held out, which examples are drawn) is the
unit's seed too. A trained model's accuracies are an artefact
(:meth:`etude.claims.SeedContext.artefact`), so CoRelNet on RMTS is trained
once per seed for the two claims that use it.

Settings per scale:

* smoke: 256 RMTS examples, one epoch, width 16 (tests only; never a verdict).
* quick (the paper brief's pilot): Gaussian objects in R^32, m = 95 of 100
  held out (5 training objects), encoder MLP 32 -> 64 -> 64, batch 64,
  1 500 steps (6 400 examples x 15 epochs), 1 000 ID and 2 000 OOD examples.
* full (one GPU): the 100 glyphs and the core's CNN encoder (z = 128), batch
  32, 5 000 steps (16 000 examples x 10 epochs), 10 000 OOD examples, m = 95
  (``ood-generalisation`` also m in {0, 50, 85, 98}: the paper's grid).

The harder variants (:mod:`etude_corelnet.variants`) need up to 11 distinct
objects per example, so they run at m = 85 (15 training objects; m = 85 is in
the paper's grid): their OOD split has new relations on new objects.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from etude.claims import JudgeContext, Outcome, SeedContext, paired_comparison

BASELINES = ("relational-mlp", "relational-transformer")
TASKS = ("rmts", "same-different", "distribution-of-3", "identity-rules")
HOLDOUTS_FULL = (0, 50, 85, 95, 98)
HARD = ("rmts3-hard", "dist10-hard7", "identity-rules4-flipped")
HARD_TASK = {"rmts3-hard": "rmts", "dist10-hard7": "distribution-of-3", "identity-rules4-flipped": "identity-rules"}
HARD_HOLDOUT = 85


def settings(ctx: SeedContext | JudgeContext) -> dict[str, Any]:
    """Task, model and procedure options at the context's scale (see the module docstring)."""
    if ctx.scale == "smoke":
        return {"task": {"num_train": 256, "num_test": 64, "num_ood": 128, "holdout": 95},
                "model": {"z_dim": 16, "encoder_options": {"hidden": [16]}},
                "proc": {"epochs": 1, "batch_size": 64}}
    if ctx.scale == "quick":
        return {"task": {"num_train": 6400, "num_test": 1000, "num_ood": 2000, "holdout": 95},
                "model": {"z_dim": 64, "encoder_options": {"hidden": [64]}},
                "proc": {"epochs": 15, "batch_size": 64}}
    if ctx.scale == "full":
        return {"task": {"object_bank": "glyphs", "num_train": 16000, "num_test": 1000, "num_ood": 10000,
                         "holdout": 95},
                "model": {"z_dim": 128, "encoder": "cnn",
                          "encoder_options": {"channels": [32, 32, 32], "strides": [2, 2, 2], "pool": "flatten"}},
                "proc": {"epochs": 10, "batch_size": 32}}
    raise ValueError(f"unknown scale {ctx.scale!r}")


def train_and_evaluate(*, seed: int, device: str, task: str, task_options: dict, model: str,
                       model_options: dict, proc_options: dict) -> dict[str, float]:
    """Train ``model`` on ``task`` with procedure/supervised; ID (test) and OOD accuracy and seconds.

    A module-level producer for :meth:`SeedContext.artefact` (its value is
    cached per seed, device, configuration and plugin version).
    """
    import torch  # noqa: PLC0415

    import etude  # noqa: PLC0415
    from etude.data.supervised import accuracy  # noqa: PLC0415

    t = etude.create("task", task, seed=int(seed), **task_options)
    options = dict(model_options)
    if model == "relational-transformer":
        options.setdefault("layers", 1)
    proc = etude.create("procedure", "supervised", model=model, model_options=options, optimizer="adam", lr=5e-4,
                        weight_decay=0.0, schedule="constant", eval_every=int(proc_options["epochs"]), **proc_options)
    start = time.process_time()
    result = proc.run(t, seed=int(seed), device=device)
    net = result.models["model"]
    ood = t.split("ood")
    with torch.no_grad():
        ood_acc = accuracy(net, ood.inputs.to(device), ood.targets.to(device))
        extra = {}
        if "novel-rules" in t.split_names:  # a harder variant: new relations on the training objects
            nr = t.split("novel-rules")
            extra["novel_rules_accuracy"] = float(accuracy(net, nr.inputs.to(device), nr.targets.to(device)))
    return {"id_accuracy": float(result.metrics["test_accuracy"]), "ood_accuracy": float(ood_acc),
            "train_accuracy": float(result.metrics["train_accuracy"]), "cpu_seconds": time.process_time() - start,
            **extra}


def _train(ctx: SeedContext, task: str, model: str, task_overrides: dict | None = None,
           **model_overrides: Any) -> dict[str, float]:
    s = settings(ctx)
    task_options = {**s["task"], **(task_overrides or {})}
    if model == "relational-transformer" and ctx.scale == "full":
        model_overrides = {"layers": 2, **model_overrides}
    if model != "corelnet" and "concat_sensory" in model_overrides:
        raise ValueError("concat_sensory is an option of corelnet only")
    return ctx.artefact(train_and_evaluate, task=task, task_options=task_options, model=model,
                        model_options={**s["model"], **model_overrides}, proc_options=s["proc"])


def _per_model(runs: list[dict], key: str, models: tuple[str, ...]) -> dict[str, list[float]]:
    return {m: [float(r[key][m]["ood_accuracy"]) for r in runs] for m in models}


def _bars(ctx: JudgeContext, values: dict[str, list[float]], title: str, name: str, chance: float | None = None,
          ylabel: str = "OOD accuracy (held-out objects)") -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3))
    names = list(values)
    ax.bar(names, [np.mean(values[n]) for n in names], color="lightgrey", edgecolor="k")
    for i, n in enumerate(names):
        ax.scatter([i] * len(values[n]), values[n], color="k", s=12, zorder=3)
    ax.axhline(chance if chance is not None else (1.0 / 2 if "rmts" in name else 0.25), color="r", lw=0.8, ls="--",
               label="chance")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} [{ctx.scale}]", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7)
    ctx.save_figure(fig, name)


# -- corelnet/ood-generalisation ----------------------------------------------------
FULL_MODELS = ("corelnet", "relational-mlp", "relational-transformer", "relational-lstm", "esbn")


def _feasible(task: str, holdout: int) -> bool:
    """Whether ``task`` can be drawn with ``holdout`` of 100 objects held out (enough distinct objects each side)."""
    from .tasks import _DISTINCT  # noqa: PLC0415

    need = _DISTINCT[task]
    return 100 - holdout >= need and (holdout == 0 or holdout >= need)


def ood_generalisation_run(ctx: SeedContext) -> dict[str, Any]:
    """CoRelNet vs an MLP and a transformer on the same encoder, RMTS with 95 of 100 objects held out.

    Per seed: ID and OOD accuracy of CoRelNet (context norm, full softmax, the
    paper's formula), ``relational-mlp`` and a 1-layer ``relational-transformer``
    (8 heads) on RMTS; same/different is trained and logged, not judged (an MLP
    reaches 0.94 OOD on it with random vectors: a poor gate).

    Verdict (fixed before the first run): holds when CoRelNet's RMTS OOD
    accuracy is >= 0.97 on every seed AND the paired 95% t interval of
    CoRelNet - the better baseline (higher mean OOD accuracy) lies above 0.15.
    Does not hold when CoRelNet is below 0.97 on some seed or the interval lies
    entirely below 0.15; inconclusive otherwise. No verdict at smoke scale.

    Full scale (the issue's rule, fixed before any full run): glyphs and the
    conv encoder, all four tasks, m in {0, 50, 85, 95, 98} (a (task, m) pair
    that cannot be drawn, e.g. RMTS needs 5 distinct training objects and m = 98
    leaves 2, is recorded as not run), models CoRelNet, MLP, transformer
    (2 layers), LSTM and ESBN, 5 seeds. Per task at m = 95 the task holds when
    the paired intervals of CoRelNet - transformer and CoRelNet - LSTM both lie
    above 0 and CoRelNet's mean OOD accuracy is at least ESBN's - 0.02; it fails
    when either interval lies below 0 or CoRelNet's mean is below ESBN's - 0.02.
    The claim holds when all four tasks hold, does not hold when one fails,
    else inconclusive. The other m are logged.
    """
    if ctx.scale != "full":
        out: dict[str, Any] = {"rmts": {}, "same-different": {}}
        for task in out:
            for model in ctx.track(("corelnet", *BASELINES), desc=f"{ctx.claim_id} {task}"):
                out[task][model] = _train(ctx, task, model)
        return out
    out = {"grid": {}}
    for m in HOLDOUTS_FULL:
        for task in TASKS:
            if not _feasible(task, m):
                out["grid"].setdefault(f"m{m}", {})[task] = "not run: too few objects for this task"
                continue
            res = {model: _train(ctx, task, model, {"holdout": m})
                   for model in ctx.track(FULL_MODELS, desc=f"{ctx.claim_id} {task} m={m}")}
            if m == 95:
                out[task] = res
            else:
                out["grid"].setdefault(f"m{m}", {})[task] = {k: v["ood_accuracy"] for k, v in res.items()}
    return out


def _ood_full_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    metrics: dict[str, Any] = {"grid_per_seed": [r["grid"] for r in runs]}
    verdicts, notes = [], []
    for task in TASKS:
        ood = _per_model(runs, task, FULL_MODELS)
        tsf = paired_comparison(ood["corelnet"], ood["relational-transformer"])
        lstm = paired_comparison(ood["corelnet"], ood["relational-lstm"])
        esbn_gap = float(np.mean(ood["corelnet"]) - np.mean(ood["esbn"]))
        _bars(ctx, ood, f"{task}, m = 95", f"{task}-ood-full", chance=1.0 / (2 if task in ("rmts", "same-different")
                                                                              else 4))
        metrics[task] = {"per_seed_ood": ood, **tsf.as_dict("corelnet_minus_transformer_"),
                         **lstm.as_dict("corelnet_minus_lstm_"), "corelnet_minus_esbn_mean": esbn_gap}
        if tsf.significant_negative or lstm.significant_negative or esbn_gap < -0.02:
            verdicts.append(False)
        elif tsf.significant_positive and lstm.significant_positive:
            verdicts.append(True)
        else:
            verdicts.append(None)
        notes.append(f"{task}: CoRelNet {np.mean(ood['corelnet']):.3f}, transformer "
                     f"{np.mean(ood['relational-transformer']):.3f}, LSTM {np.mean(ood['relational-lstm']):.3f}, "
                     f"ESBN {np.mean(ood['esbn']):.3f}")
    holds = False if False in verdicts else (True if all(v is True for v in verdicts) else None)
    return Outcome(holds=holds, metrics=metrics, notes="m = 95, OOD: " + "; ".join(notes))


def ood_generalisation_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``corelnet/ood-generalisation`` (rule in the run's docstring)."""
    if ctx.scale == "full":
        return _ood_full_judge(ctx, runs)
    models = ("corelnet", *BASELINES)
    ood = _per_model(runs, "rmts", models)
    same_diff = _per_model(runs, "same-different", models)
    best = max(BASELINES, key=lambda m: np.mean(ood[m]))
    cmp = paired_comparison(ood["corelnet"], ood[best])
    _bars(ctx, ood, "RMTS, m = 95: OOD accuracy", "rmts-ood")
    metrics = {"per_seed_ood": ood, "per_seed_id": {m: [r["rmts"][m]["id_accuracy"] for r in runs] for m in models},
               "same_different_per_seed_ood": same_diff, "better_baseline": best,
               **cmp.as_dict("corelnet_minus_better_"), "min_corelnet_ood": min(ood["corelnet"]),
               "cpu_seconds": sum(v["cpu_seconds"] for r in runs for t in r.values() for v in t.values())}
    text = (f"RMTS OOD: CoRelNet {np.round(ood['corelnet'], 3).tolist()}, MLP {np.round(ood['relational-mlp'], 3).tolist()}, "
            f"transformer {np.round(ood['relational-transformer'], 3).tolist()}; CoRelNet - {best} = "
            f"{cmp.mean:+.3f} [{cmp.ci_low:+.3f}, {cmp.ci_high:+.3f}]")
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke scale decides nothing; " + text)
    if min(ood["corelnet"]) < 0.97 or cmp.ci_high < 0.15:
        return Outcome(holds=False, metrics=metrics, notes=text)
    return Outcome(holds=True if cmp.ci_low > 0.15 else None, metrics=metrics, notes=text)


# -- corelnet/partition-ablation ----------------------------------------------------
def _ablation_tasks(ctx: SeedContext | JudgeContext) -> tuple[str, ...]:
    return TASKS if ctx.scale == "full" else ("rmts",)


def partition_ablation_run(ctx: SeedContext) -> dict[str, Any]:
    """CoRelNet vs its ``_cat`` form (``concat_sensory=True``: Z joins R at the decoder), RMTS OOD accuracy.

    Verdict (fixed before the first run): holds when the paired 95% t interval
    of OOD accuracy CoRelNet - CoRelNet_cat lies above 0; does not hold when it
    lies below 0; inconclusive otherwise (and at smoke scale). Full scale: the
    same rule on each of the four tasks at m = 95 (glyphs, conv encoder); holds
    when it holds on all four, does not hold when it fails on one.
    """
    return {task: {"corelnet": _train(ctx, task, "corelnet"),
                   "corelnet-cat": _train(ctx, task, "corelnet", concat_sensory=True)}
            for task in ctx.track(_ablation_tasks(ctx), desc=ctx.claim_id)}


def partition_ablation_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``corelnet/partition-ablation`` (rule in the run's docstring)."""
    tasks = _ablation_tasks(ctx)
    verdicts, notes, metrics = [], [], {}
    for task in tasks:
        ood = _per_model(runs, task, ("corelnet", "corelnet-cat"))
        cmp = paired_comparison(ood["corelnet"], ood["corelnet-cat"])
        _bars(ctx, ood, f"{task}, m = 95: partition ablation", f"{task}-partition",
              chance=0.5 if task in ("rmts", "same-different") else 0.25)
        m = {"per_seed_ood": ood, "per_seed_id": {k: [float(r[task][k]["id_accuracy"]) for r in runs] for k in ood},
             **cmp.as_dict()}
        if len(tasks) == 1:
            metrics.update(m)
        else:
            metrics[task] = m
        verdicts.append(True if cmp.significant_positive else (False if cmp.significant_negative else None))
        notes.append(f"{task} OOD: CoRelNet {np.round(ood['corelnet'], 3).tolist()}, _cat "
                     f"{np.round(ood['corelnet-cat'], 3).tolist()}; difference {cmp.mean:+.3f} "
                     f"[{cmp.ci_low:+.3f}, {cmp.ci_high:+.3f}]")
    text = "; ".join(notes)
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke scale decides nothing; " + text)
    holds = False if False in verdicts else (True if all(v is True for v in verdicts) else None)
    return Outcome(holds=holds, metrics=metrics, notes=text)


# -- corelnet/across-tasks ----------------------------------------------------------
ACROSS = ("distribution-of-3", "identity-rules")


#: ESBN below full scale: controller 128, keys 64 (the reference's 512 / 256 cost ~0.3 CPU-s per step on the
#: 31-step dist10-hard7 sequences: 1 500 steps would be minutes per run on this CPU).
ESBN_SMALL = {"hidden": 128, "key_dim": 64}


def _hard_runs(ctx: SeedContext, models: tuple[str, ...]) -> dict[str, Any]:
    small = ESBN_SMALL if ctx.scale != "full" else {}
    return {v: {m: _train(ctx, HARD_TASK[v], m, {"variant": v, "holdout": HARD_HOLDOUT},
                          **(small if m == "esbn" else {})) for m in models}
            for v in ctx.track(HARD, desc=ctx.claim_id)}


def _hard_judge(ctx: JudgeContext, runs: list[dict], models: tuple[str, ...]) -> tuple[list, dict, list[str]]:
    """Per variant: the paired interval of CoRelNet - ESBN (OOD: test relations on held-out objects)."""
    from .variants import VARIANTS  # noqa: PLC0415

    verdicts, metrics, notes = [], {}, []
    for v in HARD:
        ood = _per_model(runs, v, models)
        novel = {m: [float(r[v][m].get("novel_rules_accuracy", float("nan"))) for r in runs] for m in models}
        ident = {m: [float(r[v][m]["id_accuracy"]) for r in runs] for m in models}
        cmp = paired_comparison(ood["corelnet"], ood["esbn"])
        _bars(ctx, ood, f"{v}, m = {HARD_HOLDOUT}: new relations, new objects", f"{v}-ood",
              chance=1.0 / VARIANTS[v].num_classes, ylabel="OOD accuracy (test relations, held-out objects)")
        metrics[v] = {"per_seed_ood": ood, "per_seed_novel_rules": novel, "per_seed_id": ident,
                      **cmp.as_dict("corelnet_minus_esbn_")}
        verdicts.append(True if cmp.significant_positive else (False if cmp.significant_negative else None))
        notes.append(f"{v}: " + ", ".join(f"{m} {np.mean(ood[m]):.3f} (ID {np.mean(ident[m]):.3f}, "
                                          f"new relations on training objects {np.mean(novel[m]):.3f})"
                                          for m in models)
                     + f"; CoRelNet - ESBN {cmp.mean:+.3f} [{cmp.ci_low:+.3f}, {cmp.ci_high:+.3f}]")
    return verdicts, metrics, notes


def across_tasks_run(ctx: SeedContext) -> dict[str, Any]:
    """CoRelNet vs the 1-layer transformer on distribution-of-3 and identity-rules (the RMTS setting).

    Verdict (fixed before the first run): holds when the paired 95% t interval
    of OOD accuracy CoRelNet - transformer lies above 0 on both tasks; does not
    hold when it lies below 0 on either; inconclusive otherwise (and at smoke).

    Full scale (the issue's rule, fixed before any full run): the harder
    variants rmts3-hard, dist10-hard7 and identity-rules4-flipped at m = 85
    (glyphs, conv encoder; OOD = the test relations on held-out objects),
    CoRelNet vs ESBN, 5 seeds: holds when the paired interval of CoRelNet -
    ESBN lies above 0 on all three, does not hold when it lies below 0 on one,
    else inconclusive. (``corelnet/harder-variants`` is the CPU analogue.)
    """
    if ctx.scale == "full":
        return _hard_runs(ctx, ("corelnet", "esbn"))
    return {task: {m: _train(ctx, task, m) for m in ("corelnet", "relational-transformer")}
            for task in ctx.track(ACROSS, desc=ctx.claim_id)}


def across_tasks_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``corelnet/across-tasks`` (rule in the run's docstring)."""
    if ctx.scale == "full":
        verdicts, metrics, notes = _hard_judge(ctx, runs, ("corelnet", "esbn"))
        holds = False if False in verdicts else (True if all(v is True for v in verdicts) else None)
        return Outcome(holds=holds, metrics=metrics, notes="; ".join(notes))
    metrics: dict[str, Any] = {}
    verdicts, notes = [], []
    for task in ACROSS:
        ood = _per_model(runs, task, ("corelnet", "relational-transformer"))
        cmp = paired_comparison(ood["corelnet"], ood["relational-transformer"])
        _bars(ctx, ood, f"{task}, m = 95", f"{task}-ood")
        ident = {m: [float(r[task][m]["id_accuracy"]) for r in runs] for m in ood}
        metrics[task] = {"per_seed_ood": ood, "per_seed_id": ident, **cmp.as_dict()}
        verdicts.append(True if cmp.significant_positive else (False if cmp.significant_negative else None))
        notes.append(f"{task}: CoRelNet {np.round(ood['corelnet'], 3).tolist()}, transformer "
                     f"{np.round(ood['relational-transformer'], 3).tolist()} (its ID accuracy "
                     f"{np.round(ident['relational-transformer'], 3).tolist()}), diff {cmp.mean:+.3f} "
                     f"[{cmp.ci_low:+.3f}, {cmp.ci_high:+.3f}]")
    text = "; ".join(notes)
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke scale decides nothing; " + text)
    holds = False if False in verdicts else (True if all(v is True for v in verdicts) else None)
    return Outcome(holds=holds, metrics=metrics, notes=text)


# -- corelnet/harder-variants -------------------------------------------------------
HARD_MODELS = ("corelnet", "esbn")


def harder_variants_run(ctx: SeedContext) -> dict[str, Any]:
    """CoRelNet vs ESBN on the three harder variants at m = 85, quick setting.

    The CPU analogue of ``corelnet/across-tasks`` at full scale: Gaussian
    objects in R^32, m = 85 of 100 held out (15 training objects; the variants
    need up to 11 distinct objects per example), the quick encoder and budget.
    Per seed and variant: OOD accuracy (the test relations on held-out objects,
    as the repository tests), accuracy on the test relations over the training
    objects (``novel-rules``) and ID accuracy, for CoRelNet and ESBN (controller
    128, keys 64 below full scale: ``ESBN_SMALL``).

    Verdict (fixed before the first run): holds when the paired 95% t interval
    of OOD accuracy CoRelNet - ESBN lies above 0 on all three variants; does not
    hold when it lies below 0 on one; inconclusive otherwise (and at smoke).
    """
    return _hard_runs(ctx, HARD_MODELS)


def harder_variants_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``corelnet/harder-variants`` (rule in the run's docstring)."""
    verdicts, metrics, notes = _hard_judge(ctx, runs, HARD_MODELS)
    metrics["cpu_seconds"] = sum(x["cpu_seconds"] for r in runs for v in r.values() for x in v.values())
    text = "; ".join(notes)
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke scale decides nothing; " + text)
    holds = False if False in verdicts else (True if all(v is True for v in verdicts) else None)
    return Outcome(holds=holds, metrics=metrics, notes=text)
