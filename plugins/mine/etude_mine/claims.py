"""The paper's claims as per-seed runs and judges (smoke / quick / full)."""

from __future__ import annotations

import math
import statistics

import torch

from etude.claims import JudgeContext, Outcome, SeedContext, paired_comparison


def _fit_and_estimate(cls, task, *, steps, seed, **config):
    tr, te = task.split("train"), task.split("test")
    est = cls(seed=seed, **config).fit(tr.inputs, tr.targets, steps=steps)
    return float(est.estimate(te.inputs, te.targets)), est


# --------------------------------------------------------------------------------------------
def _gaussian_mi_setting(ctx: SeedContext | JudgeContext) -> dict:
    grid = [(2, r) for r in (0.0, 0.3, 0.6, 0.9)]
    if ctx.scale == "full":
        grid += [(2, 0.8), (20, 0.1), (20, 0.2), (20, 0.4)]
    return {"steps": ctx.pick(smoke=40, quick=1000, full=5000), "batch": ctx.pick(smoke=128, quick=256, full=256),
            "hidden": ctx.pick(smoke=32, quick=128, full=128), "n_test": ctx.pick(smoke=2000, quick=20000, full=20000),
            "grid": grid}


def _grid_tag(d: int, rho: float) -> str:
    return f"d{d}_rho{rho:g}"


def gaussian_mi_run(ctx: SeedContext) -> dict:
    """MINE vs the analytic MI of correlated Gaussians, d = 2, rho in {0, 0.3, 0.6, 0.9}.

    Criterion (quick/full, fixed before running, from the paper brief's pilot):
    with the median over seeds, |estimate| <= 0.05 nats at rho = 0,
    |estimate - true| <= 0.1 nats for the other points with true MI < 1 nat,
    relative error <= 10% for true MI >= 1 nat (up to 2 nats), and estimates
    strictly increasing in rho. The seed-to-seed standard deviation is
    reported beside each point so the margin is visible. Points with true MI
    above 2 nats (full scale, d = 20) are reported, not gated (DV variance
    grows with the MI; paper brief section 3.7). Smoke: inconclusive.
    """
    from etude_mine.estimators import MINE  # noqa: PLC0415
    from etude_mine.tasks import CorrelatedGaussians  # noqa: PLC0415

    cuda = ctx.device == "cuda"
    st = _gaussian_mi_setting(ctx)
    steps, batch, hidden, n_test = st["steps"], st["batch"], st["hidden"], st["n_test"]
    seed = ctx.seed
    out = {}
    for d, rho in ctx.track(st["grid"], desc="rho"):
        task = CorrelatedGaussians(dim=d, rho=rho, n_train=steps * batch, n_test=n_test, seed=1000 + seed)
        est = MINE(seed=seed, hidden=hidden, batch_size=batch)
        if cuda:
            est = est.to("cuda")
        tr, te = task.split("train"), task.split("test")
        est.fit(tr.inputs, tr.targets, steps=steps)
        out[_grid_tag(d, rho)] = {"estimate": float(est.estimate(te.inputs, te.targets)), "true": task.mutual_information}
    return out


def gaussian_mi_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``mine/gaussian-mi`` (rule in the run's docstring)."""
    st = _gaussian_mi_setting(ctx)
    steps, batch, hidden, n_test = st["steps"], st["batch"], st["hidden"], st["n_test"]
    metrics: dict[str, float] = {}
    checks = []
    rows = []
    for d, rho in st["grid"]:
        values = [r[_grid_tag(d, rho)]["estimate"] for r in runs]
        true = runs[-1][_grid_tag(d, rho)]["true"]
        med = statistics.median(values)
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        tag = f"rho{rho:g}" if d == 2 else f"d{d}_rho{rho:g}"
        metrics[f"true_mi_{tag}"] = round(true, 4)
        metrics[f"mine_{tag}"] = med
        metrics[f"seed_sd_{tag}"] = sd
        rows.append((d, rho, true, med, values))
        if true == 0.0:
            checks.append(abs(med) <= 0.05)
        elif true < 1.0:
            checks.append(abs(med - true) <= 0.1)
        elif true <= 2.0:
            checks.append(abs(med - true) / true <= 0.10)
        if true > 0:
            metrics[f"rel_error_{tag}"] = (med - true) / true
    d2 = sorted((rho, med) for d, rho, _, med, _ in rows if d == 2)
    increasing = all(b[1] > a[1] for a, b in zip(d2, d2[1:]))
    checks.append(increasing)
    metrics["increasing_in_rho"] = increasing

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for d in sorted({r[0] for r in rows}):
        sub = sorted((r for r in rows if r[0] == d), key=lambda r: r[1])
        ax.plot([r[1] for r in sub], [r[2] for r in sub], "k--", lw=1, label=f"true (d={d})")
        for r in sub:
            ax.scatter([r[1]] * len(r[4]), r[4], s=12, alpha=0.6, color="C0" if d == 2 else "C1")
        ax.plot([r[1] for r in sub], [r[3] for r in sub], "o-", label=f"MINE median (d={d})")
    ax.set_xlabel("correlation rho")
    ax.set_ylabel("mutual information (nats)")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "estimates")
    holds = None if ctx.scale == "smoke" else all(checks)
    notes = (f"{steps} steps, batch {batch}, 2x{hidden} ELU joint critic, EMA rate 0.01, held-out n={n_test}; "
             "median over seeds; criterion in claims.gaussian_mi's docstring.")
    return Outcome(holds=holds, metrics=metrics, notes=notes)


# --------------------------------------------------------------------------------------------
def _gradient_bias(critic, task, *, batch, n_batches, pool, burn_in, ema_rate, seed):
    """Relative bias of the plain vs moving-average DV minibatch gradients for a FIXED critic."""
    from torch.func import functional_call, grad, vmap  # noqa: PLC0415

    from etude_mine.bounds import MovingAverage  # noqa: PLC0415

    params = {k: v.detach() for k, v in critic.named_parameters()}

    def mean_t(p, x, y):
        return functional_call(critic, (p,), (x, y)).mean()

    def mean_exp_t(p, x, y):
        return functional_call(critic, (p,), (x, y)).exp().mean()

    gen = torch.Generator().manual_seed(10_000 + seed)
    # "true" gradient of the DV bound on a large pool with independent product-of-marginals samples
    x, y = task.sample(pool, gen)
    _, y_ind = task.sample(pool, gen)
    gj = grad(mean_t)(params, x, y)
    ga = grad(mean_exp_t)(params, x, y_ind)
    m_true = float(mean_exp_t(params, x, y_ind))
    g_true = torch.cat([(gj[k] - ga[k] / m_true).reshape(-1) for k in params])
    # minibatch gradients, vectorised over batches with torch.func.vmap
    n = n_batches
    xb, yb = task.sample(n * batch, gen)
    _, yb_ind = task.sample(n * batch, gen)
    xb, yb, yb_ind = (t.reshape(n, batch, -1) for t in (xb, yb, yb_ind))
    J = vmap(grad(mean_t), in_dims=(None, 0, 0))(params, xb, yb)
    A = vmap(grad(mean_exp_t), in_dims=(None, 0, 0))(params, xb, yb_ind)
    m = vmap(mean_exp_t, in_dims=(None, 0, 0))(params, xb, yb_ind)
    J = torch.cat([J[k].reshape(n, -1) for k in params], dim=1)
    A = torch.cat([A[k].reshape(n, -1) for k in params], dim=1)
    ema = MovingAverage(ema_rate)
    mu = torch.stack([ema.update(torch.log(v)).exp() for v in m])
    keep = slice(burn_in, None)
    g_plain = (J - A / m[:, None])[keep]
    g_ema = (J - A / mu[:, None])[keep]
    scale = g_true.norm()
    out = {}
    for name, g in (("plain", g_plain), ("ema", g_ema)):
        out[f"bias_{name}"] = float((g.mean(0) - g_true).norm() / scale)
        out[f"noise_{name}"] = float((g.var(0).sum() / g.shape[0]).sqrt() / scale)
        out[f"var_{name}"] = float(g.var(0).sum() / scale**2)
    return out


def _bias_setting(ctx: SeedContext | JudgeContext) -> dict:
    n_batches = ctx.pick(smoke=300, quick=2000, full=20000)
    return {"batches": ctx.pick(smoke=(16,), quick=(8, 32, 128), full=(8, 32, 128, 512)), "n_batches": n_batches,
            "pool": ctx.pick(smoke=20000, quick=100000, full=1000000), "pre_steps": ctx.pick(smoke=30, quick=300, full=1000),
            "train_steps": ctx.pick(smoke=30, quick=400, full=3000), "burn_in": min(500, n_batches // 4)}


def bias_correction_run(ctx: SeedContext) -> dict:
    """Gradient bias of the plain minibatch DV gradient vs the moving-average one.

    For a fixed critic (MINE trained briefly on d = 2, rho = 0.9), the exact
    DV gradient is estimated on a large pool; then many minibatches of size b
    give the plain gradient ``E_B[dT] - E_B[dT e^T] / E_B[e^T]`` and the
    corrected one with the EMA ``mu`` (rate 0.01, after a burn-in). The bias
    is ``|mean minibatch gradient - exact| / |exact|``; ``noise_*`` is the
    Monte-Carlo standard error of that mean (its floor).
    Criterion: at the smallest batch size, over seeds, the paired difference
    ``bias_plain - bias_ema`` has a 95% interval above 0 (holds), below 0
    (does not hold), else inconclusive; smoke: inconclusive. Secondary,
    not gating: final held-out estimates after training with and without
    the correction (their error and seed spread).
    """
    from etude_mine.estimators import MINE  # noqa: PLC0415
    from etude_mine.tasks import CorrelatedGaussians  # noqa: PLC0415

    st = _bias_setting(ctx)
    batches, n_batches, pool, pre_steps, train_steps, burn_in = (
        st["batches"], st["n_batches"], st["pool"], st["pre_steps"], st["train_steps"], st["burn_in"])
    seed = ctx.seed
    task = CorrelatedGaussians(dim=2, rho=0.9, n_train=pre_steps * 64, n_test=20000, seed=0)
    critic_task = CorrelatedGaussians(dim=2, rho=0.9, n_train=pre_steps * 64, n_test=100, seed=seed)
    tr = critic_task.split("train")
    mine = MINE(hidden=64, batch_size=64, seed=seed).fit(tr.inputs, tr.targets, steps=pre_steps)
    per_b = {}
    for b in batches:
        per_b[str(b)] = _gradient_bias(mine.critic, task, batch=b, n_batches=n_batches, pool=pool,
                                       burn_in=burn_in, ema_rate=0.01, seed=seed)
    # secondary: training with / without the correction
    train_err = {}
    t2 = CorrelatedGaussians(dim=2, rho=0.9, n_train=train_steps * 64, n_test=20000, seed=500 + seed)
    for name, flag in (("ema", True), ("plain", False)):
        value, _ = _fit_and_estimate(MINE, t2, steps=train_steps, seed=seed, batch_size=64, bias_correction=flag)
        train_err[name] = value - t2.mutual_information
    return {"per_batch": per_b, "train_error": train_err}


def bias_correction_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``mine/bias-correction`` (rule in the run's docstring)."""
    st = _bias_setting(ctx)
    batches, n_batches, pool, pre_steps, train_steps = (
        st["batches"], st["n_batches"], st["pool"], st["pre_steps"], st["train_steps"])
    per_b: dict[int, dict[str, list[float]]] = {
        b: {k: [r["per_batch"][str(b)][k] for r in runs] for k in runs[0]["per_batch"][str(b)]} for b in batches}
    train_err = {name: [r["train_error"][name] for r in runs] for name in ("ema", "plain")}
    metrics: dict[str, float] = {}
    for b in batches:
        for k, v in per_b[b].items():
            metrics[f"b{b}_{k}"] = statistics.fmean(v)
    b0 = batches[0]
    cmp = paired_comparison(per_b[b0]["bias_plain"], per_b[b0]["bias_ema"])
    metrics.update(cmp.as_dict(prefix=f"b{b0}_plain_minus_ema_"))
    for name in ("ema", "plain"):
        metrics[f"train_error_{name}_mean"] = statistics.fmean(train_err[name])
        metrics[f"train_error_{name}_sd"] = statistics.stdev(train_err[name]) if len(train_err[name]) > 1 else float("nan")
    if ctx.scale == "smoke":
        holds = None
    elif cmp.significant_positive:
        holds = True
    elif cmp.significant_negative:
        holds = False
    else:
        holds = None
    metrics["bias_reduced"] = holds

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for name in ("plain", "ema"):
        ax.plot(batches, [metrics[f"b{b}_bias_{name}"] for b in batches], "o-",
                label={"plain": "plain minibatch", "ema": "moving average"}[name])
    ax.plot(batches, [metrics[f"b{b}_noise_ema"] for b in batches], "k:", label="MC noise floor")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("relative gradient bias")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "gradient-bias")
    notes = (f"fixed critic (2x64 ELU, {pre_steps} MINE steps), {n_batches} minibatches per batch size, "
             f"exact gradient on {pool} pairs; training comparison at batch 64, {train_steps} steps.")
    return Outcome(holds=holds, metrics=metrics, notes=notes)


# --------------------------------------------------------------------------------------------
def _infonce_setting(ctx: SeedContext | JudgeContext) -> dict:
    return {"steps": ctx.pick(smoke=20, quick=1000, full=5000), "hidden": ctx.pick(smoke=16, quick=128, full=128),
            "sweep": ctx.pick(smoke=(16,), quick=(16, 64), full=(16, 64, 256)),
            "n_test": ctx.pick(smoke=1000, quick=20000, full=20000)}


def beats_infonce_run(ctx: SeedContext) -> dict:
    """InfoNCE saturates at log(batch size); MINE's DV estimate does not.

    Setting: d = 2, rho = 0.99 (true MI 3.92 nats), batch b = 16 (log b = 2.77)
    for both estimators, the same joint 2x128 critic and steps. Criterion:
    holds when InfoNCE never exceeds log b (a theorem; a sanity check), the
    MINE median exceeds log b, and over seeds MINE - InfoNCE has a 95%
    interval above 0; does not hold when the MINE median stays at or below
    log b or the interval lies below 0; otherwise inconclusive. Smoke:
    inconclusive. The figure adds b = 64 (log b = 4.16 > MI): there InfoNCE
    is no longer capped below the truth.
    """
    from etude_mine.estimators import MINE, InfoNCE  # noqa: PLC0415
    from etude_mine.tasks import CorrelatedGaussians  # noqa: PLC0415

    st = _infonce_setting(ctx)
    steps, hidden, sweep, n_test = st["steps"], st["hidden"], st["sweep"], st["n_test"]
    rho, d = 0.99, 2
    seed = ctx.seed
    task = CorrelatedGaussians(dim=d, rho=rho, n_train=steps * max(sweep), n_test=n_test, seed=2000 + seed)
    values = {}
    for bs in sweep:
        for name, cls in (("mine", MINE), ("infonce", InfoNCE)):
            value, _ = _fit_and_estimate(cls, task, steps=steps, seed=seed, critic="joint", hidden=hidden,
                                         batch_size=bs)
            values[f"{name}_b{bs}"] = value
    return {"values": values, "true_mi": task.mutual_information}


def beats_infonce_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``mine/beats-infonce-at-high-mi`` (rule in the run's docstring)."""
    st = _infonce_setting(ctx)
    steps, hidden, sweep = st["steps"], st["hidden"], st["sweep"]
    rho, d, b = 0.99, 2, 16
    results: dict[tuple[str, int], list[float]] = {
        (name, bs): [r["values"][f"{name}_b{bs}"] for r in runs] for bs in sweep for name in ("mine", "infonce")}
    true = runs[-1]["true_mi"]
    mine_b, nce_b = results[("mine", b)], results[("infonce", b)]
    cmp = paired_comparison(mine_b, nce_b)
    metrics = {
        "true_mi": true, "log_batch": math.log(b), "batch_size": b,
        "mine": statistics.median(mine_b), "infonce": statistics.median(nce_b),
        "infonce_max": max(nce_b), **cmp.as_dict(prefix="mine_minus_infonce_"),
    }
    for (name, bs), v in results.items():
        metrics[f"{name}_b{bs}"] = statistics.median(v)
    ceiling_ok = max(nce_b) <= math.log(b) + 1e-5
    exceeds = metrics["mine"] > math.log(b)
    metrics["infonce_ceiling"] = math.log(b)
    metrics["mine_exceeds_ceiling"] = exceeds
    if ctx.scale == "smoke":
        holds = None
    elif ceiling_ok and exceeds and cmp.significant_positive:
        holds = True
    elif not exceeds or cmp.significant_negative:
        holds = False
    else:
        holds = None

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.plot(sweep, [math.log(s) for s in sweep], "k:", label="log(batch size)")
    ax.axhline(true, color="k", ls="--", lw=1, label="true MI")
    for name in ("mine", "infonce"):
        ax.plot(sweep, [statistics.median(results[(name, s)]) for s in sweep], "o-",
                label={"mine": "MINE (DV)", "infonce": "InfoNCE"}[name])
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("held-out estimate (nats)")
    ax.legend(fontsize=7)
    ctx.save_figure(fig, "saturation")
    notes = (f"d={d}, rho={rho}, {steps} steps, joint 2x{hidden} critic for both; InfoNCE held-out value averaged "
             "over chunks of the training batch size (the bound it optimises). Ceiling: Oord et al. 2018 eq. 5, "
             "Poole et al. 2019 sec. 2.3.")
    return Outcome(holds=holds, metrics=metrics, notes=notes)


# --------------------------------------------------------------------------------------------
def _ib_config(ctx: SeedContext | JudgeContext) -> dict:
    return ctx.pick(
        smoke=dict(epochs=1, hidden=32, z_dim=8, critic_hidden=16),
        quick=dict(epochs=40, hidden=256, z_dim=32, critic_hidden=128),
        full=dict(epochs=200, hidden=1024, z_dim=256, critic_hidden=512),
    )


def information_bottleneck_run(ctx: SeedContext) -> dict:
    """MINE-IB vs the unregularised baseline on scikit-learn digits (paired over seeds).

    Each seed draws its own train/test split and initialisation, used by both
    methods. Criterion: the paired difference of test errors (baseline -
    MINE-IB) has a 95% interval above 0 (holds), below 0 (does not hold),
    otherwise inconclusive (None); smoke: inconclusive. The paper's MNIST
    numbers are not comparable in absolute terms (different data set and
    network size).
    """
    from etude_mine.bottleneck import MINEInformationBottleneck, digits_task  # noqa: PLC0415

    cfg = _ib_config(ctx)
    task = digits_task(seed=ctx.seed)
    out = {}
    for method in ("baseline", "mine-ib"):
        res = MINEInformationBottleneck(method=method, **cfg).run(task, seed=ctx.seed, device=ctx.device)
        out[method] = res.metrics["test_error_pct"]
        if method == "mine-ib":
            out["mi_xz_test"] = res.metrics["mi_xz_test"]
    return out


def information_bottleneck_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Verdict of ``mine/information-bottleneck`` (rule in the run's docstring)."""
    cfg = _ib_config(ctx)
    errors = {method: [r[method] for r in runs] for method in ("baseline", "mine-ib")}
    mi = [r["mi_xz_test"] for r in runs]
    cmp = paired_comparison(errors["baseline"], errors["mine-ib"])
    metrics = {
        "baseline_error_pct": statistics.fmean(errors["baseline"]),
        "mine_ib_error_pct": statistics.fmean(errors["mine-ib"]),
        "mi_xz_test_nats": statistics.fmean(mi),
        **cmp.as_dict(prefix="baseline_minus_mine_ib_"),
    }
    if ctx.scale == "smoke":
        holds = None
    elif cmp.significant_positive:
        holds = True
    elif cmp.significant_negative:
        holds = False
    else:
        holds = None
    notes = (f"scikit-learn digits (1297 train / 500 test per seed), encoder 2x{cfg['hidden']} ReLU, K={cfg['z_dim']}, "
             f"beta=1e-3, {cfg['epochs']} epochs, batch 100; paper: permutation-invariant MNIST, 1024-1024, K=256.")
    return Outcome(holds=holds, metrics=metrics, notes=notes)


__all__ = [
    "beats_infonce_judge",
    "beats_infonce_run",
    "bias_correction_judge",
    "bias_correction_run",
    "gaussian_mi_judge",
    "gaussian_mi_run",
    "information_bottleneck_judge",
    "information_bottleneck_run",
]
