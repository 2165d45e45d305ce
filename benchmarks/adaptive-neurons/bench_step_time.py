"""Training-step time of the ANRU recurrent model with ReLU, gamma and adaptive-gamma units.

One step = forward over T = 64 time steps, backward, clip, Adam update, on a
batch of permuted sequential digits. Every variant is timed in the same run,
interleaved round-robin so that machine load affects all alike, and reported
as a ratio to ReLU (goal from the issue: adaptive gamma within 3x of ReLU).

    python benchmarks/adaptive-neurons/bench_step_time.py [--device cpu|cuda] [--threads 1] [--repeats 5]

Needs only the plugin's dependencies.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import etude


def variants(hidden: int) -> list[tuple[str, str, dict]]:
    return [
        ("relu", "relu", {}),
        ("tanh", "tanh", {}),
        ("gamma (learned per neuron)", "gamma", {"n_init": 6.0, "s_init": 0.1}),
        ("adaptive gamma, controller 8", "adaptive-gamma", {"hidden_size": 8}),
        ("adaptive gamma, controller 16", "adaptive-gamma", {"hidden_size": 16}),
        ("adaptive gamma, controller 50 (paper)", "adaptive-gamma", {"hidden_size": 50}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds; each round times every variant once")
    parser.add_argument("--steps", type=int, default=3, help="training steps per timing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    task = etude.create("task", "sequential-digits", seed=0)
    train = task.split("train")
    x, y = train.inputs[: args.batch].to(device), train.targets[: args.batch].to(device)

    print(f"device={device} threads={args.threads} batch={args.batch} T={x.shape[1]} (median of {args.repeats} rounds)")
    for hidden in args.hidden:
        setups = []
        for label, neuron, options in variants(hidden):
            torch.manual_seed(0)
            model = etude.create("model", "anru", hidden_size=hidden, neuron=neuron, neuron_options=options).to(device)
            setups.append((label, model, torch.optim.Adam(model.parameters(), lr=1e-3)))

        def step(model, opt):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        def sync():
            if device.type == "cuda":
                torch.cuda.synchronize()

        times: dict[str, list[float]] = {label: [] for label, _, _ in setups}
        for _, model, opt in setups:  # warm-up
            step(model, opt)
        sync()
        for _ in range(args.repeats):
            for label, model, opt in setups:
                start = time.perf_counter()
                for _ in range(args.steps):
                    step(model, opt)
                sync()
                times[label].append((time.perf_counter() - start) / args.steps)
        base = statistics.median(times["relu"])
        print(f"\nhidden units N={hidden}")
        print(f"  {'variant':40s} {'ms/step':>9s} {'x ReLU':>8s}")
        for label, _, _ in setups:
            t = statistics.median(times[label])
            print(f"  {label:40s} {1e3 * t:9.1f} {t / base:8.2f}")


if __name__ == "__main__":
    main()
