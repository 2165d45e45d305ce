"""Benchmark (not a test): the reproduce runner's executors on this machine.

1. Wall time of a `make demo`-style run (real claims, fresh output folder) with
   ``--jobs 2`` against ``--jobs 1``; the ratio is the speed-up.
2. Units per second of trivial units through the plain process pool against
   submitit's LocalExecutor (the cluster path's overhead: one submitit job,
   i.e. a controller and a task process, per unit).

Run: ``.venv/bin/python benchmarks/runner/bench_executors.py [--scale smoke] [--seeds 3]``.
Timings on a shared machine are inflated: compare the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time
import types

CLAIMS = ["cka/outlier-sensitivity", "cka/linear-separability-transform", "cka/map-manipulation",
          "mine/gaussian-mi", "mine/information-bottleneck", "mixupe/directional-derivative-regularisation",
          "crosssplit/label-noise-robustness", "diffusion-samplers/exploration-helps"]

TRIVIAL = '''
def run(ctx):
    return {"seed": ctx.seed, "square": ctx.seed ** 2}


def judge(ctx, runs):
    from etude.claims import Outcome

    return Outcome(holds=True, metrics={"n": len(runs)})
'''


def wall(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="smoke")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--units", type=int, default=24)
    args = parser.parse_args()

    import etude
    from etude.claims import reproduce
    from etude.testing.registry import temporary_registry

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        times = {}
        for jobs in (1, 2):
            times[jobs] = wall(lambda: reproduce(claims=CLAIMS, scale=args.scale, seeds=args.seeds,
                                                 out=tmp / f"jobs{jobs}", progress=False, jobs=jobs))
        units = len(CLAIMS) * args.seeds
        print(f"{len(CLAIMS)} claims x {args.seeds} seeds = {units} units at {args.scale} scale:")
        print(f"  --jobs 1: {times[1]:.1f} s   --jobs 2: {times[2]:.1f} s   speed-up {times[1] / times[2]:.2f}x")

        (tmp / "mods").mkdir()
        (tmp / "mods" / "bench_trivial.py").write_text(TRIVIAL)
        sys.path.insert(0, str(tmp / "mods"))
        import os

        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp / "mods"), os.environ.get("PYTHONPATH")]))

        def register_claims(registry):
            registry.add_claim("bench/trivial", run="bench_trivial:run", judge="bench_trivial:judge",
                               statement="-", source="-")

        rates = {}
        with temporary_registry() as temp:
            temp.add_plugin(types.SimpleNamespace(register_claims=etude.hookimpl(register_claims)), "bench")
            for name, kwargs in (("pool --jobs 2", {"jobs": 2}),
                                 ("submitit-local", {"executor": "submitit-local",
                                                     "executor_options": {"poll_seconds": 0.1}})):
                seconds = wall(lambda: reproduce(scale="smoke", seeds=args.units, out=tmp / name.replace(" ", ""),
                                                 progress=False, **kwargs))
                rates[name] = args.units / seconds
        print(f"{args.units} trivial units: " + "   ".join(f"{k}: {v:.2f} units/s" for k, v in rates.items())
              + f"   pool / submitit-local = {rates['pool --jobs 2'] / rates['submitit-local']:.1f}x")


if __name__ == "__main__":
    main()
