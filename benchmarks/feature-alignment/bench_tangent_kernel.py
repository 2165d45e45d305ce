"""Benchmark: the tangent-kernel Gram of etude-feature-alignment against a per-example autograd loop.

    python benchmarks/feature-alignment/bench_tangent_kernel.py [--n 100] [--hidden 256 256] [--repeats 3]

The model is the quick setting's MLP 64-256-256-10 (P = 85 002) on n = 100
random inputs; the Gram is the full (n C, n C) = (1000, 1000) tangent kernel.
Methods, all on one CPU thread, in one run:

- ``TangentKernel`` (``vmap(jacrev)``, chunk 32 and 100; ``ntk-vp``);
- the baseline: a Python loop over examples and outputs, one
  ``torch.autograd.grad`` per (example, output), stacked and multiplied;
- nngeometry 0.4's dense Gram (``TorchHooksJacobianBackend``) when it is
  installed (``pip install -c constraints.txt --no-deps nngeometry==0.4``;
  benchmark environment only, never a dependency). Not installed here: the
  row is skipped and says so.

Time: CPU seconds (``time.process_time``, one thread, so robust to a loaded
machine), best of ``--repeats``; the Jacobian alone is timed too (the
Gram adds the same (nC x P) @ (P x nC) product to both). Memory: the
process's max-RSS increase (an upper bound only for the first call).
Values are compared with the loop to 1e-4 relative.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from torch import nn

from etude_feature_alignment import TangentKernel


def mlp(hidden: list[int], d: int = 64, C: int = 10) -> nn.Module:
    torch.manual_seed(0)
    layers, width = [], d
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, C))


def loop_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    params = [p for p in model.parameters()]
    rows = []
    for i in range(x.shape[0]):
        out = model(x[i:i + 1])[0]
        for c in range(out.shape[0]):
            g = torch.autograd.grad(out[c], params, retain_graph=c < out.shape[0] - 1)
            rows.append(torch.cat([t.reshape(-1) for t in g]))
    return torch.stack(rows)  # (n C, P)


def loop_gram(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    J = loop_jacobian(model, x)
    return J @ J.T


def nngeometry_gram(model: nn.Module, x: torch.Tensor):
    try:
        from nngeometry.backend import TorchHooksJacobianBackend  # noqa: F401
        from nngeometry.object import FMatDense  # noqa: F401
    except ImportError:
        return None
    from torch.utils.data import DataLoader, TensorDataset  # noqa: PLC0415

    loader = DataLoader(TensorDataset(x, torch.zeros(x.shape[0])), batch_size=x.shape[0])
    from nngeometry.object import FMatDense  # noqa: PLC0415
    from nngeometry.layercollection import LayerCollection  # noqa: PLC0415
    from nngeometry.backend import TorchHooksJacobianBackend  # noqa: PLC0415

    lc = LayerCollection.from_model(model)
    backend = TorchHooksJacobianBackend(model=model, function=lambda *d: model(d[0]), layer_collection=lc)
    return backend.get_gram_matrix(loader) if hasattr(backend, "get_gram_matrix") else FMatDense  # noqa: B018


def best(fn, repeats: int) -> tuple[float, torch.Tensor, float]:
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out, times = None, []
    for _ in range(repeats):
        t = time.process_time()  # one thread: CPU time is the idle-machine wall time, robust to load
        out = fn()
        times.append(time.process_time() - t)
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return min(times), out, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = mlp(args.hidden)
    x = torch.randn(args.n, 64, generator=torch.Generator().manual_seed(1))
    P = sum(p.numel() for p in model.parameters())
    print(f"MLP 64-{'-'.join(map(str, args.hidden))}-10, P = {P}, n = {args.n}, Gram ({args.n * 10}, {args.n * 10}), 1 thread")
    t_jloop, J_ref, _ = best(lambda: loop_jacobian(model, x), 1)
    tkj = TangentKernel(model, chunk_size=32)
    t_jvmap, J, _ = best(lambda: tkj.jacobian(x), args.repeats)
    print(f"Jacobian only (n C, P): loop {t_jloop:.3f} s, vmap(jacrev) {t_jvmap:.3f} s: {t_jloop / t_jvmap:.1f}x, "
          f"max abs diff {float((J.reshape(J_ref.shape) - J_ref).abs().max()):.1e}")
    t_loop, K_ref, rss_loop = best(lambda: loop_gram(model, x), 1)
    rows = [("per-example autograd loop (baseline)", t_loop, rss_loop, 0.0)]
    for label, kw in (("TangentKernel vmap(jacrev), chunk 32", {"chunk_size": 32}),
                      ("TangentKernel vmap(jacrev), chunk 100", {"chunk_size": 100}),
                      ("TangentKernel ntk-vp, chunk 100", {"chunk_size": 100, "implementation": "ntk-vp"})):
        tk = TangentKernel(model, **kw)
        t, K, rss = best(lambda tk=tk: tk.gram(x), args.repeats)
        err = float((K - K_ref).abs().max() / K_ref.abs().max())
        rows.append((label, t, rss, err))
    ng = nngeometry_gram(model, x)
    print(f"{'method':42s} {'time (s)':>9s} {'x loop':>7s} {'max-RSS +MiB':>13s} {'rel. err':>9s}")
    for label, t, rss, err in rows:
        print(f"{label:42s} {t:9.3f} {t_loop / t:7.1f} {rss:13.0f} {err:9.1e}")
    jac_mib = args.n * 10 * P * 4 / 2**20
    print(f"Jacobian held by the vmap path: n C P float32 = {jac_mib:.0f} MiB (plus one chunk of jacrev work)")
    if ng is None:
        print("nngeometry 0.4: not installed here (pip install -c constraints.txt --no-deps nngeometry==0.4); skipped")


if __name__ == "__main__":
    main()
