"""Steps and wall time to reach within 5% of the true MI: MINE vs MINE-f vs NWJ vs InfoNCE.

d = 2, rho = 0.9 (true MI 1.661 nats), batch 256, the same critic for every
estimator (joint 2x128 ELU by default; --critic separable), Adam 1e-3,
fresh training pairs. The held-out estimate (5k pairs) is taken every
--every steps; its time is excluded from the wall time. Ratios are against
MINE measured in the same run. Not a test: timings on a shared machine are noisy.

    python benchmarks/mine/bench_convergence.py [--seeds 2] [--max-steps 3000] [--critic joint]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from etude_mine import MINE, NWJ, CorrelatedGaussians, InfoNCE, MINEf


def run(cls, task, *, critic, seed, max_steps, every, tol):
    tr, te = task.split("train"), task.split("test")
    est = cls(critic=critic, seed=seed, batch_size=256)
    wall, steps = 0.0, 0
    while steps < max_steps:
        t0 = time.perf_counter()
        est.fit(tr.inputs, tr.targets, steps=every)
        wall += time.perf_counter() - t0
        steps += every
        value = float(est.estimate(te.inputs, te.targets))
        if abs(value - task.mutual_information) <= tol * task.mutual_information:
            return steps, wall, value
    return None, wall, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--critic", default="joint", choices=["joint", "separable"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    methods = {"MINE": MINE, "MINE-f": MINEf, "NWJ (all pairs)": NWJ, "InfoNCE": InfoNCE}
    rows = {}
    for name, cls in methods.items():
        steps, walls, finals = [], [], []
        for seed in range(args.seeds):
            task = CorrelatedGaussians(dim=2, rho=0.9, n_train=256 * args.max_steps, n_test=5000, seed=seed)
            s, w, v = run(cls, task, critic=args.critic, seed=seed, max_steps=args.max_steps, every=args.every, tol=0.05)
            steps.append(s)
            walls.append(w)
            finals.append(v)
        reached = [s for s in steps if s is not None]
        rows[name] = {
            "reached": f"{len(reached)}/{len(steps)}",
            "steps": statistics.median(reached) if reached else float("nan"),
            "wall": statistics.median(w for s, w in zip(steps, walls) if s is not None) if reached else float("nan"),
            "ms_per_step": 1000 * sum(walls) / sum(s if s is not None else args.max_steps for s in steps),
            "final": statistics.median(finals),
        }
        print(f"  done {name}", flush=True)
    base = rows["MINE"]
    print(f"\nd=2, rho=0.9 (true MI 1.661 nats), batch 256, critic={args.critic}, {args.seeds} seeds, "
          f"target within 5%; ratios vs MINE (same run)")
    print(f"{'estimator':<18}{'reached':>8}{'steps':>8}{'x MINE':>8}{'wall s':>8}{'x MINE':>8}{'ms/step':>9}{'x MINE':>8}{'last est':>9}")
    for name, r in rows.items():
        print(f"{name:<18}{r['reached']:>8}{r['steps']:>8.0f}{r['steps'] / base['steps']:>8.2f}{r['wall']:>8.2f}"
              f"{r['wall'] / base['wall']:>8.2f}{r['ms_per_step']:>9.2f}{r['ms_per_step'] / base['ms_per_step']:>8.2f}"
              f"{r['final']:>9.3f}")


if __name__ == "__main__":
    main()
