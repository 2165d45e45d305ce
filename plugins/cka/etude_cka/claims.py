"""The paper's claims as per-seed runs and judges (smoke / quick / full scales).

Each ``*_run(ctx)`` measures one seed (``ctx.seed``) and returns plain
numbers and curves; each ``*_judge(ctx, runs)`` applies the verdict rule
stated in its docstring to every seed's measurements and draws the figures.
"""

from __future__ import annotations

import statistics

import torch

from etude.claims import JudgeContext, Outcome, SeedContext


def _two_gaussians(n: int, p: int, generator: torch.Generator, dtype=torch.float64):
    """Two Gaussian classes with means -4 and +4 on axis 0, unit variance elsewhere."""
    y = torch.randint(0, 2, (n,), generator=generator)
    X = torch.randn(n, p, generator=generator, dtype=dtype)
    X[:, 0] += 8.0 * y.to(dtype) - 4.0
    return X, y


def _axis(p: int, dtype=torch.float64) -> torch.Tensor:
    e0 = torch.zeros(p, 1, dtype=dtype)
    e0[0] = 1.0
    return e0


def _fit_readout(X: torch.Tensor, y: torch.Tensor):
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    return LogisticRegression(max_iter=2000).fit(X.numpy(), y.numpy())


DISTANCES = [0.0, 10.0, 100.0, 1e3, 1e4, 1e5]
MULTIPLIERS = [0.2, 0.4, 0.8, 1.0]


def _outlier_sizes(ctx) -> tuple[int, int]:
    return ctx.pick(smoke=200, quick=1000, full=5000), ctx.pick(smoke=20, quick=50, full=256)


def outlier_sweep_run(ctx: SeedContext) -> dict:
    """Shared by the two outlier claims: on seed ``ctx.seed``, CKA values along the distance sweep.

    RBF values are keyed by the bandwidth multiplier as text (``"0.2"``, ...).
    """
    from etude_cka import DebiasedCKA, LinearCKA, RBFCKA, random_direction, translate_outlier, translation_limit

    n, p = _outlier_sizes(ctx)
    device = ctx.device
    g = torch.Generator().manual_seed(ctx.seed)
    X, y = _two_gaussians(n, p, g)
    v = random_direction(p, orthogonal_to=_axis(p), generator=g)
    readout = _fit_readout(X, y)
    acc_before = float(readout.score(X.numpy(), y.numpy()))
    row = {"linear": [], "debiased": [], "rbf": {f"{m:g}": [] for m in MULTIPLIERS}, "accuracy": [],
           "limit": float(translation_limit(X, [0])), "acc_before": acc_before}
    Xd = X.to(device)
    for c in DISTANCES:
        Z = translate_outlier(X, c, 0, v)
        Zd = Z.to(device)
        row["linear"].append(float(LinearCKA()(Xd, Zd)))
        row["debiased"].append(float(DebiasedCKA()(Xd, Zd)))
        for m in MULTIPLIERS:
            row["rbf"][f"{m:g}"].append(float(RBFCKA(multiplier=m)(Xd, Zd)))
        row["accuracy"].append(float(readout.score(Z.numpy(), y.numpy())))
    return row


def _mean(values):
    return float(statistics.fmean(values))


def outlier_sensitivity_judge(ctx: JudgeContext, rows: list[dict]) -> Outcome:
    """Move one example of two well-separated Gaussian classes by c along a random direction.

    Data: n points in R^p (quick: n=1000, p=50), classes at -4 / +4 on axis 0;
    one point moved by c in {0, 10, 1e2, 1e3, 1e4, 1e5} along a random unit
    direction orthogonal to the class axis. A logistic-regression read-out is
    fit once on the original data and applied to the moved data.

    Criterion (every seed): linear CKA < 0.05 at c = 1e4; at c = 1e5 it is
    within 5% of the closed-form limit ||X_c^T u||^2 / (||u||^2 ||X_c^T X_c||_F);
    the read-out's accuracy drops by at most 1/n (only the moved point may change).
    """
    n, _ = _outlier_sizes(ctx)
    distances = DISTANCES
    i4, i5 = distances.index(1e4), distances.index(1e5)
    rel_err = [abs(r["linear"][i5] - r["limit"]) / r["limit"] for r in rows]
    acc_drop = [r["acc_before"] - min(r["accuracy"]) for r in rows]
    holds = all(r["linear"][i4] < 0.05 for r in rows) and max(rel_err) < 0.05 and max(acc_drop) <= 1.0 / n + 1e-12
    metrics = {
        "linear_cka_far": _mean([r["linear"][i4] for r in rows]),
        "readout_accuracy_change": -max(acc_drop),
        "closed_form_limit": _mean([r["limit"] for r in rows]),
        "limit_relative_error_c1e5": max(rel_err),
        "readout_accuracy_before": _mean([r["acc_before"] for r in rows]),
        "n": n,
    }
    for k, c in enumerate(distances):
        metrics[f"linear_cka_c={c:g}"] = _mean([r["linear"][k] for r in rows])
        metrics[f"debiased_cka_c={c:g}"] = _mean([r["debiased"][k] for r in rows])
    _plot_outlier(ctx, distances, rows, "linear")
    return Outcome(
        holds=holds,
        metrics=metrics,
        notes=(
            "Criterion: linear CKA < 0.05 at c=1e4, within 5% of the Theorem-1 limit at c=1e5, read-out accuracy "
            "drop <= 1/n, on every seed. Pilot in the paper brief: 1.000/0.9997/0.865/0.022/0.0039 for "
            "c=0/10/100/1e3/1e4 (limit 0.0037)."
        ),
    )


def rbf_robust_to_outlier_judge(ctx: JudgeContext, rows: list[dict]) -> Outcome:
    """Same outlier sweep as ``cka/outlier-sensitivity``, measured with median-bandwidth RBF CKA.

    Criterion (every seed): RBF CKA with sigma = 1 x median distance stays
    >= 0.95 for every c while linear CKA at c = 1e4 is < 0.05. The Kornblith
    multipliers 0.2 / 0.4 / 0.8 are reported too.
    """
    distances, multipliers = DISTANCES, MULTIPLIERS
    i4 = distances.index(1e4)
    rbf_min = min(min(r["rbf"]["1"]) for r in rows)
    holds = rbf_min >= 0.95 and all(r["linear"][i4] < 0.05 for r in rows)
    metrics = {"rbf_cka_min": rbf_min, "linear_cka_far": _mean([r["linear"][i4] for r in rows])}
    for m in multipliers:
        metrics[f"rbf_cka_min_multiplier={m:g}"] = min(min(r["rbf"][f"{m:g}"]) for r in rows)
    _plot_outlier(ctx, distances, rows, "rbf")
    return Outcome(
        holds=holds,
        metrics=metrics,
        notes="Criterion: min over c of median-bandwidth RBF CKA >= 0.95 while linear CKA(c=1e4) < 0.05. Pilot: 0.998.",
    )


def _plot_outlier(ctx: JudgeContext, distances, rows, which: str) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415

    xs = [max(c, 1.0) for c in distances]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for r in rows:
        ax.plot(xs, r["linear"], "o-", color="C0", alpha=0.7, label="linear CKA" if r is rows[0] else None)
        ax.plot(xs, r["debiased"], "s--", color="C2", alpha=0.7, label="debiased CKA" if r is rows[0] else None)
        if which == "rbf":
            ax.plot(xs, r["rbf"]["1"], "^-", color="C3", alpha=0.7, label="RBF CKA (median)" if r is rows[0] else None)
        ax.axhline(r["limit"], color="k", ls=":", lw=1, label="closed-form limit" if r is rows[0] else None)
    ax.set_xscale("log")
    ax.set_xlabel("distance c the single outlier is moved (c=0 plotted at 1)")
    ax.set_ylabel("CKA(X, X moved)")
    twin = ax.twinx()
    twin.plot(xs, rows[0]["accuracy"], "x-", color="C1", label="read-out accuracy")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("fixed linear read-out accuracy", color="C1")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("One outlier vs CKA")
    ctx.save_figure(fig, "sweep")


TRANSLATIONS = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 1e4]


def linear_separability_transform_run(ctx: SeedContext) -> dict:
    """Translate a whole class (and apply invertible linear maps): separability kept, CKA changes.

    Data (the paper's synthetic setting, scaled down): two classes drawn
    uniformly from unit cubes in R^d (quick: d=300, 1000 points each), the
    second shifted by 1.1 on axis 0. Class 1 is translated by c v with v a
    random unit vector orthogonal to axis 0, so the threshold read-out on
    axis 0 classifies exactly as before and a refit logistic regression still
    separates the classes. Invertible Gaussian maps X -> X A with entries
    N(mu, sigma^2), mu in {0, 1, 10}, sigma in {1, 10} are reported too.

    Criterion (every seed): linear CKA at c = 50 is below 0.5 (more than
    halved), it is within 5% of the Theorem-1 limit at c = 1e4, the fixed
    axis read-out's accuracy is unchanged and the refit read-out separates
    the translated data perfectly.
    """
    from etude_cka import LinearCKA, invertible_linear_map, random_direction, translate_subset, translation_limit

    per_class, d = ctx.pick(smoke=200, quick=1000, full=10000), ctx.pick(smoke=50, quick=300, full=1000)
    device = ctx.device
    g = torch.Generator().manual_seed(ctx.seed)
    X = torch.rand(2 * per_class, d, generator=g, dtype=torch.float64)
    y = torch.cat([torch.zeros(per_class, dtype=torch.long), torch.ones(per_class, dtype=torch.long)])
    X[per_class:, 0] += 1.1
    mask = y.bool()
    v = random_direction(d, orthogonal_to=_axis(d), generator=g)
    axis_acc = lambda Z: float(((Z[:, 0] > 1.05).long() == y).double().mean())  # noqa: E731
    row = {"cka": [], "axis_acc": [], "limit": float(translation_limit(X, mask)), "acc_before": axis_acc(X)}
    Xd = X.to(device)
    for c in TRANSLATIONS:
        Z = translate_subset(X, mask, c, v)
        row["cka"].append(float(LinearCKA()(Xd, Z.to(device))))
        row["axis_acc"].append(axis_acc(Z))
    Z = translate_subset(X, mask, 50.0, v)
    row["refit_acc"] = float(_fit_readout(Z, y).score(Z.numpy(), y.numpy()))
    maps = {}
    for mu in (0.0, 1.0, 10.0):
        for sigma in (1.0, 10.0):
            A = invertible_linear_map(d, mean=mu, std=sigma, generator=g)
            maps[f"mu={mu:g}_sigma={sigma:g}"] = float(LinearCKA()(Xd, (X @ A).to(device)))
    row["maps"] = maps
    return row


def linear_separability_transform_judge(ctx: JudgeContext, rows: list[dict]) -> Outcome:
    """Verdict of ``cka/linear-separability-transform`` (rule in :func:`linear_separability_transform_run`)."""
    distances = TRANSLATIONS
    i50, i4 = distances.index(50.0), distances.index(1e4)
    rel_err = [abs(r["cka"][i4] - r["limit"]) / r["limit"] for r in rows]
    acc_change = max(abs(a - r["acc_before"]) for r in rows for a in r["axis_acc"])
    holds = (
        all(r["cka"][i50] < 0.5 for r in rows)
        and max(rel_err) < 0.05
        and acc_change == 0.0
        and all(r["refit_acc"] == 1.0 for r in rows)
    )
    metrics = {
        "readout_accuracy_change": acc_change,
        "refit_readout_accuracy": min(r["refit_acc"] for r in rows),
        "linear_cka_c=50": _mean([r["cka"][i50] for r in rows]),
        "closed_form_limit": _mean([r["limit"] for r in rows]),
        "limit_relative_error_c1e4": max(rel_err),
        "invertible_map_cka_min": min(min(r["maps"].values()) for r in rows),
    }
    for k, c in enumerate(distances):
        metrics[f"linear_cka_c={c:g}"] = _mean([r["cka"][k] for r in rows])
    for key in rows[0]["maps"]:
        metrics[f"invertible_map_cka_{key}"] = _mean([r["maps"][key] for r in rows])

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    xs = [max(c, 0.5) for c in distances]
    for r in rows:
        ax.plot(xs, r["cka"], "o-", color="C0", alpha=0.7, label="linear CKA" if r is rows[0] else None)
        ax.axhline(r["limit"], color="k", ls=":", lw=1, label="closed-form limit" if r is rows[0] else None)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("translation c of class 1 (c=0 plotted at 0.5)")
    ax.set_ylabel("CKA(X, X translated)")
    ax.set_title(f"Class translation (axis read-out accuracy stays {rows[0]['acc_before']:.2f})")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "class-translation")
    return Outcome(
        holds=holds,
        metrics=metrics,
        notes=(
            "Criterion: CKA(c=50) < 0.5, within 5% of the Theorem-1 limit at c=1e4, axis read-out accuracy "
            "unchanged and refit read-out accuracy 1.0, on every seed."
        ),
    )


def map_manipulation_run(ctx: SeedContext) -> dict:
    """Fine-tune a digits MLP so its between-layer CKA map matches the identity (all-zeros) target.

    Setup: sklearn digits (train / val / test), an MLP with 3 hidden ReLU
    layers of 128 units pretrained 40 epochs with Adam (lr 1e-3, batch 128,
    gradient clip 1); then :class:`CKAMapTraining` with the paper's defaults:
    cross-entropy + 500 x log-cosh(map - target), debiased CKA per minibatch,
    alpha x 0.8 when validation accuracy drops more than 1 point below the
    pretrained network's, / 0.8 otherwise. The paper runs 20 epochs of ~390
    CIFAR-10 steps; digits has 9 steps per epoch, so 40 epochs are run. The map is
    evaluated with debiased CKA on the test split.

    Criterion (median over seeds): the largest off-diagonal CKA after
    training is < 0.3 (from >= 0.8 before) and the test accuracy changed by
    at most 1 point. Undecided at smoke scale (a few epochs on a tiny MLP).
    """
    from etude.data import Digits
    from etude_cka import CKAMapTraining, plot_cka_map

    cfg = ctx.pick(
        smoke={"hidden_sizes": (16, 16, 16), "pretrain_epochs": 2, "map_epochs": 1},
        quick={"pretrain_epochs": 40, "map_epochs": 40},
        full={"pretrain_epochs": 40, "map_epochs": 40},
    )
    result = CKAMapTraining(**cfg).run(Digits(seed=ctx.seed, val_fraction=0.15, standardize=True), seed=ctx.seed,
                                          device=ctx.device)
    info = result.info
    return {"metrics": dict(result.metrics), "layers": len(info["layers"]),
            "map_before": info["map_before"], "target": info["target"], "map_after": info["map_after"]}


def map_manipulation_judge(ctx: JudgeContext, results: list[dict]) -> Outcome:
    """Verdict of ``cka/map-manipulation`` (rule in :func:`map_manipulation_run`)."""
    from etude_cka import plot_cka_map

    med = lambda key: float(statistics.median(r["metrics"][key] for r in results))  # noqa: E731
    metrics = {
        "accuracy_change": med("accuracy_change"),
        "offdiag_cka_after": med("offdiag_cka_after"),
        "offdiag_cka_max_after": med("offdiag_cka_max_after"),
        "offdiag_cka_before": med("offdiag_cka_before"),
        "accuracy_before": med("accuracy_before"),
        "accuracy_after": med("accuracy_after"),
        "worst_accuracy_change": min(r["metrics"]["accuracy_change"] for r in results),
    }
    holds = None
    if ctx.scale != "smoke":
        holds = metrics["offdiag_cka_max_after"] < 0.3 and abs(metrics["accuracy_change"]) <= 1.0

    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    info = results[0]
    labels = [f"h{i + 1}" for i in range(info["layers"])]
    plot_cka_map(torch.tensor(info["map_before"]), labels_a=labels, labels_b=labels, ax=axes[0],
                 title=f"before (acc {info['metrics']['accuracy_before']:.1f}%)")
    plot_cka_map(torch.tensor(info["target"]), labels_a=labels, labels_b=labels, ax=axes[1], title="target")
    plot_cka_map(torch.tensor(info["map_after"]), labels_a=labels, labels_b=labels, ax=axes[2],
                 title=f"after (acc {info['metrics']['accuracy_after']:.1f}%)")
    for ax in axes:
        ax.set_xlabel("layer")
        ax.set_ylabel("layer")
    fig.tight_layout()
    ctx.save_figure(fig, "maps")
    return Outcome(
        holds=holds,
        metrics=metrics,
        notes=(
            "Criterion (median over seeds): max off-diagonal debiased CKA on the test split < 0.3 and |test accuracy "
            "change| <= 1 point. Smoke scale is inconclusive by design."
        ),
    )


#: both outlier claims measure the same sweep per seed (their judges differ)
outlier_sensitivity_run = outlier_sweep_run
rbf_robust_to_outlier_run = outlier_sweep_run

__all__ = [
    "linear_separability_transform_judge",
    "linear_separability_transform_run",
    "map_manipulation_judge",
    "map_manipulation_run",
    "outlier_sensitivity_judge",
    "outlier_sensitivity_run",
    "outlier_sweep_run",
    "rbf_robust_to_outlier_judge",
    "rbf_robust_to_outlier_run",
]
