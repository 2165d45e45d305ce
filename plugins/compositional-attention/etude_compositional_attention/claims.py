"""The paper's claims as per-seed runs and judges on the contextual retrieval task.

Every comparison trains :class:`RetrievalTransformer` models that differ only
in their attention mechanism (same encoder, decoder, width, data stream,
optimiser and seed), evaluates them on fresh samples with a separate RNG,
and reports parameter counts next to the errors.
"""

from __future__ import annotations

import statistics
from typing import Any

from etude.claims import JudgeContext, Outcome, SeedContext, paired_comparison

from .attention import attention_parameter_count
from .experiment import train_on_task

__all__ = [
    "multihead_parameter_count",
    "ood_retrieval_judge",
    "ood_retrieval_run",
    "parameter_efficiency_judge",
    "parameter_efficiency_run",
    "retrieval_mechanism_judge",
    "retrieval_mechanism_run",
    "retrieval_run",
]

# margins stated before measuring (see the claims' notes)
MECHANISM_MARGIN = 0.8  # compositional L1 <= 0.8 x each multi-head baseline's L1, on every seed
EFFICIENCY_MARGIN = 0.9  # the smaller compositional attention's L1 <= 0.9 x multi-head's, on every seed
OOD_MARGIN = 0.9  # full scale: compositional OoD L1 <= 0.9 x multi-head's, on every seed


def _settings(ctx: SeedContext | JudgeContext) -> dict[str, Any]:
    return ctx.pick(
        smoke={"steps": 40, "batch": 32, "eval_size": 256, "lr": 2e-3, "width": 16},
        quick={"steps": 1200, "batch": 128, "eval_size": 4000, "lr": 3e-3, "width": 32},
        full={"steps": 10000, "batch": 256, "eval_size": 20000, "lr": 1e-3, "width": 64},
    )


def retrieval_run(*, seed: int, device: str, **config: Any) -> dict[str, Any]:
    """Artefact producer: :func:`train_on_task` without the trained model (numbers only)."""
    if "eval_splits" in config:
        config["eval_splits"] = tuple(config["eval_splits"])
    result = train_on_task(seed=seed, device=device, **config)
    return {k: v for k, v in result.items() if k != "model"}


def _run(ctx: SeedContext, settings: dict[str, Any], attention: str, options: dict[str, Any], seed: int, **extra: Any) -> dict[str, Any]:
    """One training run, shared by every claim (and worker) asking for the same configuration."""
    model = {"width": settings["width"], "attention": attention, "attention_options": options,
             "readout": extra.pop("readout", "linear"), **extra.pop("model", {})}
    if "eval_splits" in extra:
        extra["eval_splits"] = list(extra["eval_splits"])
    return ctx.artefact(
        retrieval_run, task=extra.pop("task", {"searches": 2, "retrievals": 2}), model=model, steps=settings["steps"],
        batch=settings["batch"], lr=settings["lr"], eval_size=settings["eval_size"], **extra,
    )


def _bar_figure(results: dict[str, list[float]], ylabel: str, title: str):
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3))
    for i, (label, values) in enumerate(results.items()):
        ax.bar(i, statistics.median(values), color=f"C{i}", alpha=0.6)
        ax.scatter([i] * len(values), values, color="k", s=12, zorder=3)
    ax.set_xticks(range(len(results)), list(results), rotation=15)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


_MECHANISM_MODELS = {
    "compositional S2 R2": ("compositional", {"searches": 2, "retrievals": 2}),
    "multihead 2 heads": ("multihead", {"num_heads": 2}),
    "multihead 4 heads": ("multihead", {"num_heads": 4}),
}


def retrieval_mechanism_run(ctx: SeedContext) -> dict[str, Any]:
    """Compositional attention beats multi-head attention when selection must happen inside attention.

    Contextual retrieval with v_s = v_p = 2, N = 10, a linear read-out and no
    token pass-through, so the per-token choice of which feature each search
    retrieves has to be made by the attention. Models: compositional (S = 2,
    R = 2), multi-head with S = 2 heads and with S R = 4 heads, same width.
    Holds when compositional attention's L1 error is at most 0.8 x each
    multi-head baseline's on every seed (needs >= 3 seeds; smoke: None).
    """
    st = _settings(ctx)
    l1: dict[str, float] = {}
    params: dict[str, int] = {}
    agreement = None
    for label, (name, opts) in _MECHANISM_MODELS.items():
        r = _run(ctx, st, name, opts, ctx.seed)
        l1[label] = r["l1_any"]
        params[label] = r["attention_params"]
        if "agreement" in r:
            agreement = max(r["agreement"])
    return {"l1": l1, "params": params, "agreement": agreement}


def retrieval_mechanism_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``compositional-attention/retrieval-mechanism`` (rule in the run's docstring)."""
    st = _settings(ctx)
    l1 = {k: [r["l1"][k] for r in runs] for k in _MECHANISM_MODELS}
    params = runs[-1]["params"]
    agreement = [r["agreement"] for r in runs if r["agreement"] is not None]
    comp = l1["compositional S2 R2"]
    metrics: dict[str, Any] = {
        "l1_compositional": statistics.median(comp),
        "l1_multihead_2": statistics.median(l1["multihead 2 heads"]),
        "l1_multihead_4": statistics.median(l1["multihead 4 heads"]),
        "per_seed_l1": l1,
        "attention_params": params,
        "retrieval_agreement_best_search": agreement,
        "steps": st["steps"],
    }
    for label in ("multihead 2 heads", "multihead 4 heads"):
        cmp = paired_comparison(l1[label], comp)
        metrics[f"ratio_vs_{label.replace(' ', '_')}"] = statistics.median(c / m for c, m in zip(comp, l1[label], strict=True))
        metrics[f"diff_ci_vs_{label.replace(' ', '_')}"] = [cmp.ci_low, cmp.ci_high]
    ctx.save_figure(_bar_figure(l1, "L1 error (in distribution)", f"contextual retrieval, linear read-out, {st['steps']} steps"), "l1")
    notes = (
        f"criterion: compositional L1 <= {MECHANISM_MARGIN} x each multi-head baseline's on every seed "
        f"(>= 3 seeds). Adam lr {st['lr']}, batch {st['batch']}, {st['steps']} steps, width {st['width']}, "
        f"evaluation on {st['eval_size']} fresh sequences. The paper trains 100k steps at lr 1e-4 with an MLP decoder."
    )
    if ctx.scale == "smoke" or len(ctx.seeds) < 3:
        return Outcome(holds=None, metrics=metrics, notes="too few steps or seeds to decide; " + notes)
    holds = all(
        c <= MECHANISM_MARGIN * m for label in ("multihead 2 heads", "multihead 4 heads") for c, m in zip(comp, l1[label], strict=True)
    )
    return Outcome(holds=holds, metrics=metrics, notes=notes)


_OOD_MODELS = {
    "compositional S2 R4": ("compositional", {"searches": 2, "retrievals": 4}),
    "multihead 4 heads": ("multihead", {"num_heads": 4}),
}


def _ood_settings(ctx: SeedContext | JudgeContext) -> dict[str, Any]:
    st = _settings(ctx)
    return {**st, "steps": 15000, "lr": 5e-4} if ctx.scale == "full" else st


def ood_retrieval_run(ctx: SeedContext) -> dict[str, Any]:
    """Compositional attention generalises better to unseen combinations of retrievals.

    v_s = 2, v_p = 4 (16 context combinations: 12 for training, 4 held out for
    the OoD split), MLP decoder and a residual token pass-through for both
    models (the role of the paper's token concatenation); compositional
    (S = 2, R = 4) vs multi-head with 4 heads, same width. Runs at ``full``
    (GPU) scale only: a CPU pilot found no OoD advantage within a few minutes
    of training. Holds when compositional OoD L1 <= 0.9 x multi-head's on
    every seed. Smoke runs the pipeline and returns None.
    """
    st = _ood_settings(ctx)
    task = {"searches": 2, "retrievals": 4}
    out: dict[str, dict[str, Any]] = {"ood": {}, "iid": {}, "params": {}}
    for label, (name, opts) in _OOD_MODELS.items():
        r = _run(ctx, st, name, opts, ctx.seed, task=task, readout="mlp", model={"residual": True},
                 train_split="train", eval_splits=("ood", "test"))
        out["ood"][label] = r["l1_ood"]
        out["iid"][label] = r["l1_test"]
        out["params"][label] = r["attention_params"]
    return out


def ood_retrieval_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``compositional-attention/ood-retrieval`` (rule in the run's docstring)."""
    st = _ood_settings(ctx)
    ood = {k: [r["ood"][k] for r in runs] for k in _OOD_MODELS}
    iid = {k: [r["iid"][k] for r in runs] for k in _OOD_MODELS}
    params = runs[-1]["params"]
    comp, mha = ood["compositional S2 R4"], ood["multihead 4 heads"]
    metrics = {
        "ood_l1_compositional": statistics.median(comp),
        "ood_l1_multihead": statistics.median(mha),
        "id_l1_compositional": statistics.median(iid["compositional S2 R4"]),
        "id_l1_multihead": statistics.median(iid["multihead 4 heads"]),
        "per_seed_ood_l1": ood,
        "per_seed_id_l1": iid,
        "attention_params": params,
        "steps": st["steps"],
    }
    notes = f"criterion (full scale): compositional OoD L1 <= {OOD_MARGIN} x multi-head's on every seed. {st['steps']} steps, lr {st['lr']}."
    if ctx.scale != "full" or len(ctx.seeds) < 3:
        return Outcome(holds=None, metrics=metrics, notes="pipeline check only; the OoD comparison needs full scale. " + notes)
    holds = all(c <= OOD_MARGIN * m for c, m in zip(comp, mha, strict=True))
    return Outcome(holds=holds, metrics=metrics, notes=notes)


def multihead_parameter_count(embed_dim: int, heads: int, head_dim: int, value_dim: int, bias: bool = True) -> int:
    """Multi-head attention with ``heads`` heads of query/key dim ``head_dim`` and value dim ``value_dim``."""
    E, H = embed_dim, heads
    return 2 * (E * H * head_dim + bias * H * head_dim) + E * H * value_dim + bias * H * value_dim + H * value_dim * E + bias * E


def parameter_efficiency_run(ctx: SeedContext) -> dict[str, Any]:
    """Fewer parameters than multi-head attention with S R heads, at equal or better accuracy.

    Two measurements. (1) Counts: compositional attention with S searches and
    R retrievals vs the multi-head attention that realises all S R
    search-retrieval pairings as heads (same per-head dims), for a grid of
    (S, R) at width 64. (2) Accuracy with everything else equal (the
    retrieval-mechanism setting): a compositional attention shrunk to
    d_k = d_v = 8 (S = R = 2) against multi-head attention with S R = 4 heads
    at the same model width, which has more attention parameters. Holds when
    the grid ratios are all < 1 and the smaller compositional attention's L1
    is <= 0.9 x multi-head's on every seed (>= 3 seeds; smoke: None).
    """
    st = _settings(ctx)
    small = {"searches": 2, "retrievals": 2, "search_dim": max(2, st["width"] // 4), "value_dim": max(2, st["width"] // 4)}
    l1: dict[str, float] = {}
    params: dict[str, int] = {}
    for label, (name, opts) in {"compositional (small)": ("compositional", small), "multihead 4 heads": ("multihead", {"num_heads": 4})}.items():
        r = _run(ctx, st, name, opts, ctx.seed)
        l1[label] = r["l1_any"]
        params[label] = r["attention_params"]
    return {"l1": l1, "params": params}


def parameter_efficiency_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``compositional-attention/parameter-efficiency`` (rule in the run's docstring)."""
    grid = {}
    for S, R in ((2, 2), (2, 4), (4, 2), (4, 4), (8, 2)):
        E, dk, dv = 64, 64 // S, 64 // R
        comp = attention_parameter_count(E, S, R)
        mha = multihead_parameter_count(E, S * R, dk, dv)
        grid[f"S{S}_R{R}"] = {"compositional": comp, "multihead_SR_heads": mha, "ratio": comp / mha}
    l1 = {k: [r["l1"][k] for r in runs] for k in ("compositional (small)", "multihead 4 heads")}
    params = runs[-1]["params"]
    comp, mha = l1["compositional (small)"], l1["multihead 4 heads"]
    metrics = {
        "attention_params_ratio_vs_SR_heads": grid["S2_R2"]["ratio"],
        "count_grid_width64": grid,
        "attention_params_measured": params,
        "l1_compositional_small": statistics.median(comp),
        "l1_multihead_4": statistics.median(mha),
        "per_seed_l1": l1,
    }
    notes = (
        f"criterion: all grid ratios < 1 and small compositional L1 <= {EFFICIENCY_MARGIN} x multi-head (4 heads) on "
        f"every seed, with fewer attention parameters ({params.get('compositional (small)')} vs {params.get('multihead 4 heads')})."
    )
    if ctx.scale == "smoke" or len(ctx.seeds) < 3:
        return Outcome(holds=None, metrics=metrics, notes="too few steps or seeds to decide; " + notes)
    holds = (
        all(g["ratio"] < 1 for g in grid.values())
        and params["compositional (small)"] < params["multihead 4 heads"]
        and all(c <= EFFICIENCY_MARGIN * m for c, m in zip(comp, mha, strict=True))
    )
    return Outcome(holds=holds, metrics=metrics, notes=notes)
