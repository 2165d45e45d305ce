"""The papers' claims as per-seed experiments (``<name>_run``) and verdicts (``<name>_judge``).

Each ``*_run(ctx)`` trains and evaluates every arm of one seed (paired) and
returns plain JSON-able numbers; each ``*_judge(ctx, runs)`` turns all seeds'
dicts into an :class:`etude.claims.Outcome` without training. The verdict
rules are in the judges' docstrings and were fixed before the first run.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from etude.claims import Outcome, paired_comparison

# ------------------------------------------------------------------------------------- helpers
_PAPER_TF = {"hidden": 256, "num_heads": 4, "layers": 4, "out_features": 256}


def _train(task, *, objective: str, seed: int, steps: int, device: str, encoder: str = "deepsets",
           encoder_options: dict | None = None, head: str = "gaussian", lr: float = 1e-3, batch_size: int = 64,
           data: tuple | None = None, kl: str = "analytic"):
    from .estimator import AmortizedPosterior  # noqa: PLC0415

    est = AmortizedPosterior(task_instance=task, encoder=encoder, encoder_options=encoder_options or {}, head=head,
                             objective=objective, kl=kl, lr=lr, batch_size=batch_size, seed=seed, steps=steps)
    est.to(device)
    start = time.perf_counter()
    est.fit(*(data or ()), steps=steps)
    est.train_seconds = time.perf_counter() - start
    return est


def _eval_data(task, num: int, seed: int, device: str) -> dict:
    data = task.simulate(num, torch.Generator().manual_seed(10_000 + seed))
    return {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in data.items()}


def _predictive(model, q, data: dict, num_samples: int) -> float:
    from .metrics import predictive_accuracy, predictive_l2  # noqa: PLC0415

    with torch.no_grad():
        theta = q.sample((num_samples,))
        if model.classification:
            return float(predictive_accuracy(model, theta, data["x_query"], data["y_query"]).mean())
        return float(predictive_l2(model, theta, data["x_query"], data["y_query"]).mean())


def _prior_q(model, num: int, device: str):
    import pyro.distributions as dist  # noqa: PLC0415

    zeros = torch.zeros(num, model.num_params, device=device)
    return dist.Normal(zeros, torch.ones_like(zeros)).to_event(1)


def _values(runs: list[dict], key: str) -> list[float]:
    return [float(r[key]) for r in runs]


def _verdict_from_ci(comparisons: list, n: int) -> bool | None:
    """True if every interval lies above 0, False if any lies below 0, else None (inconclusive)."""
    if n < 2:
        return None
    if any(c.significant_negative for c in comparisons):
        return False
    if all(c.significant_positive for c in comparisons):
        return True
    return None


# ===================================================== 1. reverse KL vs forward KL, predictive
def _e1_task(ctx):
    from .tasks import BayesNonlinearRegression  # noqa: PLC0415

    return BayesNonlinearRegression(dim=1, hidden=8, noise_variance=0.25, n_min=16, n_max=64, n_query=64)


def reverse_kl_predictive_run(ctx) -> dict:
    """One seed of E1 (quick) / Table 1 (full): forward vs reverse KL vs the prior, predictive L2 or accuracy.

    Quick: the brief's E1, the 24-parameter tanh BNN (1 input, 8 hidden, no output bias), noise
    variance 0.25, n ~ U{16..64}; DeepSets (3 GELU layers, masked mean, no log n, as the pilot) with a
    diagonal Gaussian head; Adam 1e-3, 64 datasets x 1500 steps; the per-element width is 64,
    half the pilot's 128, as the issue prescribes when the six trainings exceed ~100 s (they took
    ~40 ms/step at 128 here, about 6 x 60 s). Evaluation: 512 fresh datasets x 64 queries,
    8 posterior samples.
    Full: Table 1's NLR 1D / 25D and NLC 2D / 25D (hidden 32, n ~ U{64..128}) with the paper's
    Transformer (256 / 4 heads / 4 layers), Gaussian and flow heads, lr 1e-4, 128 x 10,001 steps,
    25 posterior samples.
    """
    from .tasks import BayesNonlinearClassification, BayesNonlinearRegression  # noqa: PLC0415

    out: dict[str, Any] = {}
    if ctx.scale in ("smoke", "quick"):
        width = ctx.pick(smoke=16, quick=64, full=64)
        steps = ctx.pick(smoke=20, quick=1500, full=1500)
        num_eval = ctx.pick(smoke=64, quick=512, full=512)
        task = _e1_task(ctx)
        options = {"hidden": width, "out_features": width, "layers": 3, "log_n": False}
        data = _eval_data(task, num_eval, ctx.seed, ctx.device)
        for objective in ("forward-kl", "reverse-kl"):
            est = _train(task, objective=objective, seed=ctx.seed, steps=steps, device=ctx.device,
                         encoder="deepsets", encoder_options=options)
            q = est.estimate(data["x"], data["y"], data["mask"])
            key = objective.split("-")[0]
            out[f"l2_{key}"] = _predictive(task.model, q, data, 8)
            out[f"seconds_{key}"] = est.train_seconds
            out[f"final_loss_{key}"] = statistics.fmean(est.history[-50:])
        out["l2_prior"] = _predictive(task.model, _prior_q(task.model, num_eval, ctx.device), data, 8)
        return out
    grid = [("nlr-1d", BayesNonlinearRegression, 1), ("nlr-25d", BayesNonlinearRegression, 25),
            ("nlc-2d", BayesNonlinearClassification, 2), ("nlc-25d", BayesNonlinearClassification, 25)]
    for name, cls, dim in ctx.track(grid, desc="tasks"):
        task = cls(dim=dim, n_min=64, n_max=128, n_query=128)
        data = _eval_data(task, 512, ctx.seed, ctx.device)
        metric = "acc" if task.model.classification else "l2"
        out[f"{name}_{metric}_prior"] = _predictive(task.model, _prior_q(task.model, 512, ctx.device), data, 25)
        for head in ("gaussian", "flow"):
            for objective in ("forward-kl", "reverse-kl"):
                est = _train(task, objective=objective, seed=ctx.seed, steps=10001, device=ctx.device,
                             encoder="transformer", encoder_options=_PAPER_TF, head=head, lr=1e-4, batch_size=128,
                             kl="analytic" if head == "gaussian" else "monte-carlo")
                q = est.estimate(data["x"], data["y"], data["mask"])
                out[f"{name}_{metric}_{head}_{objective.split('-')[0]}"] = _predictive(task.model, q, data, 25)
    return out


def reverse_kl_predictive_judge(ctx, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run).

    Quick: holds iff L2(reverse) <= 0.25 x L2(forward) on every seed (brief's pilot: 0.50 vs
    8.30 / 8.62, prior 8.37, noise floor 0.25); does not hold otherwise. Smoke: not decided.
    Full: for each of NLR 1D / 25D, NLC 2D / 25D and each head, the paired 95% interval of
    L2(fwd) - L2(rev) (accuracy: acc(rev) - acc(fwd)) lies above 0: holds; any below 0: does not
    hold; else inconclusive.
    """
    metrics: dict[str, Any] = {}
    if ctx.scale in ("smoke", "quick"):
        fwd, rev, prior = _values(runs, "l2_forward"), _values(runs, "l2_reverse"), _values(runs, "l2_prior")
        metrics.update({"l2_forward_mean": statistics.fmean(fwd), "l2_reverse_mean": statistics.fmean(rev),
                        "l2_prior_mean": statistics.fmean(prior), "l2_forward": fwd, "l2_reverse": rev,
                        "l2_prior": prior, "noise_floor": 0.25,
                        "ratio_reverse_over_forward": [r / f for r, f in zip(rev, fwd)],
                        "train_seconds": [r["seconds_forward"] + r["seconds_reverse"] for r in runs]})
        metrics.update(paired_comparison(fwd, rev).as_dict(prefix="forward_minus_reverse_"))
        holds = None if ctx.scale == "smoke" else all(r <= 0.25 * f for r, f in zip(rev, fwd))
        notes = ("E1: 24-parameter BNN, DeepSets width 64 (half the pilot's 128, for the quick budget) + Gaussian, "
                 "Adam 1e-3, 64 x 1500 steps; 512 datasets x 64 queries, 8 samples. Rule: L2(rev) <= 0.25 L2(fwd) "
                 "on every seed." if ctx.scale == "quick" else "smoke: tiny run, not decided")
        return Outcome(holds=holds, metrics=metrics, notes=notes)
    comparisons = []
    for key in sorted(runs[0]):
        metrics[key] = statistics.fmean(_values(runs, key))
    for task in ("nlr-1d", "nlr-25d", "nlc-2d", "nlc-25d"):
        metric = "acc" if task.startswith("nlc") else "l2"
        for head in ("gaussian", "flow"):
            f, r = _values(runs, f"{task}_{metric}_{head}_forward"), _values(runs, f"{task}_{metric}_{head}_reverse")
            cmp = paired_comparison(f, r) if metric == "l2" else paired_comparison(r, f)
            comparisons.append(cmp)
            metrics.update(cmp.as_dict(prefix=f"{task}_{head}_gap_"))
    return Outcome(holds=_verdict_from_ci(comparisons, len(runs)), metrics=metrics,
                   notes="Table 1 NLR/NLC columns, Transformer, paired 95% CIs of the forward-minus-reverse gap.")


# ============================================================ 2. conjugate posterior accuracy
def conjugate_posterior_run(ctx) -> dict:
    """One seed of E2 (quick) / Table 5 (full): symmetric KL of the learned posteriors to the exact one.

    Quick: GM d = 2, n ~ U{16..64}, DeepSets (width 64, 3 layers, masked mean with log n) + diagonal
    Gaussian, Adam 1e-3, 64 datasets x 1000 steps, both objectives; mean symmetric KL
    KL(q || p) + KL(p || q) over 512 fresh datasets, and the prior's.
    Full: GM 2D / 100D and LR 1D / 100D with the paper's Transformer (lr 1e-4, 128 x 10,001, n ~ U{64..128}).
    """
    from .metrics import symmetric_kl  # noqa: PLC0415
    from .tasks import BayesGaussianMean, BayesLinearRegression  # noqa: PLC0415

    out: dict[str, Any] = {}
    if ctx.scale in ("smoke", "quick"):
        grid = [("gm-2d", BayesGaussianMean(dim=2, n_min=16, n_max=64, n_query=0))]
        steps, width = ctx.pick(smoke=20, quick=1000, full=1000), ctx.pick(smoke=16, quick=64, full=64)
        train = {"encoder": "deepsets", "encoder_options": {"hidden": width, "out_features": width, "log_n": True},
                 "lr": 1e-3, "batch_size": 64}
        num_eval = ctx.pick(smoke=64, quick=512, full=512)
    else:
        grid = [("gm-2d", BayesGaussianMean(dim=2, n_min=64, n_max=128, n_query=0)),
                ("gm-100d", BayesGaussianMean(dim=100, n_min=64, n_max=128, n_query=0)),
                ("lr-1d", BayesLinearRegression(dim=1, n_min=64, n_max=128, n_query=0)),
                ("lr-100d", BayesLinearRegression(dim=100, n_min=64, n_max=128, n_query=0))]
        steps, num_eval = 10001, 512
        train = {"encoder": "transformer", "encoder_options": _PAPER_TF, "lr": 1e-4, "batch_size": 128}
    for name, task in grid:
        data = _eval_data(task, num_eval, ctx.seed, ctx.device)
        exact = task.model.exact_posterior(data["x"], data["y"], data["mask"])
        out[f"{name}_prior"] = float(symmetric_kl(_prior_q(task.model, num_eval, ctx.device), exact).mean())
        for objective in ("forward-kl", "reverse-kl"):
            est = _train(task, objective=objective, seed=ctx.seed, steps=steps, device=ctx.device, **train)
            q = est.estimate(data["x"], data["y"], data["mask"])
            out[f"{name}_{objective.split('-')[0]}"] = float(symmetric_kl(q, exact).mean())
    return out


def conjugate_posterior_judge(ctx, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run; the brief gives no pilot, so seed 100's numbers are recorded first).

    Holds iff, on every seed, both objectives' mean symmetric KL is below 0.1 and below 1% of the
    prior's (quick: GM 2D; full: GM 2D and LR 1D, where the paper reports 0.017-0.05; GM 100D and
    LR 100D are reported beside Table 5, not gated). Smoke: not decided.
    """
    metrics: dict[str, Any] = {}
    for key in sorted(runs[0]):
        metrics[key] = _values(runs, key)
        metrics[f"{key}_mean"] = statistics.fmean(_values(runs, key))
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: tiny run, not decided")
    gated = ["gm-2d"] if ctx.scale == "quick" else ["gm-2d", "lr-1d"]
    ok = all(r[f"{t}_{o}"] < 0.1 and r[f"{t}_{o}"] < 0.01 * r[f"{t}_prior"]
             for r in runs for t in gated for o in ("forward", "reverse"))
    return Outcome(holds=ok, metrics=metrics,
                   notes=f"symmetric KL to the exact posterior, gated on {gated}: < 0.1 and < 1% of the prior's on every seed")


# ================================================= 3. amortised vs per-dataset baselines
def amortized_vs_per_dataset_run(ctx) -> dict:
    """One seed of E3 (quick) / Table 1 LR 100D, NLR 25D rows (full).

    Quick: Bayesian LR d = 3 (noise variance 0.25, n ~ U{16..64}); amortised reverse KL with the
    paper's recommended encoder at a CPU size (Transformer, width 32, 4 heads, 2 layers, [CLS]) and a
    Gaussian head, Adam 1e-3, 64 x 1000 steps. (Chosen before the first verdict: a diagnostic run
    showed DeepSets of width 64 reaching only 0.66 / 0.45 predictive L2 after 1000 / 3000 steps
    against the exact posterior's 0.33.) On 8 test datasets x 64 queries the
    predictive L2 (25 posterior samples) of it, NUTS (200 warm-up + 200 samples), mean-field VI
    (AutoNormal, 1000 steps), MAP (1000 Adam steps) and the exact posterior, with seconds per posterior.
    Full: LR 100D and NLR 25D (Transformer, paper schedule), adding HMC-like Langevin (MALA) rows.
    """
    from .baselines import LangevinPosterior, MAPEstimate, MeanFieldVI, NUTSPosterior  # noqa: PLC0415
    from .tasks import BayesLinearRegression, BayesNonlinearRegression  # noqa: PLC0415

    out: dict[str, Any] = {}
    if ctx.scale in ("smoke", "quick"):
        grid = [("lr-3d", BayesLinearRegression(dim=3, n_min=16, n_max=64, n_query=64))]
        width = ctx.pick(smoke=16, quick=32, full=32)
        train = {"encoder": "transformer",
                 "encoder_options": {"hidden": width, "num_heads": 4, "layers": 2, "out_features": width},
                 "lr": 1e-3, "batch_size": 64, "steps": ctx.pick(smoke=20, quick=1000, full=1000)}
        mcmc = ctx.pick(smoke=20, quick=200, full=200)
        opt_steps = ctx.pick(smoke=20, quick=1000, full=1000)
        num_test = 8
    else:
        grid = [("lr-100d", BayesLinearRegression(dim=100, n_min=64, n_max=128, n_query=128)),
                ("nlr-25d", BayesNonlinearRegression(dim=25, n_min=64, n_max=128, n_query=128))]
        train = {"encoder": "transformer", "encoder_options": _PAPER_TF, "lr": 1e-4, "batch_size": 128, "steps": 10001}
        mcmc, opt_steps, num_test = 1000, 5000, 25
    for name, task in grid:
        model = task.model
        data = _eval_data(task, num_test, ctx.seed, ctx.device)
        args = (data["x"], data["y"], data["mask"])
        est = _train(task, objective="reverse-kl", seed=ctx.seed, device=ctx.device, **train)
        start = time.perf_counter()
        q = est.estimate(*args)
        out[f"{name}_seconds_amortized"] = (time.perf_counter() - start) / num_test
        out[f"{name}_l2_amortized"] = _predictive(model, q, data, 25)
        out[f"{name}_train_seconds_amortized"] = est.train_seconds
        rows = [("nuts", NUTSPosterior(model=model, warmup_steps=mcmc, num_samples=mcmc, seed=ctx.seed)),
                ("vi", MeanFieldVI(model=model, steps=opt_steps, seed=ctx.seed)),
                ("map", MAPEstimate(model=model, steps=opt_steps, seed=ctx.seed))]
        if ctx.scale == "full":
            rows.append(("langevin", LangevinPosterior(model=model, warmup_steps=mcmc, num_samples=mcmc, seed=ctx.seed)))
        for label, baseline in rows:
            baseline.fit(*args)
            out[f"{name}_l2_{label}"] = _predictive(model, baseline.estimate(), data, 25)
            out[f"{name}_seconds_{label}"] = baseline.seconds / num_test
        try:
            exact = model.exact_posterior(*args)
            out[f"{name}_l2_exact"] = _predictive(model, exact, data, 25)
        except NotImplementedError:
            pass
        out[f"{name}_l2_prior"] = _predictive(model, _prior_q(model, num_test, ctx.device), data, 25)
    return out


def amortized_vs_per_dataset_judge(ctx, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run; not piloted).

    On the exact-posterior task (quick: LR 3D; full: LR 100D): holds iff L2(amortised) <= 1.2 x
    L2(exact) on every seed; does not hold if above on every seed; else inconclusive. NUTS, VI,
    MAP (and at full Langevin, NLR 25D) are reported with seconds per posterior. Smoke: not decided.
    """
    metrics: dict[str, Any] = {}
    for key in sorted(runs[0]):
        metrics[f"{key}_mean"] = statistics.fmean(_values(runs, key))
    name = "lr-3d" if ctx.scale != "full" else "lr-100d"
    ratios = [r[f"{name}_l2_amortized"] / r[f"{name}_l2_exact"] for r in runs]
    metrics["ratio_amortized_over_exact"] = ratios
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: tiny run, not decided")
    if all(x <= 1.2 for x in ratios):
        holds = True
    elif all(x > 1.2 for x in ratios):
        holds = False
    else:
        holds = None
    return Outcome(holds=holds, metrics=metrics, notes=f"{name}: L2(amortised) <= 1.2 L2(exact posterior) on every seed")


# ============================================== 4. misspecification and switched (real) data
def misspecification_and_real_data_run(ctx) -> dict:
    """One seed of the Table 4 GP column (quick) / Table 4 and Table 3 (full).

    Quick: the E1 BNN assumed (DeepSets width 64 + Gaussian, Adam 1e-3, 64 datasets per step); real
    data from ``task/gp-datasets`` (RBF, lengthscale 1, variance 1, noise variance 0.25, n ~ U{16..64}).
    Three trainings of 500 steps each (set once so that the nine trainings of three seeds fit ~90 s):
    forward and reverse KL on simulated BNN data, reverse KL on 4096 GP datasets (switched).
    Predictive L2 on 512 fresh GP datasets x 64 queries (8 samples).
    Full: adds Table 4's other columns (linear data under NLR, NLR data under LR) with the paper's
    Transformer, and Table 3's zero-shot transfer to the core's ``task/breast-cancer`` (when installed).
    """
    from .tasks import BayesLinearRegression, BayesNonlinearRegression, GPDatasets  # noqa: PLC0415

    out: dict[str, Any] = {}
    if ctx.scale in ("smoke", "quick"):
        width = ctx.pick(smoke=16, quick=64, full=64)
        steps = ctx.pick(smoke=10, quick=500, full=500)
        pool, num_eval = ctx.pick(smoke=64, quick=4096, full=4096), ctx.pick(smoke=64, quick=512, full=512)
        train = {"encoder": "deepsets", "encoder_options": {"hidden": width, "out_features": width, "log_n": False},
                 "lr": 1e-3, "batch_size": 64, "steps": steps}
        columns = [("gp", _e1_task(ctx), GPDatasets(dim=1, n_min=16, n_max=64, n_query=64, num_train=pool,
                                                    num_test=num_eval, seed=ctx.seed))]
    else:
        train = {"encoder": "transformer", "encoder_options": _PAPER_TF, "lr": 1e-4, "batch_size": 128, "steps": 10001}
        num_eval, pool = 512, 16384
        kw = {"n_min": 64, "n_max": 128, "n_query": 128}
        columns = [("linear-under-nlr", BayesNonlinearRegression(dim=1, **kw), BayesLinearRegression(dim=1, **kw)),
                   ("nlr-under-lr", BayesLinearRegression(dim=1, **kw), BayesNonlinearRegression(dim=1, **kw)),
                   ("gp", BayesNonlinearRegression(dim=1, **kw), GPDatasets(dim=1, num_train=pool, num_test=num_eval,
                                                                          seed=ctx.seed, **kw))]
    for name, assumed, real in columns:
        if isinstance(real, GPDatasets):
            tr, te = real.split("train"), real.split("test")
            real_train = (tr.inputs, tr.targets, tr.info["mask"])
            test = {"x": te.inputs, "y": te.targets, "mask": te.info["mask"], "x_query": te.info["x_query"],
                    "y_query": te.info["y_query"]}
        else:
            sim = real.simulate(pool, torch.Generator().manual_seed(20_000 + ctx.seed))
            real_train = (sim["x"], sim["y"], sim["mask"])
            test = _eval_data(real, num_eval, ctx.seed, "cpu")
        test = {k: (v.to(ctx.device) if isinstance(v, torch.Tensor) else v) for k, v in test.items()}
        arms = [("forward", "forward-kl", None), ("reverse", "reverse-kl", None), ("switched", "reverse-kl", real_train)]
        for label, objective, data in arms:
            est = _train(assumed, objective=objective, seed=ctx.seed, device=ctx.device, data=data, **train)
            q = est.estimate(test["x"], test["y"], test["mask"])
            out[f"{name}_l2_{label}"] = _predictive(assumed.model, q, test, 8 if ctx.scale != "full" else 25)
        out[f"{name}_l2_prior"] = _predictive(assumed.model, _prior_q(assumed.model, num_eval, ctx.device), test, 8)
    if ctx.scale == "full":
        out.update(_zero_shot_breast_cancer(ctx, train))
    return out


def _zero_shot_breast_cancer(ctx, train: dict) -> dict:
    """Table 3: NLC estimators trained on simulated 30-D data, evaluated on 64-row datasets of breast-cancer."""
    import etude  # noqa: PLC0415

    from .baselines import MAPEstimate  # noqa: PLC0415
    from .tasks import BayesNonlinearClassification  # noqa: PLC0415

    try:
        real = etude.create("task", "breast-cancer", seed=ctx.seed, standardize=True)
        parts = [real.split(name) for name in real.split_names]
    except Exception as exc:  # noqa: BLE001 - the core's shared task may be missing; record why
        return {"zero_shot_not_run": f"task/breast-cancer unavailable: {type(exc).__name__}: {exc}"}
    # zero-shot: the estimators never see real data in training, so every row is evaluation data
    x = torch.cat([p.inputs for p in parts]).float()
    y = torch.cat([p.targets for p in parts]).long()
    rows = 64
    k = x.shape[0] // (2 * rows)
    gen = torch.Generator().manual_seed(ctx.seed)
    perm = torch.randperm(x.shape[0], generator=gen)[: 2 * rows * k]
    xs, ys = x[perm].reshape(k, 2 * rows, -1), y[perm].reshape(k, 2 * rows)
    data = {"x": xs[:, :rows], "y": ys[:, :rows], "mask": torch.ones(k, rows, dtype=torch.bool),
            "x_query": xs[:, rows:], "y_query": ys[:, rows:]}
    data = {key: v.to(ctx.device) for key, v in data.items()}
    assumed = BayesNonlinearClassification(dim=x.shape[1], n_min=rows, n_max=rows, n_query=rows)
    out: dict[str, Any] = {}
    for objective in ("forward-kl", "reverse-kl"):
        est = _train(assumed, objective=objective, seed=ctx.seed, device=ctx.device, **train)
        q = est.estimate(data["x"], data["y"], data["mask"])
        out[f"breast-cancer_acc_{objective.split('-')[0]}"] = _predictive(assumed.model, q, data, 25)
    out["breast-cancer_acc_prior"] = _predictive(assumed.model, _prior_q(assumed.model, k, ctx.device), data, 25)
    mp = MAPEstimate(model=assumed.model, steps=2000, seed=ctx.seed).fit(data["x"], data["y"], data["mask"])
    out["breast-cancer_acc_map"] = _predictive(assumed.model, mp.estimate(), data, 1)
    return out


def misspecification_and_real_data_judge(ctx, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run; not piloted).

    On the GP column: holds iff the paired 95% intervals of L2(fwd) - L2(rev) and of
    L2(rev) - L2(switched) both lie above 0; does not hold if either lies below 0; else
    inconclusive (always so with one seed). Full also reports Table 4's other columns and the
    zero-shot breast-cancer accuracies, not gated.
    """
    metrics: dict[str, Any] = {}
    for key in sorted(runs[0]):
        if isinstance(runs[0][key], (int, float)):
            metrics[f"{key}_mean"] = statistics.fmean(_values(runs, key))
            metrics[key] = _values(runs, key)
        else:
            metrics[key] = runs[0][key]
    fr = paired_comparison(_values(runs, "gp_l2_forward"), _values(runs, "gp_l2_reverse"))
    rs = paired_comparison(_values(runs, "gp_l2_reverse"), _values(runs, "gp_l2_switched"))
    metrics.update(fr.as_dict(prefix="gp_forward_minus_reverse_"))
    metrics.update(rs.as_dict(prefix="gp_reverse_minus_switched_"))
    holds = None if ctx.scale == "smoke" else _verdict_from_ci([fr, rs], len(runs))
    return Outcome(holds=holds, metrics=metrics,
                   notes="GP data under an assumed BNN: CIs of L2(fwd) - L2(rev) and L2(rev) - L2(switched) above 0")


# ================================================ 5. Transformer and flows (smoke and full)
def transformer_and_flows_run(ctx) -> dict:
    """One seed: encoders under reverse KL on LR 100D and NLC 25D; flow vs Gaussian under forward KL on NLR 1D.

    Full: the paper's Transformer (256 / 4 / 4), DeepSets and GRU of the same width, lr 1e-4,
    128 x 10,001 steps, n ~ U{64..128}. Smoke: the same pipeline at toy sizes (LR 3D, NLC 2D,
    width 16, 5 steps). Quick is not registered: the brief rates the tiny-Transformer pilot (E5)
    the least robust claim, so no quick verdict is offered.
    """
    from .tasks import BayesLinearRegression, BayesNonlinearClassification, BayesNonlinearRegression  # noqa: PLC0415

    full = ctx.scale == "full"
    width = 256 if full else 16
    enc = {"transformer": {"hidden": width, "num_heads": 4, "layers": 4 if full else 1, "out_features": width},
           "deepsets": {"hidden": width, "out_features": width}, "gru": {"hidden": width, "out_features": width}}
    train = {"lr": 1e-4 if full else 1e-3, "batch_size": 128 if full else 16, "steps": 10001 if full else 5}
    kw = {"n_min": 64, "n_max": 128, "n_query": 128} if full else {"n_min": 8, "n_max": 16, "n_query": 8}
    num_eval = 512 if full else 16
    out: dict[str, Any] = {}
    for name, task in (("lr-100d", BayesLinearRegression(dim=100 if full else 3, **kw)),
                       ("nlc-25d", BayesNonlinearClassification(dim=25 if full else 2, **kw))):
        data = _eval_data(task, num_eval, ctx.seed, ctx.device)
        for encoder in ("transformer", "deepsets", "gru"):
            est = _train(task, objective="reverse-kl", seed=ctx.seed, device=ctx.device, encoder=encoder,
                         encoder_options=enc[encoder], **train)
            out[f"{name}_{encoder}"] = _predictive(task.model, est.estimate(data["x"], data["y"], data["mask"]), data, 25)
    task = BayesNonlinearRegression(dim=1, **kw)
    data = _eval_data(task, num_eval, ctx.seed, ctx.device)
    for head in ("gaussian", "flow"):
        est = _train(task, objective="forward-kl", seed=ctx.seed, device=ctx.device, encoder="transformer",
                     encoder_options=enc["transformer"], head=head, **train)
        out[f"nlr-1d_forward_{head}"] = _predictive(task.model, est.estimate(data["x"], data["y"], data["mask"]), data, 25)
    return out


def transformer_and_flows_judge(ctx, runs: list[dict]) -> Outcome:
    """Verdict (fixed before the first run).

    Holds iff the Transformer beats DeepSets and the GRU on LR 100D (L2) and NLC 25D (accuracy),
    and the flow head beats the Gaussian head under forward KL on NLR 1D (L2), each a paired 95%
    interval above 0; any interval below 0: does not hold; else inconclusive (always so with one
    seed, i.e. at smoke).
    """
    metrics: dict[str, Any] = {f"{k}_mean": statistics.fmean(_values(runs, k)) for k in sorted(runs[0])}
    comps = []
    for other in ("deepsets", "gru"):
        c1 = paired_comparison(_values(runs, f"lr-100d_{other}"), _values(runs, "lr-100d_transformer"))
        c2 = paired_comparison(_values(runs, "nlc-25d_transformer"), _values(runs, f"nlc-25d_{other}"))
        metrics.update(c1.as_dict(prefix=f"lr-100d_{other}_minus_tf_"))
        metrics.update(c2.as_dict(prefix=f"nlc-25d_tf_minus_{other}_"))
        comps += [c1, c2]
    c3 = paired_comparison(_values(runs, "nlr-1d_forward_gaussian"), _values(runs, "nlr-1d_forward_flow"))
    metrics.update(c3.as_dict(prefix="nlr-1d_gaussian_minus_flow_"))
    comps.append(c3)
    return Outcome(holds=_verdict_from_ci(comps, len(runs)), metrics=metrics,
                   notes="paired 95% CIs; with one seed (smoke) every interval is unbounded, so inconclusive")
