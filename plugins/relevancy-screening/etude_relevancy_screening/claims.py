"""The paper's claims as per-seed runs and judges (rules stated in each run's docstring before any run)."""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

import torch

from etude.claims import JudgeContext, Outcome, SeedContext, paired_comparison

__all__ = [
    "bounded_attention_cost_judge", "bounded_attention_cost_run",
    "copy_tradeoff_judge", "copy_tradeoff_run",
    "gradient_propagation_judge", "gradient_propagation_run",
    "transfer_copy_judge", "transfer_copy_run",
]

MEMORIES = {"RelRNN": "relevancy", "MemRNN": "full", "RNN": "none"}
REL_GROWTH_MAX = 4.5  # RelRNN saved bytes T_high / T_low at most this (linear: 4x for 100 -> 400)
MEM_GROWTH_MIN = 10.0  # MemRNN saved bytes T_high / T_low at least this (quadratic: about 16x)
LOG_GAIN_MIN = 2.0  # median log10(g_RelRNN / g_RNN) over retained positions at long distance
RECALL_FLOOR = 0.5  # copy-tradeoff: below this RelRNN recall the comparison is inconclusive
RNN_MARGIN = 0.2  # copy-tradeoff: paired interval of RelRNN - RNN recall above this
MEM_GAP_MAX = 0.1  # copy-tradeoff: mean MemRNN - RelRNN recall at most this


def _net(memory: str, *, input_size: int, num_classes: int, hidden: int, seed: int, device: str, **options: Any):
    import etude  # noqa: PLC0415

    torch.manual_seed(seed)
    net = etude.create("model", "self-attentive-rnn", input_size=input_size, num_classes=num_classes,
                       hidden_size=hidden, memory=memory, **options)
    return net.to(device)


# --- bounded-attention-cost ---------------------------------------------------------------------------------


def _cost_settings(ctx) -> dict[str, Any]:
    return ctx.pick(smoke={"lengths": [30, 80], "batch": 4, "hidden": 16},
                    quick={"lengths": [100, 400], "batch": 16, "hidden": 64},
                    full={"lengths": [100, 400, 1000], "batch": 16, "hidden": 64, "rel_only": [5000]})


def bounded_attention_cost_run(ctx: SeedContext) -> dict[str, Any]:
    """Attended slots, saved-for-backward bytes and wall time of RelRNN vs MemRNN at two sequence lengths.

    Copy-task inputs (8 symbols, copy length 10, delay T - 20), B = 16, nhid 64,
    ν = 10, ρ = 15, the same initial weights for both models; one forward and
    backward (cross-entropy at every step) per model and length, with
    ``saved_tensors_hooks`` summing the distinct storages autograd keeps and
    the wall time of that same pass (hooks on for both models; one untimed
    warm-up pass of each model first). Holds when, on
    every seed (>= 3 seeds): (a) RelRNN attends to at most ν + ρ slots at every
    step; (b) RelRNN's saved bytes grow at most 4.5x from T = 100 to 400 while
    MemRNN's grow at least 10x; (c) the time ratio MemRNN / RelRNN at T = 400
    exceeds the ratio at T = 100. Smoke (T = 20, 80) only checks the pipeline.
    """
    from etude.data import Copying  # noqa: PLC0415

    from .training import saved_tensor_bytes  # noqa: PLC0415

    st = _cost_settings(ctx)
    out: dict[str, Any] = {"lengths": st["lengths"], "bytes": {}, "seconds": {}, "max_attended": {}}
    warm = torch.randn(st["batch"], 12, 10, device=ctx.device)
    for memory in ("relevancy", "full"):  # untimed warm-up, so that the first timed pass pays no one-off cost
        _net(memory, input_size=10, num_classes=10, hidden=st["hidden"], seed=ctx.seed, device=ctx.device)(warm).sum().backward()
    jobs = [(m, T) for T in st["lengths"] for m in ("RelRNN", "MemRNN")] + [("RelRNN", T) for T in st.get("rel_only", [])]
    for name, T in ctx.track(jobs, desc="cost"):
        task = Copying(seed=ctx.seed, length=10, delay=T - 20, num_train=st["batch"], num_test=1)
        split = task.split("train")
        x, y = split.inputs.to(ctx.device), split.targets.to(ctx.device)
        net = _net(MEMORIES[name], input_size=task.num_classes, num_classes=task.num_classes, hidden=st["hidden"],
                   seed=ctx.seed, device=ctx.device)
        holder: dict[str, Any] = {}

        def forward():
            trace = net.unroll(x, record=True)
            holder["attended"] = int(trace.attended.max())
            return torch.nn.functional.cross_entropy(trace.logits.reshape(-1, task.num_classes), y.reshape(-1))

        if ctx.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        nbytes, loss = saved_tensor_bytes(forward)
        loss.backward()
        if ctx.device == "cuda":
            torch.cuda.synchronize()
        key = f"{name}@{T}"
        out["seconds"][key] = time.perf_counter() - start
        out["bytes"][key] = int(nbytes)
        out["max_attended"][key] = holder["attended"]
    return out


def bounded_attention_cost_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``relevancy-screening/bounded-attention-cost`` (rule in the run's docstring)."""
    st = _cost_settings(ctx)
    low, high = st["lengths"][0], st["lengths"][1]
    slots = 10 + 15
    per_seed = []
    for r in runs:
        b, s = r["bytes"], r["seconds"]
        per_seed.append({
            "max_attended_relrnn": max(v for k, v in r["max_attended"].items() if k.startswith("RelRNN")),
            "rel_bytes_growth": b[f"RelRNN@{high}"] / b[f"RelRNN@{low}"],
            "mem_bytes_growth": b[f"MemRNN@{high}"] / b[f"MemRNN@{low}"],
            "time_ratio_low": s[f"MemRNN@{low}"] / s[f"RelRNN@{low}"],
            "time_ratio_high": s[f"MemRNN@{high}"] / s[f"RelRNN@{high}"],
            "bytes_ratio_high": b[f"MemRNN@{high}"] / b[f"RelRNN@{high}"],
        })
    passes = [p["max_attended_relrnn"] <= slots and p["rel_bytes_growth"] <= REL_GROWTH_MAX
              and p["mem_bytes_growth"] >= MEM_GROWTH_MIN and p["time_ratio_high"] > p["time_ratio_low"]
              for p in per_seed]
    metrics: dict[str, Any] = {
        "max_attended_relrnn": max(p["max_attended_relrnn"] for p in per_seed),
        "nu_plus_rho": slots,
        "rel_bytes_growth": statistics.median(p["rel_bytes_growth"] for p in per_seed),
        "mem_bytes_growth": statistics.median(p["mem_bytes_growth"] for p in per_seed),
        f"time_ratio_T{low}": statistics.median(p["time_ratio_low"] for p in per_seed),
        f"time_ratio_T{high}": statistics.median(p["time_ratio_high"] for p in per_seed),
        f"saved_bytes_ratio_T{high}": statistics.median(p["bytes_ratio_high"] for p in per_seed),
        "per_seed": per_seed,
        "bytes": runs[0]["bytes"],
        "seconds": runs[0]["seconds"],
        "seeds_passing": sum(passes),
    }
    _cost_figure(ctx, runs[0])
    notes = (f"criterion: on every seed (>= 3) RelRNN attends to <= ν + ρ = {slots} slots, its saved bytes grow "
             f"<= {REL_GROWTH_MAX}x from T = {low} to {high} while MemRNN's grow >= {MEM_GROWTH_MIN}x, and the time "
             f"ratio MemRNN / RelRNN at T = {high} exceeds the one at T = {low}. B = {st['batch']}, nhid {st['hidden']}; "
             "times under load, hooks on for both models.")
    if ctx.scale == "smoke" or len(runs) < 3:
        return Outcome(holds=None, metrics=metrics, notes="pipeline check (smoke lengths or < 3 seeds); " + notes)
    return Outcome(holds=all(passes), metrics=metrics, notes=notes)


def _cost_figure(ctx: JudgeContext, run: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4.5, 3))
    for name, color in (("RelRNN", "C0"), ("MemRNN", "C1")):
        pts = sorted((int(k.split("@")[1]), v / 2**20) for k, v in run["bytes"].items() if k.startswith(name))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=color, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("saved for backward (MiB)")
    ax.legend()
    fig.tight_layout()
    ctx.save_figure(fig, "saved-bytes")


# --- gradient-propagation -----------------------------------------------------------------------------------


def _grad_settings(ctx) -> dict[str, Any]:
    return ctx.pick(smoke={"T": 60, "distance": 30, "batch": 4, "hidden": 16},
                    quick={"T": 200, "distance": 100, "batch": 8, "hidden": 64},
                    full={"T": 1000, "distance": 500, "batch": 8, "hidden": 128})


def gradient_propagation_run(ctx: SeedContext) -> dict[str, Any]:
    """‖∂L/∂h_i‖ at the positions RelRNN retains, for RelRNN, MemRNN and the RNN with the same weights, at initialisation.

    A random symbol (of 8, one-hot over 10) at every step, T = 200, tanh units,
    V = 0.9 x the Henaff matrix (contractive, so the RNN's gradient must
    decay), ν = 10, ρ = 15, float64, B = 8, nhid 64; the loss is the
    cross-entropy at the last step only against a random label. Per example
    the retained positions are RelRNN's relevant set at the end. Holds when,
    on every seed (>= 3), the median over retained positions at distance
    >= 100 from the last step of log10(g_RelRNN / g_RNN) is >= 2; a seed
    retaining none there is inconclusive (holds None). MemRNN's ratio and
    g against distance are logged. Full: T = 1000, distance >= 500.
    """
    st = _grad_settings(ctx)
    g = ctx.generator()
    T, B = st["T"], st["batch"]
    tokens = torch.randint(1, 9, (B, T), generator=g)
    x = torch.nn.functional.one_hot(tokens, 10).to(torch.float64).to(ctx.device)
    label = torch.randint(0, 10, (B,), generator=g).to(ctx.device)
    grads, retained = {}, None
    reference = None
    for name in ("RelRNN", "MemRNN", "RNN"):
        net = _net(MEMORIES[name], input_size=10, num_classes=10, hidden=st["hidden"], seed=ctx.seed,
                   device=ctx.device, neuron="tanh", recurrent_gain=0.9).to(torch.float64)
        if reference is None:
            reference = net.state_dict()
        else:
            net.load_state_dict({k: v for k, v in reference.items() if k in net.state_dict()}, strict=False)
        trace = net.unroll(x)
        loss = torch.nn.functional.cross_entropy(trace.logits[:, -1], label)
        hs = torch.autograd.grad(loss, trace.hiddens, allow_unused=True)
        grads[name] = torch.stack([torch.zeros(B, st["hidden"], dtype=torch.float64, device=ctx.device)
                                   if h is None else h for h in hs], dim=1).norm(dim=-1).cpu()  # (B, T)
        if name == "RelRNN":
            retained = trace.memory.inspect()["relevant_steps"].cpu()  # (B, ρ)
    distance = (T - 1) - retained
    far = (retained >= 0) & (distance >= st["distance"])
    rows = torch.arange(B).unsqueeze(1).expand_as(retained)
    idx = retained.clamp(min=0)

    def log_ratio(a: str, b: str) -> list[float]:
        ga, gb = grads[a][rows, idx][far], grads[b][rows, idx][far]
        return torch.log10(ga / gb).tolist()

    tiny = torch.finfo(torch.float64).tiny
    curves = {k: torch.log10(v.clamp(min=tiny)).mean(0).tolist() for k, v in grads.items()}
    return {
        "far_retained": int(far.sum()),
        "log10_rel_over_rnn": log_ratio("RelRNN", "RNN"),
        "log10_mem_over_rnn": log_ratio("MemRNN", "RNN"),
        "retained_steps": retained.tolist(),
        "log10_grad_curves": curves,
        "T": T,
    }


def gradient_propagation_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``relevancy-screening/gradient-propagation`` (rule in the run's docstring)."""
    st = _grad_settings(ctx)
    medians = [statistics.median(r["log10_rel_over_rnn"]) if r["log10_rel_over_rnn"] else None for r in runs]
    mem_medians = [statistics.median(r["log10_mem_over_rnn"]) if r["log10_mem_over_rnn"] else None for r in runs]
    metrics: dict[str, Any] = {
        "median_log10_g_rel_over_g_rnn": medians,
        "median_log10_g_mem_over_g_rnn": mem_medians,
        "far_retained_positions": [r["far_retained"] for r in runs],
        "threshold_log10": LOG_GAIN_MIN,
        "distance_min": st["distance"],
    }
    _grad_figure(ctx, runs[0])
    notes = (f"criterion: on every seed (>= 3) the median over RelRNN-retained positions at distance >= "
             f"{st['distance']} of log10(g_RelRNN / g_RNN) >= {LOG_GAIN_MIN}; at initialisation, T = {st['T']}, tanh, "
             "V = 0.9 x Henaff, loss at the last step.")
    if ctx.scale == "smoke" or len(runs) < 3:
        return Outcome(holds=None, metrics=metrics, notes="pipeline check (smoke or < 3 seeds); " + notes)
    if any(m is None for m in medians):
        return Outcome(holds=None, metrics=metrics, notes="a seed retained no position that far: inconclusive; " + notes)
    return Outcome(holds=all(m >= LOG_GAIN_MIN for m in medians), metrics=metrics, notes=notes)


def _grad_figure(ctx: JudgeContext, run: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3))
    T = run["T"]
    for i, (name, curve) in enumerate(run["log10_grad_curves"].items()):
        ax.plot([T - 1 - t for t in range(T)], curve, color=f"C{i}", label=name, lw=1)
    ax.set_xlabel("distance from the loss step")
    ax.set_ylabel("mean log10 ||dL/dh_i||")
    ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.save_figure(fig, "gradient-norms")


# --- copy-tradeoff ------------------------------------------------------------------------------------------


def _copy_settings(ctx) -> dict[str, Any]:
    return ctx.pick(
        smoke={"length": 3, "delay": 6, "updates": 4, "batch": 8, "hidden": 16, "nu": 3, "rho": 2, "tasks": ["copying"],
               "psmnist": PSMNIST_SMOKE},
        quick={"length": 5, "delay": 30, "updates": 300, "batch": 32, "hidden": 64, "nu": 5, "rho": 5,
               "tasks": ["copying"], "psmnist": None},
        full={"length": 10, "delay": 300, "updates": 5000, "batch": 10, "hidden": 128, "nu": 10, "rho": 15,
              "tasks": ["copying", "denoise"], "psmnist": PSMNIST_FULL},
    )


# permuted sequential MNIST in copy-tradeoff (reported without a verdict): the official sMNISTtask.py's settings
PSMNIST_FULL = {"hidden": 400, "nu": 10, "rho": 10, "epochs": 200, "batch": 100, "lr": 1e-4, "side": 28,
                "num_train": None, "num_test": None}
# smoke: the pipeline only (7 x 7 nearest-resized images, 49 steps, a few images)
PSMNIST_SMOKE = {"hidden": 8, "nu": 3, "rho": 2, "epochs": 2, "batch": 8, "lr": 1e-3, "side": 7,
                 "num_train": 16, "num_test": 8}


def _psmnist(ctx: SeedContext, settings: dict[str, Any]) -> dict[str, Any]:
    """The three models on permuted sequential MNIST, or ``{"not_run": "data not found: ..."}`` without the files."""
    from etude.data import DataNotFoundError  # noqa: PLC0415

    from .training import train_psmnist  # noqa: PLC0415

    out: dict[str, Any] = {}
    try:
        for name, memory in ctx.track(list(MEMORIES.items()), desc="psmnist"):
            out[name] = train_psmnist(seed=ctx.seed, device=ctx.device, memory=memory, **settings)
    except DataNotFoundError as err:  # raised by the first model's task, before any training
        return {"not_run": f"data not found: {err}"}
    return out


def copy_tradeoff_run(ctx: SeedContext) -> dict[str, Any]:
    """Recall accuracy and time per update of RelRNN, MemRNN and RNN trained alike on copy (and denoise at full).

    Copy with 8 symbols, copy length 5, delay 30 (T = 40), nhid 64, batch 32,
    ν = 5, ρ = 5 (the brief's CPU setting: a memory of a quarter of T), modReLU,
    Henaff init, RMSprop lr 1e-3, clipping 1.0; 300 updates (the issue's
    budget; a first version ran 60 to fit 90 s on a more loaded machine).
    Recall accuracy on 256 fresh test sequences.
    Unpiloted rule: inconclusive if RelRNN's mean recall is below 0.5; else holds
    when the paired 95% interval of RelRNN - RNN recall lies above 0.2 and the mean
    of MemRNN - RelRNN is at most 0.1 (>= 3 seeds). Full: delay 300, 5000
    updates, ν = 10, ρ = 15, nhid 128, batch 10, copy and denoise (each judged).

    Full scale also trains the three models on permuted sequential MNIST
    (:func:`~etude_relevancy_screening.training.train_psmnist`: the core's
    local ``task/mnist``, 784 pixels one per step in one fixed random order,
    classification from the last state, the official settings nhid 400,
    RMSprop lr 1e-4, batch 100, 200 epochs, ν = ρ = 10); its test accuracies
    are reported per model (mean and 95% interval) without a verdict, and
    without the files the unit records "not run: data not found" for that
    part while copy and denoise are still trained and judged. Smoke runs a
    49-step version of that pipeline on a few images when the files exist.
    """
    from .training import train_copy  # noqa: PLC0415

    st = _copy_settings(ctx)
    out: dict[str, Any] = {}
    for task in st["tasks"]:
        for name, memory in ctx.track(list(MEMORIES.items()), desc=f"{task}"):
            r = train_copy(seed=ctx.seed, device=ctx.device, task=task, length=st["length"], delay=st["delay"],
                           updates=st["updates"], batch=st["batch"],
                           model_options={"hidden_size": st["hidden"], "memory": memory, "buffer_size": st["nu"],
                                          "relevant_size": st["rho"]})
            out[f"{task}/{name}"] = r
    if st["psmnist"] is not None:
        out["psmnist"] = _psmnist(ctx, st["psmnist"])
    return out


def copy_tradeoff_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``relevancy-screening/copy-tradeoff`` (rule in the run's docstring)."""
    st = _copy_settings(ctx)
    metrics: dict[str, Any] = {"updates": st["updates"], "delay": st["delay"]}
    verdicts = []
    for task in st["tasks"]:
        acc = {m: [r[f"{task}/{m}"]["recall_accuracy"] for r in runs] for m in MEMORIES}
        sec = {m: statistics.median(r[f"{task}/{m}"]["seconds_per_update"] for r in runs) for m in MEMORIES}
        rel_rnn = paired_comparison(acc["RelRNN"], acc["RNN"])
        mem_rel = paired_comparison(acc["MemRNN"], acc["RelRNN"])
        metrics[task] = {
            "recall_accuracy": {m: statistics.mean(v) for m, v in acc.items()},
            "per_seed_recall": acc,
            "seconds_per_update": sec,
            "time_ratio_mem_over_rel": sec["MemRNN"] / sec["RelRNN"],
            "rel_minus_rnn_ci": [rel_rnn.ci_low, rel_rnn.ci_high],
            "mem_minus_rel_mean": mem_rel.mean,
            "chance": 1.0 / 8,
        }
        if statistics.mean(acc["RelRNN"]) < RECALL_FLOOR:
            verdicts.append(None)
        else:
            verdicts.append(rel_rnn.ci_low > RNN_MARGIN and mem_rel.mean <= MEM_GAP_MAX)
    _copy_figure(ctx, runs, st["tasks"])
    notes = (f"criterion: inconclusive if RelRNN recall < {RECALL_FLOOR}; else paired 95% CI of RelRNN - RNN above "
             f"{RNN_MARGIN} and mean MemRNN - RelRNN <= {MEM_GAP_MAX} (>= 3 seeds). {st['updates']} updates of batch "
             f"{st['batch']} at delay {st['delay']} (the paper trains 50 000 updates at T = 300 / 1000).")
    if st["psmnist"] is not None:
        metrics["psmnist"], psmnist_note = _psmnist_metrics(runs)
        notes += " " + psmnist_note
    if ctx.scale == "smoke" or len(runs) < 3:
        return Outcome(holds=None, metrics=metrics, notes="pipeline check (smoke or < 3 seeds); " + notes)
    if any(v is False for v in verdicts):
        return Outcome(holds=False, metrics=metrics, notes=notes)
    if any(v is None for v in verdicts):
        return Outcome(holds=None, metrics=metrics, notes="RelRNN did not learn to recall (< 0.5) at this budget: "
                       "inconclusive; " + notes)
    return Outcome(holds=True, metrics=metrics, notes=notes)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _psmnist_metrics(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """psMNIST test accuracies per model (mean, 95% t interval over seeds), or the "not run" note; no verdict."""
    from etude.claims import mean_and_ci  # noqa: PLC0415

    missing = [r["psmnist"]["not_run"] for r in runs if "not_run" in r["psmnist"]]
    if missing:
        return ({"not_run": missing[0]},
                f"psMNIST (no verdict): not run: {missing[0]}")  # the message names the folder and ETUDE_DATA
    metrics: dict[str, Any] = {"verdict": None, "steps": runs[0]["psmnist"]["RNN"]["steps_per_sequence"]}
    parts = []
    for m in MEMORIES:
        acc = [r["psmnist"][m]["test_accuracy"] for r in runs]
        mean, low, high = mean_and_ci(acc)
        metrics[m] = {"test_accuracy_mean": mean, "test_accuracy_ci": [_finite(low), _finite(high)],
                      "per_seed_test_accuracy": acc,
                      "best_epoch": [r["psmnist"][m]["best_epoch"] for r in runs],
                      "seconds_per_update": statistics.median(r["psmnist"][m]["seconds_per_update"] for r in runs)}
        parts.append(f"{m} {mean:.3f}")
    return metrics, ("psMNIST test accuracy at the best validation epoch (reported, no verdict): "
                     + ", ".join(parts) + ".")


def _copy_figure(ctx: JudgeContext, runs: list[dict[str, Any]], tasks: list[str]) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for i, m in enumerate(MEMORIES):
            vals = [r[f"{task}/{m}"]["recall_accuracy"] for r in runs]
            ax.bar(i, statistics.mean(vals), color=f"C{i}", alpha=0.6)
            ax.scatter([i] * len(vals), vals, color="k", s=10, zorder=3)
        ax.axhline(1 / 8, color="gray", ls=":", lw=1)
        ax.set_xticks(range(len(MEMORIES)), list(MEMORIES))
        ax.set_ylabel("recall accuracy")
        ax.set_title(task, fontsize=9)
    fig.tight_layout()
    ctx.save_figure(fig, "recall")


# --- transfer-copy ------------------------------------------------------------------------------------------


def _transfer_settings(ctx) -> dict[str, Any]:
    return ctx.pick(
        smoke={"length": 3, "delay": 5, "updates": 4, "batch": 8, "hidden": 16, "nu": 3, "rho": 2, "test": [10, 20]},
        full={"length": 10, "delay": 100, "updates": 5000, "batch": 10, "hidden": 128, "nu": 10, "rho": 15,
              "test": [500, 1000, 5000]},
    )


def transfer_copy_run(ctx: SeedContext) -> dict[str, Any]:
    """RelRNN and RNN trained on copy at delay 100, tested at delays 500, 1000 and 5000 (full scale only).

    Copy length 10, 8 symbols, nhid 128, batch 10, 5000 RMSprop updates,
    ν = 10, ρ = 15, modReLU, Henaff; recall accuracy on 256 test sequences
    per delay. Holds when the paired 95% interval of RelRNN - RNN recall lies
    above 0 at every test delay (3 seeds). Quick is not run (hours of
    sequential steps at T = 5000); smoke checks the pipeline.
    """
    from .training import train_copy  # noqa: PLC0415

    st = _transfer_settings(ctx)
    out = {}
    for name in ("RelRNN", "RNN"):
        out[name] = train_copy(seed=ctx.seed, device=ctx.device, length=st["length"], delay=st["delay"],
                               updates=st["updates"], batch=st["batch"], transfer_delays=st["test"],
                               model_options={"hidden_size": st["hidden"], "memory": MEMORIES[name],
                                              "buffer_size": st["nu"], "relevant_size": st["rho"]})
    return out


def transfer_copy_judge(ctx: JudgeContext, runs: list[dict[str, Any]]) -> Outcome:
    """Verdict of ``relevancy-screening/transfer-copy`` (rule in the run's docstring)."""
    st = _transfer_settings(ctx)
    metrics: dict[str, Any] = {"train_delay": st["delay"], "updates": st["updates"]}
    ok = []
    for d in st["test"]:
        rel = [r["RelRNN"]["transfer_recall_accuracy"][str(d)] for r in runs]
        rnn = [r["RNN"]["transfer_recall_accuracy"][str(d)] for r in runs]
        cmp = paired_comparison(rel, rnn)
        metrics[f"delay_{d}"] = {"RelRNN": statistics.mean(rel), "RNN": statistics.mean(rnn),
                                 "diff_ci": [cmp.ci_low, cmp.ci_high]}
        ok.append(cmp.ci_low > 0 and not math.isinf(cmp.ci_low))
    notes = "criterion: paired 95% CI of RelRNN - RNN recall above 0 at every test delay (3 seeds)."
    if ctx.scale != "full" or len(runs) < 3:
        return Outcome(holds=None, metrics=metrics, notes="pipeline check only (full scale decides); " + notes)
    return Outcome(holds=all(ok), metrics=metrics, notes=notes)
