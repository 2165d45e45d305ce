"""Benchmark: the fused S_K against its vmap variant and the official ``estimate_grad_Rt``; DEM step and SDE throughput;
W2 against energy calls for iDEM, MC-score, parallel MALA and NUTS on the 9-mode GMM (the matched-budget comparison).

1. S_K throughput (points per second) at B = 512, K = 1000 on DW-4 and GMM-40: ``dem_score`` (one batched
   autograd call over (B, K) points), ``dem_score_vmap`` (``vmap(grad(logsumexp))``, the official shape) and the
   official ``estimate_grad_Rt`` imported from a jarridrb/DEM checkout (commit 8e95319) when ``--official`` gives
   its root. Its module imports ``pytorch_lightning`` only for a logger type; that import is stubbed here
   (nothing of it runs), so no Lightning install is needed. The official code is imported, never copied:

       git -C /work/.mirror/jarridrb+DEM/repo archive HEAD dem | tar -x -C /tmp/dem-official
       python benchmarks/idem/bench_idem.py --official /tmp/dem-official

2. Inner DEM steps per second and reverse-SDE steps per second with ``EGNNScore`` (3 x 128) on DW-4 (batch 512, K = 1000
   for the inner step, scaled down with --small).
3. W2 (1000 vs 1000 exact) against energy calls on the 9-mode GMM: iDEM (quick pilot), MC-score (K = 100, 200 steps),
   parallel MALA (1000 chains) and NUTS at iDEM's energy budget.

Single-threaded (torch.set_num_threads(1)); the ratios are what counts, absolute times depend on load.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import types

import torch

torch.set_num_threads(1)


def _timeit(fn, reps: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def _official_estimator(root: str):
    sys.path.insert(0, root)
    for name in ("pytorch_lightning", "pytorch_lightning.loggers"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["pytorch_lightning.loggers"].WandbLogger = object
    from dem.models.components.noise_schedules import GeometricNoiseSchedule  # noqa: PLC0415
    from dem.models.components.score_estimator import estimate_grad_Rt  # noqa: PLC0415

    return estimate_grad_Rt, GeometricNoiseSchedule


def bench_sk(b: int, k: int, reps: int, official: str | None) -> list[dict]:
    from etude_diffusion_samplers.targets import GMM

    from etude_idem.schedules import NoiseSchedule
    from etude_idem.score import dem_score, dem_score_vmap
    from etude_idem.targets import MultiDoubleWell

    rows = []
    est = None
    if official:
        est, geometric = _official_estimator(official)
    for name, target, sch in (("dw4", MultiDoubleWell(), NoiseSchedule(sigma_min=1e-5, sigma_max=3.0)),
                              ("gmm40", GMM(layout="fab40"), NoiseSchedule(sigma_min=1e-5, sigma_max=50.0))):
        layout = getattr(target, "layout", None)
        x = torch.randn(b, target.dim) * 2
        t = torch.rand(b)
        row = {"task": name, "B": b, "K": k}
        row["fused_s"] = _timeit(lambda: dem_score(target, x, t, k, sch, layout=layout), reps)
        row["vmap_s"] = _timeit(lambda: dem_score_vmap(target, x, t, k, sch, layout=layout), reps)
        if est is not None:
            off_sch = geometric(sigma_min=sch.sigma_min, sigma_max=sch.sigma_max)
            row["official_s"] = _timeit(lambda: est(t, x, target.log_prob, off_sch, k), reps)
            row["fused_over_official"] = row["official_s"] / row["fused_s"]
        row["fused_over_vmap"] = row["vmap_s"] / row["fused_s"]
        rows.append(row)
    return rows


def bench_egnn(b: int, k: int, reps: int) -> dict:
    from etude_idem.sampler import IDEM
    from etude_idem.targets import MultiDoubleWell

    target = MultiDoubleWell()
    s = IDEM(preset="dw4", batch_size=b, num_mc=k, refresh_every=10**9, init_samples=max(b, 16), buffer_min=1)
    s.fit(target, steps=1)
    step = _timeit(lambda: s.fit(target, steps=1), reps)
    x = s._prior(b, None)
    t = torch.full((b,), 0.5)
    with torch.no_grad():
        net = _timeit(lambda: s.score(x, t), reps)
    return {"inner_steps_per_s": 1 / step, "sde_steps_per_s": 1 / net, "batch": b, "K": k}


def bench_budget(steps: int) -> list[dict]:
    from etude_diffusion_samplers.baselines import NUTSSampler
    from etude_diffusion_samplers.local_search import mala
    from etude_diffusion_samplers.metrics import wasserstein2

    from etude_idem.claims import PILOT, nine_mode_gmm
    from etude_idem.sampler import IDEM, MCScoreSampler

    target = nine_mode_gmm()
    exact = target.sample((1000,), generator=torch.Generator().manual_seed(1))
    rows = []
    torch.manual_seed(0)
    c0 = target.energy_calls
    s = IDEM(**PILOT).fit(target, steps=steps, generator=torch.Generator().manual_seed(0))
    budget = target.energy_calls - c0
    rows.append({"method": "iDEM (pilot)", "energy_calls": budget, "w2": wasserstein2(s.sample(1000, generator=torch.Generator().manual_seed(2)), exact)})
    c0 = target.energy_calls
    mc = MCScoreSampler(sigma_min=0.01, sigma_max=6.0, num_mc=100, sde_steps=200, max_norm=70.0).fit(target)
    x = mc.sample(1000, generator=torch.Generator().manual_seed(3))
    rows.append({"method": "MC-score K=100, 200 steps, clip 70", "energy_calls": target.energy_calls - c0, "w2": wasserstein2(x, exact)})
    for n_steps in (budget // 1000 // 10, budget // 1000):
        c0 = target.energy_calls
        res = mala(6.0 * torch.randn(1000, 2, generator=torch.Generator().manual_seed(4)), target, n_steps=max(n_steps, 2), burn_in=max(n_steps, 2) - 1, step_size=0.05)
        rows.append({"method": f"parallel MALA, 1000 chains x {n_steps}", "energy_calls": target.energy_calls - c0, "w2": wasserstein2(res.final, exact)})
    c0 = target.energy_calls
    nuts = NUTSSampler(num_samples=250, warmup_steps=250, num_chains=4, init_scale=6.0, energy_budget=budget).fit(target)
    rows.append({"method": "NUTS, 4 chains (budget-capped)", "energy_calls": target.energy_calls - c0, "w2": wasserstein2(nuts.sample(1000, generator=torch.Generator().manual_seed(5)), exact)})
    floor = wasserstein2(exact, target.sample((1000,), generator=torch.Generator().manual_seed(6)))
    rows.append({"method": "floor: exact vs exact", "energy_calls": 0, "w2": floor})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--official", default=None, help="root of a jarridrb/DEM checkout (folder containing dem/)")
    parser.add_argument("--small", action="store_true", help="B = 64, K = 100, 300 iDEM steps (a quick look)")
    parser.add_argument("--budget-steps", type=int, default=0, help="iDEM steps of the matched-budget comparison (default 3000, the pilot)")
    args = parser.parse_args()
    b, k, reps, steps = (64, 100, 3, 300) if args.small else (512, 1000, 3, 3000)
    steps = args.budget_steps or steps
    print("S_K throughput (seconds per call; ratio = speed-up of the fused estimator)")
    for row in bench_sk(b, k, reps, args.official):
        print("  " + ", ".join(f"{key}={val:.4g}" if isinstance(val, float) else f"{key}={val}" for key, val in row.items()))
    print("DW-4 with EGNNScore 3 x 128:", bench_egnn(b, k, reps))
    print("W2 against energy calls on the 9-mode GMM:")
    for row in bench_budget(steps):
        print(f"  {row['method']:<36} calls={row['energy_calls']:>12,}  W2={row['w2']:.3f}" + ("" if math.isfinite(row["w2"]) else " (diverged)"))


if __name__ == "__main__":
    main()
