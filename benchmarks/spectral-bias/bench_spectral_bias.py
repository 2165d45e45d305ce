"""Benchmark: the cost of etude-spectral-bias's diagnostics, each against its baseline in the same run.

    python benchmarks/spectral-bias/bench_spectral_bias.py [--iterations 2000] [--draws 64] [--repeats 3] [--device cpu]

1. Tracker overhead: iterations per second of claim 1's quick fit (N = 200,
   k = 5..25, MLP width 128 depth 4, full-batch Adam 1e-3 through
   ``procedure/supervised``) with ``SpectrumTracker(every=25)`` against the
   same run without callbacks. Goal: <= 5% overhead.
   The per-record cost is also timed directly (one record against one
   training step), which is less sensitive to a loaded machine.
2. ``perturbation_spectrum`` with ``--draws`` draws in one vmapped call
   against a loop over draws (deepcopy, add the same noise, forward, rfft),
   both float64, on claim 4's network (width 128, depth 4) and on a small
   one (width 32, depth 3). Goal: >= 5x. On one CPU thread the 128-wide
   case is compute-bound (both do the same 64 x 200 x 33k multiply-adds),
   so vmap saves only the per-draw overhead; the small network and a GPU
   show the dispatch savings.

Times are the best of ``--repeats`` runs, interleaved, on one CPU thread
(``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import argparse
import copy
import time

import torch


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def tracker_overhead(iterations: int, repeats: int, device: str) -> tuple[float, float]:
    from etude_spectral_bias import SpectrumTracker, SumOfSinusoids
    from etude_spectral_bias.training import supervised_procedure

    task = SumOfSinusoids(frequencies=(5, 10, 15, 20, 25))
    procedure = supervised_procedure(width=128, depth=4, lr=1e-3, iterations=iterations)
    plain = lambda: procedure.run(task, seed=0, device=device)  # noqa: E731
    tracked = lambda: procedure.run(task, seed=0, device=device, callbacks=[SpectrumTracker(every=25)])  # noqa: E731
    plain()  # warm-up (imports, allocator)
    t_plain, t_tracked = float("inf"), float("inf")
    for i in range(repeats):  # alternate which goes first: on a shared machine the order matters
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            if which == 0:
                t_plain = min(t_plain, _best(plain, 1))
            else:
                t_tracked = min(t_tracked, _best(tracked, 1))
    return iterations / t_plain, iterations / t_tracked


def record_cost(device: str, steps: int = 200) -> tuple[float, float]:
    """Seconds of one ``SpectrumTracker.record`` and of one full-batch Adam step (width 128, depth 4, N = 200)."""
    from etude_spectral_bias import SpectrumTracker, SumOfSinusoids
    from etude_spectral_bias.training import mlp_hidden

    import etude

    task = SumOfSinusoids(frequencies=(5, 10, 15, 20, 25))
    x, y = (t.to(device) for t in (task.split("train").inputs, task.split("train").targets))
    net = etude.create("model", "mlp", in_features=1, out_features=1, hidden=mlp_hidden(128, 4)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tracker = SpectrumTracker(every=25)

    class _State:
        pass

    state = _State()
    state.device, state.data, state.info = torch.device(device), {"train": (x, y)}, task.split("train").info
    tracker.on_train_start(state)

    def records():
        for i in range(steps):
            tracker.record(net, i)
        if device == "cuda":
            torch.cuda.synchronize()

    def train():
        for _ in range(steps):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    records(), train()
    return _best(records, 3) / steps, _best(train, 3) / steps


def perturbation_speedup(draws: int, repeats: int, device: str, width: int = 128,
                         depth: int = 4) -> tuple[float, float, float]:
    from etude_spectral_bias import perturbation_spectrum, sample_perturbations
    from etude_spectral_bias.training import mlp_hidden

    import etude

    torch.manual_seed(0)
    net = etude.create("model", "mlp", in_features=1, out_features=1, hidden=mlp_hidden(width, depth)).to(device)
    x = (torch.arange(200, device=device) / 200.0)[:, None]
    k = [2, 4, 6, 8, 10]

    def vmapped():
        return perturbation_spectrum(net, 0.05, draws, inputs=x, frequencies=k, generator=torch.Generator().manual_seed(0))

    def loop():
        eps = sample_perturbations(net, 0.05, draws, generator=torch.Generator().manual_seed(0))
        ref = copy.deepcopy(net).double()
        xd = x.double()
        with torch.no_grad():
            f0 = torch.fft.rfft(ref(xd)[:, 0])[k]
            rows = []
            for d in range(draws):
                pert = copy.deepcopy(ref)
                for name, p in pert.named_parameters():
                    p.add_(eps[name][d].double())
                fd = torch.fft.rfft(pert(xd)[:, 0])[k]
                rows.append((fd * f0.conj()).real / f0.abs() ** 2)
        return torch.stack(rows).mean(0)

    err = float((vmapped().retention.to(device) - loop()).abs().max())
    t_vmap, t_loop = float("inf"), float("inf")
    for _ in range(repeats):
        t_vmap = min(t_vmap, _best(vmapped, 1))
        t_loop = min(t_loop, _best(loop, 1))
    return t_loop, t_vmap, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plain, tracked = tracker_overhead(args.iterations, args.repeats, args.device)
    print(f"fit, {args.iterations} full-batch Adam steps (width 128, depth 4, N = 200), {args.device}:")
    print(f"  without tracker {plain:8.1f} it/s")
    print(f"  SpectrumTracker {tracked:8.1f} it/s   overhead {100 * (plain / tracked - 1):+.1f}% (goal <= 5%)")
    t_record, t_step = record_cost(args.device)
    print(f"  direct: one record {1e3 * t_record:.2f} ms, one step {1e3 * t_step:.2f} ms -> every 25 steps "
          f"{100 * t_record / (25 * t_step):.1f}% overhead")
    for width, depth in ((128, 4), (32, 3)):
        t_loop, t_vmap, err = perturbation_speedup(args.draws, args.repeats, args.device, width, depth)
        print(f"perturbation_spectrum, {args.draws} draws (width {width}, depth {depth}, N = 200, float64):")
        print(f"  loop over draws {1e3 * t_loop:8.1f} ms")
        print(f"  vmapped         {1e3 * t_vmap:8.1f} ms   speed-up {t_loop / t_vmap:.1f}x (goal >= 5x), "
              f"max |diff| {err:.1e}")


if __name__ == "__main__":
    main()
