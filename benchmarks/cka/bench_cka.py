"""Benchmark: etude-cka's linear and debiased CKA against the public torch-cka and ckatorch packages.

    python benchmarks/cka/bench_cka.py [--n 10000] [--dims 512 2048] [--repeats 3]

Both baselines are optional and used only here (never dependencies of
etude-cka). Install them without their dependencies (neither pulls
torchvision, but ckatorch lists seaborn and safetensors, used only by its
plotting / saving helpers):

    pip download --no-deps torch-cka==0.21 ckatorch==1.0.3 -d /tmp/ckadl
    pip install -c constraints.txt --no-deps /tmp/ckadl/*.whl
    python benchmarks/cka/bench_cka.py
    pip uninstall -y torch-cka ckatorch

When ckatorch's optional imports are missing, this script registers empty
placeholder modules for ``seaborn`` and ``safetensors.torch`` so that
``ckatorch.core`` (pure torch) can be imported. If a package is not installed,
a straightforward Gram-space reference (n x n Gram matrices, explicit
centring, float64, the formulas as printed) stands in and is labelled so.

Each method runs on the same float32 inputs X (n, d), Y = X W + noise on one
CPU thread; the time is the best of ``--repeats`` (baselines: 1 run, they
take tens of seconds); values are compared to 1e-5; peak memory is the
increase of the process's max RSS during the call (ru_maxrss), so later
calls that fit in memory already touched read 0 and the column is an upper
bound only for the first call of each size.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
import types

import torch


def _stub_optional_imports() -> None:
    for name in ("seaborn", "safetensors", "safetensors.torch"):
        try:
            importlib.import_module(name)
        except ImportError:
            module = types.ModuleType(name)
            module.save_file = module.save_model = None  # ckatorch imports these names; never called here
            sys.modules[name] = module


def load_baselines():
    """Callables (name -> (linear_fn, debiased_fn)) for the installed baselines, else the Gram reference."""
    baselines = {}
    try:
        from torch_cka.cka import CKA as TorchCKA  # noqa: PLC0415

        holder = TorchCKA.__new__(TorchCKA)
        holder.device = "cpu"

        def torch_cka_debiased(X, Y):
            # torch-cka's compare(): K = X X^T with zeroed diagonal, its _HSIC (unbiased), then the ratio
            K = X @ X.T
            K.fill_diagonal_(0.0)
            L = Y @ Y.T
            L.fill_diagonal_(0.0)
            return holder._HSIC(K, L) / (holder._HSIC(K, K) ** 0.5 * holder._HSIC(L, L) ** 0.5)

        baselines["torch-cka 0.21"] = (None, torch_cka_debiased)  # it has no biased linear CKA
    except ImportError:
        pass
    try:
        _stub_optional_imports()
        from ckatorch.core import cka_base  # noqa: PLC0415

        baselines["ckatorch 1.0.3"] = (
            lambda X, Y: cka_base(X, Y, kernel="linear", unbiased=False),
            lambda X, Y: cka_base(X, Y, kernel="linear", unbiased=True),
        )
    except ImportError:
        pass
    if not baselines:
        baselines["Gram reference (no package installed)"] = (gram_linear_reference, gram_debiased_reference)
    return baselines


def gram_linear_reference(X, Y):
    X, Y = X.double(), Y.double()
    n = X.shape[0]
    H = torch.eye(n, dtype=torch.float64) - 1.0 / n
    K, L = H @ (X @ X.T) @ H, H @ (Y @ Y.T) @ H
    return (K * L).sum() / (K.norm() * L.norm())


def gram_debiased_reference(X, Y):
    def hsic1(K, L):
        n = K.shape[0]
        K, L = K - torch.diag(K.diagonal()), L - torch.diag(L.diagonal())
        k1, l1 = K.sum(1), L.sum(1)
        return ((K * L).sum() + k1.sum() * l1.sum() / ((n - 1) * (n - 2)) - 2 / (n - 2) * (k1 @ l1)) / (n * (n - 3))

    X, Y = X.double(), Y.double()
    K, L = X @ X.T, Y @ Y.T
    return hsic1(K, L) / (hsic1(K, K) * hsic1(L, L)).sqrt()


def timed(fn, X, Y, repeats):
    best, value = float("inf"), None
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(repeats):
        start = time.perf_counter()
        value = float(fn(X, Y))
        best = min(best, time.perf_counter() - start)
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return best, value, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run only the baselines whose name contains this text")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from etude_cka import DebiasedCKA, LinearCKA  # noqa: PLC0415

    baselines = {k: v for k, v in load_baselines().items() if args.only in k}
    print(f"n={args.n}, dims={args.dims}, float32 inputs, 1 CPU thread; baselines: {', '.join(baselines)}")
    rows = []
    for d in args.dims:
        g = torch.Generator().manual_seed(d)
        X = torch.randn(args.n, d, generator=g)
        Y = X @ torch.randn(d, d, generator=g) / d**0.5 + torch.randn(args.n, d, generator=g)
        for kind, ours in (("linear", LinearCKA()), ("debiased", DebiasedCKA())):
            t_ours, v_ours, m_ours = timed(ours, X, Y, args.repeats)
            t_ours64, v_ours64, _ = timed(ours, X.double(), Y.double(), 1)
            results = []
            for name, fns in baselines.items():
                fn = fns[0] if kind == "linear" else fns[1]
                if fn is None:
                    continue
                t, v, m = timed(fn, X, Y, 1)
                results.append((name, t, v, m))
            for name, t, v, m in results:
                rows.append((d, kind, name, t, t_ours, t / t_ours, abs(v - v_ours), abs(v - v_ours64), m, m_ours))
                print(
                    f"d={d:5d} {kind:8s} vs {name:38s}: baseline {t:8.2f} s ({m:7.0f} MB)  etude {t_ours:6.3f} s "
                    f"({m_ours:5.0f} MB)  speed-up x{t / t_ours:7.1f}  |diff| f32 {abs(v - v_ours):.1e} "
                    f"f64 {abs(v - v_ours64):.1e}  (etude float64: {t_ours64:.3f} s)",
                    flush=True,
                )
    print("\nSummary (speed-up over the faster baseline per setting):")
    for d in args.dims:
        for kind in ("linear", "debiased"):
            subset = [r for r in rows if r[0] == d and r[1] == kind]
            if subset:
                fastest = min(subset, key=lambda r: r[3])
                ok = "yes" if fastest[6] <= 1e-5 else "NO"
                print(f"  d={d:5d} {kind:8s}: x{fastest[5]:.1f} vs {fastest[2]} (values within 1e-5: {ok})")


if __name__ == "__main__":
    main()
