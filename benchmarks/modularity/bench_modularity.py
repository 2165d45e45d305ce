"""Benchmark: etude-modularity's group layers against a Python loop of G torch layers and the official layer.

    python benchmarks/modularity/bench_modularity.py [--official /path/to/Mod_Arch] [--repeats 20]

Measured in one run on one CPU thread, forward + backward, best of
``--repeats``:

1. the modular MLP's modules at R = 32, e = 256 (d = 512), batch 256, all
   reading the shared encoding (B, 3e) as in the model:
   ``GroupLinear(32, 768, 16).forward_shared -> ReLU -> GroupLinear(32, 16, 513)``
   against the same maps as 2 x 32 ``nn.Linear`` in a Python loop, and against the
   official ``GroupLinearLayer`` (permute + bmm) imported from a
   ``sarthmit/Mod_Arch`` checkout (``MLP/Classification/model.py``) when
   ``--official`` is given (it is read from that checkout at run time, never
   copied into etude);
2. ``GroupLSTMCell`` at G = 6, hidden 100, input 100, batch 64, 10 steps,
   against 6 ``nn.LSTMCell`` in a loop;
3. ``specialisation_report`` on 10^6 routing rows (R = 8), wall time.

Ratios (baseline time / ours) are printed; > 1 means etude is faster.
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import time

import torch
from torch import nn

from etude_modularity.group_linear import GroupLinear, GroupLSTMCell
from etude_modularity.metrics import specialisation_report


def best_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def forward_backward(module_fn, params, x):
    def step():
        for p in params:
            p.grad = None
        module_fn(x).sum().backward()
    return step


def bench_modules(repeats: int, official: pathlib.Path | None) -> None:
    """The modules of the modular MLP: every module reads the shared encoding s (B, 3e)."""
    R, e, B = 32, 256, 256
    d = 2 * e
    torch.manual_seed(0)
    s = torch.randn(B, 3 * e)
    first, second = GroupLinear(R, 3 * e, d // R), GroupLinear(R, d // R, d + 1)

    def ours(inp):
        return second(torch.relu(first.forward_shared(inp)))

    results = {"GroupLinear (shared-input GEMM + einsum)": best_time(
        forward_backward(ours, [*first.parameters(), *second.parameters()], s), repeats)}

    def ours_expanded(inp):
        return second(torch.relu(first(inp.unsqueeze(1).expand(-1, R, -1))))

    results["GroupLinear on the expanded input (einsum x2)"] = best_time(
        forward_backward(ours_expanded, [*first.parameters(), *second.parameters()], s), repeats)

    loop1 = nn.ModuleList(nn.Linear(3 * e, d // R) for _ in range(R))
    loop2 = nn.ModuleList(nn.Linear(d // R, d + 1) for _ in range(R))

    def looped(inp):
        return torch.stack([loop2[g](torch.relu(loop1[g](inp))) for g in range(R)], dim=1)

    results[f"loop of {R} x 2 nn.Linear"] = best_time(
        forward_backward(looped, list(loop1.parameters()) + list(loop2.parameters()), s), repeats)

    if official is not None:
        path = official / "MLP" / "Classification" / "model.py"
        spec = importlib.util.spec_from_file_location("mod_arch_official_model", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        off = nn.Sequential(module.GroupLinearLayer(R, 3 * e, d // R), nn.ReLU(),
                            module.GroupLinearLayer(R, d // R, d + 1))

        def official_fn(inp):  # the official Modular.forward repeats the encoding R times
            return off(inp.unsqueeze(1).repeat(1, R, 1))

        results["official GroupLinearLayer (repeat + permute + bmm)"] = best_time(
            forward_backward(official_fn, list(off.parameters()), s), repeats)
    _print(f"modular MLP modules, R={R}, e={e}, batch {B}, forward+backward", results,
           "GroupLinear (shared-input GEMM + einsum)")


def bench_lstm(repeats: int) -> None:
    G, H, B, T = 6, 100, 64, 10
    torch.manual_seed(0)
    cells = [nn.LSTMCell(H, H) for _ in range(G)]
    group = GroupLSTMCell.from_modules(cells)
    x = torch.randn(T, B, G, H)

    def ours(inp):
        h = c = torch.zeros(B, G, H)
        for t in range(T):
            h, c = group(inp[t], (h, c))
        return h

    def looped(inp):
        states = [(torch.zeros(B, H), torch.zeros(B, H)) for _ in range(G)]
        for t in range(T):
            states = [cells[g](inp[t, :, g], states[g]) for g in range(G)]
        return torch.stack([s[0] for s in states], 1)

    results = {"GroupLSTMCell": best_time(forward_backward(ours, list(group.parameters()), x), repeats),
               f"loop of {G} nn.LSTMCell": best_time(
                   forward_backward(looped, [p for c in cells for p in c.parameters()], x), repeats)}
    _print(f"LSTM cells, G={G}, hidden {H}, batch {B}, {T} steps, forward+backward", results, "GroupLSTMCell")


def bench_report(repeats: int) -> None:
    n, R = 1_000_000, 8
    g = torch.Generator().manual_seed(0)
    routing = torch.softmax(torch.randn(n, R, generator=g), dim=1)
    rule = torch.randint(0, R, (n,), generator=g)
    seconds = best_time(lambda: specialisation_report(routing, rule, R), max(1, repeats // 4))
    cpu = time.process_time()
    specialisation_report(routing, rule, R)
    cpu = time.process_time() - cpu
    print(f"\nspecialisation_report on {n:,} rows (R={R}): {1000 * seconds:.1f} ms wall, "
          f"{1000 * cpu:.1f} ms CPU (goal < 100 ms)")


def _print(title: str, results: dict[str, float], ours: str) -> None:
    print(f"\n{title}")
    for name, seconds in results.items():
        print(f"  {name:45s} {1000 * seconds:8.2f} ms   ratio {seconds / results[ours]:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=pathlib.Path, default=None, help="path of a sarthmit/Mod_Arch checkout")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench_modules(args.repeats, args.official)
    bench_lstm(args.repeats)
    bench_report(args.repeats)


if __name__ == "__main__":
    main()
