"""Wall time per epoch: CrossSplit vs plain training (etude-mixupe's procedure/supervised) on the same data.

Run: python benchmarks/crosssplit/bench_epoch_time.py [--epochs N] [--repeats R]

Both procedures train the same MLP (64-256-256-10) on standardised digits
with 40% symmetric label noise, batch 64, on one CPU thread. CrossSplit
trains two networks, each on half the data but with 2 labelled + 2
unlabelled views, 4 no-grad forward passes for targets, and the per-epoch
JSD range: about 2x plain training per epoch is expected. Warm-up epochs
(plain cross-entropy on each half) are timed apart. Each measurement is the
median of ``repeats`` runs; the ratio is reported against plain training
measured in the same process.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def _time(make, task, repeats):
    times = []
    for r in range(repeats):
        proc = make()
        start = time.perf_counter()
        proc.run(task, seed=r)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    import etude  # noqa: PLC0415

    task = etude.create("task", "digits", standardize=True, label_noise=0.4, seed=0)
    task.splits()
    common = {"epochs": args.epochs, "batch_size": 64, "lr": 0.05, "weight_decay": 5e-4, "hidden": (256, 256)}
    rows = {
        "plain training (supervised, ERM)": lambda: etude.create(
            "procedure", "supervised", augmenter="none", nesterov=False, **common),
        "split networks (2 nets, halves)": lambda: etude.create("procedure", "split-networks", **common),
        "CrossSplit, warm-up epochs": lambda: etude.create("procedure", "crosssplit", warmup=args.epochs, **common),
        "CrossSplit, main epochs": lambda: etude.create("procedure", "crosssplit", warmup=0, **common),
    }
    base = None
    print(f"digits (1347 train, standardised), 40% symmetric noise, {args.epochs} epochs, median of {args.repeats}, 1 thread")
    print(f"{'procedure':36s} {'s/epoch':>9s} {'ratio':>7s}")
    for name, make in rows.items():
        per_epoch = _time(make, task, args.repeats) / args.epochs
        base = base or per_epoch
        print(f"{name:36s} {per_epoch:9.4f} {per_epoch / base:7.2f}x")


if __name__ == "__main__":
    main()
