"""Training-step time of the ANRU recurrent model with ReLU, gamma and adaptive-gamma units.

One step = forward over T = 64 time steps, backward, clip, Adam update, on a
batch of permuted sequential digits. Every variant is timed in the same run,
interleaved round-robin (the order rotating) so that machine load affects all
alike, with ``time.thread_time()`` (CPU time of this thread, robust to other
processes) and wall time, and reported as a ratio to ReLU (goal from the
issue: adaptive gamma with the paper's 50-unit controller within 3x of ReLU).

The "FLOP ratio" column is the ratio of multiply-accumulates of the step's
matmuls (forward + backward), the limit for an implementation as efficient per
FLOP as the baseline's: the RNN does B N (N + in) per time step, the adaptive
controller adds B N H (H + 1 + 2) (its recurrent H x H matmul on every one of
the N neurons' states, its input and the two readouts), times 3 for the
backward. Elementwise work is not counted.

``--compile`` adds the adaptive neuron with its step replaced by
``torch.compile(reference_step)`` (plain autograd ops compiled by inductor,
forward and backward), against the plugin's hand-written fused step.
``--profile`` prints a torch.profiler table of one adaptive-gamma step.

    python benchmarks/adaptive-neurons/bench_step_time.py [--device cpu|cuda] [--threads 1] [--repeats 15] [--compile]

Needs only the plugin's dependencies.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import etude


def variants() -> list[tuple[str, str, dict]]:
    return [
        ("relu", "relu", {}),
        ("tanh", "tanh", {}),
        ("gamma (learned per neuron)", "gamma", {"n_init": 6.0, "s_init": 0.1}),
        ("adaptive gamma, controller 8", "adaptive-gamma", {"hidden_size": 8}),
        ("adaptive gamma, controller 16", "adaptive-gamma", {"hidden_size": 16}),
        ("adaptive gamma, controller 50 (paper)", "adaptive-gamma", {"hidden_size": 50}),
    ]


def step_macs(batch: int, steps: int, hidden: int, inputs: int = 1, classes: int = 10, controller: int = 0) -> int:
    """Multiply-accumulates of one training step's matmuls (forward + 2x for backward)."""
    per_step = batch * hidden * (hidden + inputs)
    if controller:
        per_step += batch * hidden * controller * (controller + 1 + 2)
    return 3 * (steps * per_step + batch * hidden * classes)


def _compiled_step(neuron):
    """Replace the adaptive neuron's fused step by torch.compile of its plain-autograd reference step."""
    from etude_adaptive_neurons.neurons import AdaptiveGammaState  # noqa: PLC0415

    ref = torch.compile(neuron.reference_step, dynamic=False)

    def activate(x, state):
        y, g, n, s = ref(x, state.g)
        return y, AdaptiveGammaState(g, n, s)

    neuron.activate = activate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds; each round times every variant once")
    parser.add_argument("--steps", type=int, default=1, help="training steps per timing")
    parser.add_argument("--compile", action="store_true", help="add a torch.compile'd adaptive-gamma step (50 units)")
    parser.add_argument("--profile", action="store_true", help="print a profile of the 50-unit adaptive-gamma step")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    task = etude.create("task", "sequential-digits", seed=0)
    train = task.split("train")
    x, y = train.inputs[: args.batch].to(device), train.targets[: args.batch].to(device)
    T = x.shape[1]
    clock = "wall" if device.type == "cuda" else "thread"

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    print(f"device={device} threads={args.threads} batch={args.batch} T={T} "
          f"(medians of {args.repeats} interleaved rounds; x ReLU in {clock} time, and in wall time in the same run)")
    for hidden in args.hidden:
        setups = []
        table = variants()
        if args.compile:
            table.append(("adaptive gamma 50, torch.compile", "adaptive-gamma", {"hidden_size": 50}))
        for label, neuron, options in table:
            torch.manual_seed(0)
            model = etude.create("model", "anru", hidden_size=hidden, neuron=neuron, neuron_options=options).to(device)
            if "torch.compile" in label:
                _compiled_step(model.neuron)
            setups.append((label, model, torch.optim.Adam(model.parameters(), lr=1e-3), options.get("hidden_size", 0)))

        def step(model, opt):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        thread: dict[str, list[float]] = {s[0]: [] for s in setups}
        wall: dict[str, list[float]] = {s[0]: [] for s in setups}
        for _, model, opt, _ in setups:  # warm-up (and compilation)
            step(model, opt)
            step(model, opt)
        sync()
        for rep in range(args.repeats):
            for label, model, opt, _ in setups[rep % len(setups):] + setups[: rep % len(setups)]:
                sync()
                t0, w0 = time.thread_time(), time.perf_counter()
                for _ in range(args.steps):
                    step(model, opt)
                sync()
                thread[label].append((time.thread_time() - t0) / args.steps)
                wall[label].append((time.perf_counter() - w0) / args.steps)
        sec = {k: statistics.median(thread[k] if device.type == "cpu" else wall[k]) for k in thread}
        wsec = {k: statistics.median(v) for k, v in wall.items()}
        base = step_macs(args.batch, T, hidden)
        print(f"\nhidden units N={hidden}")
        print("| variant | ms/step | x ReLU | x ReLU (wall) | FLOP ratio |")
        print("|---|---|---|---|---|")
        for label, _, _, H in setups:
            flops = step_macs(args.batch, T, hidden, controller=H) / base
            print(f"| {label} | {1e3 * sec[label]:.1f} | {sec[label] / sec['relu']:.2f} | "
                  f"{wsec[label] / wsec['relu']:.2f} | {flops:.1f} |", flush=True)
        if args.profile and hidden == args.hidden[-1]:
            label, model, opt, _ = next(s for s in setups if s[0].endswith("(paper)"))
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                step(model, opt)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
