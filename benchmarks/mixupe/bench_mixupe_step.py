"""Time per training step: ERM vs mixup vs MixupE (v3 and v1) on the same model and batch.

Run: python benchmarks/mixupe/bench_mixupe_step.py [--device cpu|cuda] [--batch 64] [--repeats 300]

Prints seconds per step and ratios against ERM measured in the same run. MixupE
v3 needs one extra forward/backward on the clean batch, so its cost should be
about mixup + ERM ("extra compute" budget); v1 adds a double-backward on top.
No extra packages are needed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from etude_mixupe.mixup import Mixup, MixupE
from etude.data import MLP


def step_fn(kind: str, model: nn.Module, opt: torch.optim.Optimizer, x, y, gen, x_mean):
    aug = {"mixup": Mixup(alpha=1.0), "mixupe-v3": MixupE(alpha=1.0, eta=0.1, version=3),
           "mixupe-v1": MixupE(alpha=1.0, eta=0.1, version=1)}.get(kind)

    def step():
        if aug is None:
            loss = nn.functional.cross_entropy(model(x), y)
        else:
            loss = aug.loss(model, x, y, num_classes=10, generator=gen, x_mean=x_mean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def time_steps(step, repeats: int, device: str) -> float:
    for _ in range(20):
        step()
    times = []
    for _ in range(5):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeats // 5):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / (repeats // 5))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 40, generator=g).to(args.device)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(args.device)
    x_mean = x.mean(0, keepdim=True)
    results = {}
    for kind in ("erm", "mixup", "mixupe-v3", "mixupe-v1"):
        torch.manual_seed(0)
        model = MLP(40, 10).to(args.device)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
        gen = torch.Generator().manual_seed(1)
        results[kind] = time_steps(step_fn(kind, model, opt, x, y, gen, x_mean), args.repeats, args.device)
    erm = results["erm"]
    print(f"MLP 40-256-256-10, batch {args.batch}, device {args.device}, threads {args.threads}")
    print(f"{'method':<12}{'ms/step':>10}{'x ERM':>8}")
    for kind, sec in results.items():
        print(f"{kind:<12}{1e3 * sec:>10.3f}{sec / erm:>8.2f}")
    budget = results["mixup"] + erm
    print(f"MixupE v3 / (mixup + ERM step) = {results['mixupe-v3'] / budget:.2f}  "
          "(<= ~1: the clean pass costs no more than one extra ERM step)")
    print(f"MixupE v1 / MixupE v3 = {results['mixupe-v1'] / results['mixupe-v3']:.2f}  (double backprop)")


if __name__ == "__main__":
    main()
