"""Benchmark: a 2-layer BRIMs (600 units, K = 6, k_A = 4 per layer), B = 64, a 196-step sequence, forward + backward.

Measured in the same run, one thread:
- etude ``BRIMs`` with the paper wiring (top-down into layer 1 from layer 2) and the official wiring;
- the same etude model with ``top_down="none"`` (stacked RIMs): the top-down slot's cost;
- the official ``Blocks`` (sarthmit/BRIMs, ``MNIST/blocks.py``: layer 0 reads the top layer's previous
  state, one dense block-masked LSTM per layer), imported from its own checkout with ``--official``.

The official model embeds each pixel to ``emsize`` = 600 (its ninp); etude's layer 1 projects the pixel
to the same 600-wide slot. Nothing of the official repository is copied.

    python benchmarks/brims/bench_brims.py --official /path/to/BRIMs/MNIST [--steps 196] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from etude_brims.model import BRIMs

B, HIDDEN, K, ACTIVE, LAYERS = 64, 600, 6, 4, 2


def timed(step_fn, repeats: int) -> float:
    step_fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step_fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def etude_fn(x, device, top_down):
    model = BRIMs(input_size=1, output_size=10, num_layers=LAYERS, hidden_size=HIDDEN, num_modules=K,
                  active=ACTIVE, top_down=top_down).to(device)

    def run():
        model(x).sum().backward()
    return run


def official_fn(x, path, device):
    sys.path.insert(0, path)
    from blocks import Blocks  # noqa: PLC0415  (the official module, from its checkout)

    blocks = Blocks(HIDDEN, [HIDDEN] * LAYERS, LAYERS, [K] * LAYERS, [ACTIVE] * LAYERS, True, True).to(device)
    encoder = torch.nn.Linear(1, HIDDEN).to(device)
    decoder = torch.nn.Linear(HIDDEN, 10).to(device)

    def run():
        blocks.blockify_params()
        hx = [torch.zeros(B, HIDDEN, device=device) for _ in range(LAYERS)]
        cx = [torch.zeros(B, HIDDEN, device=device) for _ in range(LAYERS)]
        emb = encoder(x)
        for t in range(x.shape[1]):
            hx, cx = blocks(emb[:, t], hx, cx, t)
        decoder(hx[-1]).sum().backward()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", help="path to a sarthmit/BRIMs checkout's MNIST folder")
    parser.add_argument("--steps", type=int, default=196, help="sequence length (14 x 14 = 196)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(B, args.steps, 1, device=args.device)
    fns = {"etude BRIMs (paper wiring)": etude_fn(x, args.device, "paper"),
           "etude BRIMs (official wiring)": etude_fn(x, args.device, "official"),
           "etude stacked RIMs (no top-down)": etude_fn(x, args.device, "none")}
    if args.official:
        fns["official Blocks (sarthmit/BRIMs)"] = official_fn(x, args.official, args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    def wrap(fn):
        def run():
            fn()
            sync()
        return run
    results = {name: timed(wrap(fn), args.repeats) for name, fn in fns.items()}
    ours = results["etude BRIMs (official wiring)"]
    print(f"forward + backward, {args.steps} steps, B={B}, {LAYERS} layers x {HIDDEN} units, K={K}, k_A={ACTIVE}, "
          f"1 thread, {args.device}")
    for name, seconds in results.items():
        print(f"{name:36s} {seconds * 1e3:10.1f} ms   {seconds / ours:5.2f} x etude's official-wiring time")
    print(f"top-down slot cost (paper wiring / no top-down): "
          f"{results['etude BRIMs (paper wiring)'] / results['etude stacked RIMs (no top-down)']:.2f} x")


if __name__ == "__main__":
    main()
