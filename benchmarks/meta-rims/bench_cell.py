"""Benchmark: one RIM layer, forward + backward over 50 steps (B = 64, 600 units, K = 6, k_A = 4, one thread).

etude's batched ``RIMCell`` against, measured in the same run:
- the official ``BlocksCore`` (anirudh9119/RIMs, ``event_based/blocks_core.py``: one dense LSTMCell whose
  off-block-diagonal weights are zeroed by ``blockify_params``), imported from its own checkout;
- dido1998's ``RIMCell`` (dido1998/Recurrent-Independent-Mechanisms, ``RIM.py``), from its own checkout;
- a plain-PyTorch ``nn.LSTMCell`` of 600 units (no modules, no attention) for scale.

Nothing of either repository is copied: pass their checkouts with ``--official`` / ``--dido``.

    python benchmarks/meta-rims/bench_cell.py --official /path/RIMs/event_based --dido /path/Recurrent-Independent-Mechanisms
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from etude_meta_rims.cell import RIMCell

B, T, INPUT, HIDDEN, K, ACTIVE = 64, 50, 64, 600, 6, 4


def timed(step_fn, repeats: int) -> float:
    step_fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step_fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def etude_fn(x, device):
    cell = RIMCell(input_size=INPUT, hidden_size=HIDDEN // K, num_modules=K, active=ACTIVE).to(device)

    def run():
        state = None
        for t in range(T):
            _, state, _ = cell(x[:, t:t + 1], state)
        state.h.sum().backward()
    return run


def official_fn(x, path, device):
    sys.path.insert(0, path)
    from blocks_core import BlocksCore  # noqa: PLC0415  (the official module, from its checkout)

    core = BlocksCore(INPUT, HIDDEN, 1, K, ACTIVE, True, do_gru=False).to(device)

    def run():
        core.blockify_params()
        hx = torch.zeros(B, HIDDEN, device=device)
        cx = torch.zeros(B, HIDDEN, device=device)
        for t in range(T):
            hx, cx, _ = core(x[:, t], hx, cx, t)
        hx.sum().backward()
    return run


def dido_fn(x, path, device):
    sys.path.insert(0, path)
    from RIM import RIMCell as DidoRIMCell  # noqa: PLC0415  (dido1998's module, from its checkout)

    cell = DidoRIMCell(torch.device(device), INPUT, HIDDEN // K, K, ACTIVE, "LSTM").to(device)

    def run():
        hs = torch.zeros(B, K, HIDDEN // K, device=device)
        cs = torch.zeros(B, K, HIDDEN // K, device=device)
        for t in range(T):
            hs, cs = cell(x[:, t:t + 1], hs, cs)
        hs.sum().backward()
    return run


def lstm_fn(x, device):
    cell = torch.nn.LSTMCell(INPUT, HIDDEN).to(device)

    def run():
        h = torch.zeros(B, HIDDEN, device=device)
        c = torch.zeros(B, HIDDEN, device=device)
        for t in range(T):
            h, c = cell(x[:, t], (h, c))
        h.sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", help="path to anirudh9119/RIMs/event_based")
    parser.add_argument("--dido", help="path to a dido1998/Recurrent-Independent-Mechanisms checkout")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(B, T, INPUT, device=args.device)
    fns = {"etude RIMCell": etude_fn(x, args.device), "nn.LSTMCell 600 (no modules)": lstm_fn(x, args.device)}
    if args.official:
        fns["official BlocksCore"] = official_fn(x, args.official, args.device)
    if args.dido:
        fns["dido1998 RIMCell"] = dido_fn(x, args.dido, args.device)
    results = {name: timed(fn, args.repeats) for name, fn in fns.items()}
    ours = results["etude RIMCell"]
    print(f"forward + backward, {T} steps, B={B}, {HIDDEN} units, K={K}, k_A={ACTIVE}, 1 thread, {args.device}")
    for name, seconds in results.items():
        print(f"{name:32s} {seconds * 1e3:9.1f} ms   {seconds / ours:5.2f} x etude's time")


if __name__ == "__main__":
    main()
