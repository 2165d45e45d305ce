"""The RTB paper's claims as per-seed run / judge units (verdict rules fixed before the first run).

Toy setting (claims 1-3). Quick, the brief's pilot: a :class:`FollmerPrior` over 4 modes at
(±3, ±3) with variance 0.2, sigma^2 = 4, T = 20; ``log r = log(s(u) s(v) + 0.5 s(u) s(-v) + 0.05)``,
``s(z) = sigmoid(2z)``; residual policy 2 x 64; exploration 0.5 -> 0; 600 iterations, batch 256.
Full, the paper's toy: a prior trained by :func:`fit_prior_mle` on 25GMM samples (T = 100,
sigma^2 = 5, 10k iterations, cached), ``log r = log q_9 - log p_25`` (the 9-mode reweighted
posterior), RTB defaults (copy parametrisation, batch 500, 5000 iterations). Ground truth: SIR
from 200k prior trajectories of the same seed. RTB runs and the SIR reference are artefacts
shared by the claims. At smoke every verdict is None (plumbing only).
"""

from __future__ import annotations

import math

import torch

from etude.claims import JudgeContext, Outcome, SeedContext, mean_and_ci, paired_comparison
from etude.claims.artefacts import artefact

PILOT_MEANS = [[3.0, 3.0], [3.0, -3.0], [-3.0, 3.0], [-3.0, -3.0]]
POST9_MODES = [[-10, -5], [-5, -10], [-5, 0], [10, -5], [0, 0], [0, 5], [5, -5], [5, 0], [5, 10]]
POST9_WEIGHTS = [4, 10, 4, 5, 10, 5, 4, 15, 4]

TOY = {
    "smoke": {"n_steps": 5, "sigma2": 4.0, "iterations": 10, "batch": 32, "sir_n": 4000, "eval_n": 500, "hidden": 16},
    "quick": {"n_steps": 20, "sigma2": 4.0, "iterations": 600, "batch": 256, "sir_n": 200_000, "eval_n": 5000, "hidden": 64},
    "full": {"n_steps": 100, "sigma2": 5.0, "iterations": 5000, "batch": 500, "sir_n": 200_000, "eval_n": 10_000, "hidden": 64,
             "prior_steps": 10_000},
}


def _cache(ctx: SeedContext) -> str:
    return "" if ctx.cache_dir is None else str(ctx.cache_dir)


# -- the toy setting ---------------------------------------------------------------------------
def toy_prior_state(*, seed: int, device: str, n_steps: int, sigma2: float, steps: int) -> dict:
    """Artefact: the full-scale prior, backward MLE on 100k exact 25GMM samples."""
    from etude_diffusion_samplers.targets import GMM

    from .priors import fit_prior_mle, prior_state

    g = torch.Generator().manual_seed(seed)
    x = GMM(layout="grid25").sample((100_000,), generator=g).to(device)
    path = fit_prior_mle(x, sigma2=sigma2, n_steps=n_steps, steps=steps, batch_size=500, generator=g)
    return prior_state(path)


def toy_setting(scale: str, seed: int, device: str, store: str = ""):
    """``(prior DiffusionPath, reward, modes (K, d))`` of the toy at ``scale``."""
    from etude_diffusion_samplers.targets import GMM

    from .priors import FollmerPrior, prior_from_state
    from .rewards import GMMRatioReward, SigmoidQuadrantReward

    c = TOY[scale]
    if scale == "full":
        state = artefact(toy_prior_state, cache_dir=store or None, seed=seed, device=device,
                         n_steps=c["n_steps"], sigma2=c["sigma2"], steps=c["prior_steps"])
        prior = prior_from_state(state).to(device)
        post = GMM(layout="custom", means=POST9_MODES, weights=POST9_WEIGHTS, std=math.sqrt(0.3))
        return prior, GMMRatioReward(post, GMM(layout="grid25")).to(device), GMM(layout="grid25").modes.to(device)
    gmm = GMM(layout="custom", means=PILOT_MEANS, std=math.sqrt(0.2))
    return FollmerPrior(gmm, sigma2=c["sigma2"], n_steps=c["n_steps"]).to(device), SigmoidQuadrantReward(), gmm.modes.to(device)


def toy_sir(*, seed: int, device: str, scale: str, store: str = "") -> dict:
    """Artefact: the SIR reference of the toy (log Z, its se, mode weights, E_post[log r])."""
    from .sir import sir_reference

    prior, reward, modes = toy_setting(scale, seed, device, store)
    ref = sir_reference(prior, reward, TOY[scale]["sir_n"], modes=modes, generator=torch.Generator().manual_seed(10_000 + seed))
    return {k: ref[k] for k in ("log_Z", "log_Z_se", "ess", "log_r_mean", "mode_weights")}


def _method(name: str, scale: str):
    from .guidance import Guidance
    from .sampler import RelativeTrajectoryBalance, RLFinetune, RLKLFinetune

    c = TOY[scale]
    common = {"batch_size": c["batch"], "steps": c["iterations"], "exploration_decay_steps": c["iterations"]}
    if scale == "full":
        common.update(parametrisation="copy")
    else:
        common.update(parametrisation="residual", hidden_dim=c["hidden"], joint_layers=2, harmonics=c["hidden"])
    if name == "rtb":
        return RelativeTrajectoryBalance(**common)
    if name == "rl":
        return RLFinetune(**common)
    if name == "rl-kl":
        return RLKLFinetune(**common)
    if name in ("noisy", "dps"):
        return Guidance(mode=name, gamma=1.0)
    raise ValueError(f"unknown method {name!r}")


def toy_method(*, seed: int, device: str, scale: str, method: str, store: str = "") -> dict:
    """Artefact: one method fitted on the toy and evaluated (mode weights, log Z, E[log r], log Z curve)."""
    from etude_diffusion_samplers.metrics import mode_weights

    prior, reward, modes = toy_setting(scale, seed, device, store)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    s = _method(method, scale).to(device)
    s.fit(reward, prior=prior, generator=g)
    x = s.sample(TOY[scale]["eval_n"], generator=torch.Generator().manual_seed(20_000 + seed))
    out = {"mode_weights": mode_weights(x, modes), "log_r_mean": float(reward.log_prob(x).mean()),
           "samples": x[:1000].detach().cpu()}
    if hasattr(s, "log_Z"):
        try:
            z = s.log_Z(TOY[scale]["eval_n"], generator=torch.Generator().manual_seed(30_000 + seed))
            out.update({f"log_z_{k}": v for k, v in z.items()})
        except NotImplementedError:
            pass
    hist = getattr(s, "history", {}).get("log_z")
    if hist:
        out["log_z_curve"] = [float(v) for v in hist[:: max(1, len(hist) // 100)]]
    return out


def _tv(p, q) -> float:
    return float(0.5 * (torch.as_tensor(p) - torch.as_tensor(q)).abs().sum())


def _measure(ctx: SeedContext, method: str) -> dict:
    sir = ctx.artefact(toy_sir, scale=ctx.scale, store=_cache(ctx))
    res = ctx.artefact(toy_method, scale=ctx.scale, method=method, store=_cache(ctx))
    out = {"tv": _tv(res["mode_weights"], sir["mode_weights"]), "log_r_mean": res["log_r_mean"],
           "mode_weights": res["mode_weights"].tolist(), "sir_mode_weights": sir["mode_weights"].tolist(),
           "log_z_sir": sir["log_Z"], "log_z_sir_se": sir["log_Z_se"], "sir_log_r_mean": sir["log_r_mean"]}
    for key in ("log_z_learned", "log_z_iw"):
        if key in res:
            out[key] = res[key]
    if "log_z_learned" in res:
        out["abs_delta_log_z"] = abs(res["log_z_learned"] - sir["log_Z"])
    if "log_z_curve" in res:
        out["log_z_curve"] = res["log_z_curve"]
    return out


# -- claim 1 -----------------------------------------------------------------------------------
def posterior_matches_sir_run(ctx: SeedContext) -> dict:
    """Per seed: RTB's mode-weight TV to SIR, |log Z_phi - log Z_SIR|, E[log r]."""
    return _measure(ctx, "rtb")


def posterior_matches_sir_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Holds iff on every seed TV <= 0.10 and |log Z_phi - log Z_SIR| <= 0.20 (fixed before the first run)."""
    tv = [r["tv"] for r in runs]
    dz = [r["abs_delta_log_z"] for r in runs]
    metrics = {"tv": tv, "abs_delta_log_z": dz, "log_z_learned": [r["log_z_learned"] for r in runs],
               "log_z_iw": [r["log_z_iw"] for r in runs], "log_z_sir": [r["log_z_sir"] for r in runs],
               "log_z_sir_se": [r["log_z_sir_se"] for r in runs], "log_r_mean": [r["log_r_mean"] for r in runs],
               "mode_weights": [r["mode_weights"] for r in runs], "sir_mode_weights": runs[0]["sir_mode_weights"]}
    _figure(ctx, runs, "rtb")
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: plumbing only")
    holds = all(t <= 0.10 for t in tv) and all(d <= 0.20 for d in dz)
    return Outcome(holds=holds, metrics=metrics, notes=f"max TV {max(tv):.3f} (<= 0.10), max |dlog Z| {max(dz):.3f} (<= 0.20)")


def _figure(ctx: JudgeContext, runs: list[dict], label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    k = len(runs[0]["sir_mode_weights"])
    ax.bar([i - 0.2 for i in range(k)], runs[0]["sir_mode_weights"], width=0.4, label="SIR")
    ax.bar([i + 0.2 for i in range(k)], runs[0]["mode_weights"], width=0.4, label=f"{label} (seed {ctx.seeds[0]})")
    ax.set_xlabel("mode")
    ax.set_ylabel("weight")
    ax.legend()
    fig.tight_layout()
    ctx.save_figure(fig, f"mode-weights-{label}")
    plt.close(fig)


# -- claim 2 -----------------------------------------------------------------------------------
def rl_without_kl_collapses_run(ctx: SeedContext) -> dict:
    """Per seed: REINFORCE without KL on the same setting: its TV to SIR and E[log r] against SIR's posterior."""
    return _measure(ctx, "rl")


def rl_without_kl_collapses_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Holds iff on every seed TV >= 0.25 and E[log r] - E_SIR[log r] >= 0.2 (fixed before the first run)."""
    tv = [r["tv"] for r in runs]
    gain = [r["log_r_mean"] - r["sir_log_r_mean"] for r in runs]
    metrics = {"tv": tv, "log_r_mean": [r["log_r_mean"] for r in runs], "sir_log_r_mean": [r["sir_log_r_mean"] for r in runs],
               "log_r_gain_over_sir": gain, "mode_weights": [r["mode_weights"] for r in runs]}
    _figure(ctx, runs, "rl")
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: plumbing only")
    holds = all(t >= 0.25 for t in tv) and all(g >= 0.2 for g in gain)
    return Outcome(holds=holds, metrics=metrics, notes=f"min TV {min(tv):.3f} (>= 0.25), min E[log r] gain {min(gain):.3f} (>= 0.2)")


# -- claim 3 -----------------------------------------------------------------------------------
def kl_rl_and_guidance_biased_run(ctx: SeedContext) -> dict:
    """Per seed (paired): TV to SIR of RTB, RL with the KL term (0.01), noisy guidance (gamma 1) and DPS."""
    out = {}
    for m in ("rtb", "rl-kl", "noisy", "dps"):
        r = _measure(ctx, m)
        out[m] = {"tv": r["tv"], "log_r_mean": r["log_r_mean"], "mode_weights": r["mode_weights"]}
    return out


def kl_rl_and_guidance_biased_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Three-way, fixed before the first run: holds iff the paired 95% CI of TV(m) - TV(RTB) lies above 0 for
    m = rl-kl and m = noisy guidance; does not hold if either lies below 0; else inconclusive. DPS is reported."""
    rtb = [r["rtb"]["tv"] for r in runs]
    metrics = {"tv_rtb": rtb}
    comps = {}
    for m in ("rl-kl", "noisy", "dps"):
        tv = [r[m]["tv"] for r in runs]
        metrics[f"tv_{m}"] = tv
        metrics[f"log_r_mean_{m}"] = [r[m]["log_r_mean"] for r in runs]
        comps[m] = paired_comparison(tv, rtb)
        metrics.update(comps[m].as_dict(prefix=f"{m}_minus_rtb_"))
    metrics["log_r_mean_rtb"] = [r["rtb"]["log_r_mean"] for r in runs]
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: plumbing only")
    judged = [comps["rl-kl"], comps["noisy"]]
    if all(c.significant_positive for c in judged):
        holds, note = True, "both CIs of TV(m) - TV(RTB) above 0"
    elif any(c.significant_negative for c in judged):
        holds, note = False, "a CI of TV(m) - TV(RTB) lies below 0"
    else:
        holds, note = None, "inconclusive: a CI contains 0"
    return Outcome(holds=holds, metrics=metrics, notes=note)


# -- claim 4: classifier-guided digits ---------------------------------------------------------
DIGITS = {
    "smoke": {"prior_steps": 20, "prior_hidden": 32, "n_steps": 10, "iterations": 4, "batch": 32, "classes": [0], "epochs": 2,
              "eval_n": 64},
    "full": {"prior_steps": 20_000, "prior_hidden": 256, "n_steps": 100, "iterations": 2000, "batch": 128,
             "classes": list(range(10)), "epochs": 100, "eval_n": 500},
}


def digits_models(*, seed: int, device: str, scale: str) -> dict:
    """Artefact: the digits prior (backward MLE on digits scaled to [-1, 1]) and the classifier's state."""
    import etude

    from .priors import fit_prior_mle, prior_state

    c = DIGITS[scale]
    task = etude.create("task", "digits", seed=seed)
    train = task.split("train")
    proc = etude.create("procedure", "supervised", hidden=(128,), optimizer="adam", lr=1e-3, epochs=c["epochs"])
    res = proc.run(task, seed=seed)
    clf = next(iter(res.models.values()))
    g = torch.Generator().manual_seed(seed)
    x = (2 * train.inputs.float() - 1).to(device)
    prior = fit_prior_mle(x, sigma2=1.0, n_steps=c["n_steps"], steps=c["prior_steps"], batch_size=256,
                          hidden_dim=c["prior_hidden"], harmonics=64, generator=g)
    return {"prior": prior_state(prior), "classifier": {k: v.detach().cpu() for k, v in clf.state_dict().items()},
            "accuracy": float(res.metrics.get("test_accuracy", float("nan")))}


def _fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussian fits of two feature sets."""
    import numpy as np
    from scipy import linalg

    a, b = a.double().cpu().numpy(), b.double().cpu().numpy()
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2 + 1e-6 * np.eye(len(s1)))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean.real))


def _diversity(f: torch.Tensor) -> float:
    f = torch.nn.functional.normalize(f.double(), dim=1)
    sim = f @ f.T
    n = f.shape[0]
    return float(1 - (sim.sum() - n) / (n * (n - 1)))


def classifier_guided_posterior_run(ctx: SeedContext) -> dict:
    """Per seed and class: E[log r], FID in the classifier's penultimate features, diversity, for five methods."""
    import etude

    from .guidance import Guidance
    from .priors import prior_from_state
    from .rewards import ClassifierReward
    from .sampler import RelativeTrajectoryBalance, RLFinetune, RLKLFinetune

    c = DIGITS[ctx.pick(smoke="smoke", full="full")]
    models = ctx.artefact(digits_models, scale=ctx.scale)
    prior = prior_from_state(models["prior"]).to(ctx.device)
    task = etude.create("task", "digits", seed=ctx.seed)
    test = task.split("test")
    clf = etude.create("model", "mlp", in_features=64, out_features=10, hidden=(128,))
    clf.load_state_dict(models["classifier"])
    clf.requires_grad_(False).eval().to(ctx.device)

    class _Scaled(torch.nn.Module):  # the classifier sees [0, 1] inputs; the prior lives in [-1, 1]
        def forward(self, x):
            return clf((x + 1) / 2)

    out = {"classifier_accuracy": models["accuracy"]}
    common = {"batch_size": c["batch"], "steps": c["iterations"], "exploration": 0.0}
    for label in c["classes"]:
        reward = ClassifierReward(_Scaled(), label, 64)
        real = test.inputs[test.targets == label].float().to(ctx.device)
        feats_real = clf.features(real)
        row = {}
        methods = {
            "rtb": RelativeTrajectoryBalance(**common, exploration_decay_steps=c["iterations"]),
            "rl": RLFinetune(**common), "rl-kl": RLKLFinetune(**common),
            "dps": Guidance(mode="dps"), "lgd-mc": Guidance(mode="lgd-mc"),
        }
        for name, s in methods.items():
            s.to(ctx.device).fit(reward, prior=prior, generator=ctx.generator())
            x = s.sample(c["eval_n"], generator=torch.Generator().manual_seed(ctx.seed)).clamp(-1, 1)
            with torch.no_grad():
                f = clf.features((x + 1) / 2)
                row[name] = {"log_r_mean": float(reward.log_prob(x).mean()), "fid": _fid(f, feats_real), "diversity": _diversity(f)}
        out[str(label)] = row
    return out


def classifier_guided_posterior_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Holds iff RTB's FID is lowest with a paired CI (over seed x class) of FID(m) - FID(RTB) above 0 for every
    other method, and rl-finetune has the highest mean E[log r] and the lowest mean diversity."""
    methods = ("rtb", "rl", "rl-kl", "dps", "lgd-mc")
    cells = [row for r in runs for k, row in r.items() if k != "classifier_accuracy"]
    metrics = {"classifier_accuracy": [r["classifier_accuracy"] for r in runs]}
    for m in methods:
        for key in ("fid", "log_r_mean", "diversity"):
            metrics[f"{key}_{m}"] = mean_and_ci([cell[m][key] for cell in cells])[0]
    comps = {m: paired_comparison([cell[m]["fid"] for cell in cells], [cell["rtb"]["fid"] for cell in cells]) for m in methods[1:]}
    for m, comp in comps.items():
        metrics.update(comp.as_dict(prefix=f"fid_{m}_minus_rtb_"))
    if ctx.scale == "smoke":
        return Outcome(holds=None, metrics=metrics, notes="smoke: plumbing only")
    fid_ok = all(comp.significant_positive for comp in comps.values())
    rl_best = all(metrics["log_r_mean_rl"] >= metrics[f"log_r_mean_{m}"] for m in methods)
    rl_least_diverse = all(metrics["diversity_rl"] <= metrics[f"diversity_{m}"] for m in methods)
    holds = fid_ok and rl_best and rl_least_diverse
    return Outcome(holds=holds, metrics=metrics, notes=f"FID CIs above 0: {fid_ok}; RL highest E[log r]: {rl_best}; "
                   f"RL least diverse: {rl_least_diverse}. Features: the classifier's penultimate layer (not Inception).")


# -- claim 5: not reproducible offline -----------------------------------------------------------
def language_image_control_run(ctx: SeedContext) -> dict:
    """Not run: the text-to-image, SEDD infilling and D4RL experiments need checkpoints and data not available offline."""
    from etude.data import DataNotFoundError

    raise DataNotFoundError(
        "rtb/language-image-control needs Stable Diffusion v1-5 with ImageReward, a SEDD checkpoint with ROCStories, "
        "and D4RL with an IQL Q-function; none ships offline and no experiment is implemented for them (see the README)",
        folder="", expected=("stable-diffusion-v1-5", "ImageReward", "sedd", "ROCStories", "d4rl"),
    )


def language_image_control_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    """Never reached offline (the run records 'not run: data not found')."""
    return Outcome(holds=None, metrics={}, notes="not implemented offline")
