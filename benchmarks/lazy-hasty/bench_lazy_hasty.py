"""Benchmark: the alpha-scaled step against the plain step, and the vmapped c-score proxy against a loop.

    python benchmarks/lazy-hasty/bench_lazy_hasty.py [--repeats 5] [--steps 50]

1. One SGD step (forward, cross-entropy, backward, momentum step) of the
   quick setting's MLP 64-256-256-10 on a batch of 64 digits, wrapped in
   ``model/alpha-scaled`` (alpha = 1000: one extra forward of the frozen
   ``w0`` under ``no_grad``, loss scaled by 1 / alpha^2) against the plain
   MLP. Target (issue 28): <= 1.5x. Also timed: the previous wrapper, which
   ran ``f(w0)`` through ``torch.func.functional_call`` every step. The official ``ModelLinearKnob`` is not
   run: ``linearization_utils.py`` imports the old nngeometry API (gone in
   nngeometry 0.4, not installable here), so it cannot run from its checkout.
2. ``holdout_consistency`` (K = 20 logistic models on 10 % and 50 % subsets
   of the 1 347 digits train examples, 100 full-batch steps, batched over
   models with ``bmm``) against the
   same K models trained one after the other with ``torch.optim.SGD``.
   Target: >= 5x. Also timed: the previous batched step in the (K, m, C)
   layout (softmax over 10-wide rows, 40 % of its time).

Time: CPU seconds of this thread (``time.thread_time``, one thread), best of
``--repeats``; every ratio is between two measurements of the same run.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

import etude
from etude.data import Digits
from etude_lazy_hasty import AlphaScaled
from etude_lazy_hasty.difficulty import make_models, subset_indices, train_subsets


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.thread_time()
        fn()
        times.append(time.thread_time() - t)
    return min(times)


class _FunctionalCallF0(AlphaScaled):
    """The previous wrapper: f(w0) by ``torch.func.functional_call`` with the w0 buffers, every forward."""

    def initial_function(self, x):
        with torch.no_grad():
            return functional_call(self.net, self.reference_parameters(), (x,))


def step_benchmark(repeats: int, steps: int) -> dict[str, float]:
    train = Digits().split("train")
    x, y = train.inputs[:64], train.targets[:64]

    def make(kind: str):
        torch.manual_seed(0)
        net = etude.create("model", "mlp", in_features=64, out_features=10, hidden=[256, 256])
        model = {"plain": lambda: net, "alpha-scaled": lambda: AlphaScaled.wrap(net, 1000.0),
                 "functional_call": lambda: _FunctionalCallF0.wrap(net, 1000.0)}[kind]()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scale = getattr(model, "loss_scale", 1.0)

        def run():
            for _ in range(steps):
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                (loss * scale if scale != 1.0 else loss).backward()
                opt.step()

        return run

    runs = {kind: make(kind) for kind in ("plain", "alpha-scaled", "functional_call")}
    for run in runs.values():
        run()  # warm-up
    return {kind: best(run, repeats) / steps for kind, run in runs.items()}


def _previous_layout(x, y, subsets, nets, *, steps, lr):
    """The previous batched step: logits (K, m, C), softmax over the 10-wide last axis."""
    params, _ = stack_module_state(nets)
    w, b = params["weight"].detach().clone().double(), params["bias"].detach().clone().double()
    xs = x.reshape(x.shape[0], -1).double()[subsets]
    onehot = nn.functional.one_hot(y[subsets], w.shape[1]).double()
    for _ in range(steps):
        err = torch.softmax(torch.baddbmm(b.unsqueeze(1), xs, w.transpose(1, 2)), dim=-1) - onehot
        w = w - lr * torch.bmm(err.transpose(1, 2), xs) / xs.shape[1]
        b = b - lr * err.mean(1)
    return w, b


def consistency_benchmark(repeats: int, fraction: float) -> dict[str, float]:
    train = Digits().split("train")
    x, y = train.inputs, train.targets
    K, steps, lr = 20, 100, 0.5
    subsets = subset_indices(len(y), K, fraction, seed=0)

    def batched():
        train_subsets(x, y, subsets, make_models(64, 10, K, seed=0), steps=steps, lr=lr)

    def previous():
        _previous_layout(x, y, subsets, make_models(64, 10, K, seed=0), steps=steps, lr=lr)

    def loop():
        for k, net in enumerate(make_models(64, 10, K, seed=0)):
            opt = torch.optim.SGD(net.parameters(), lr=lr)
            xs, ys = x[subsets[k]].double(), y[subsets[k]]
            for _ in range(steps):
                opt.zero_grad()
                nn.functional.cross_entropy(net(xs), ys).backward()
                opt.step()

    return {"batched": best(batched, repeats), "previous": best(previous, repeats), "loop": best(loop, repeats)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    t = step_benchmark(args.repeats, args.steps)
    print(f"SGD step, MLP 64-256-256-10, batch 64: plain {t['plain'] * 1e3:.3f} ms, alpha-scaled "
          f"{t['alpha-scaled'] * 1e3:.3f} ms, ratio {t['alpha-scaled'] / t['plain']:.2f}x (target <= 1.5x); "
          f"previous (functional_call f(w0)) {t['functional_call'] * 1e3:.3f} ms, "
          f"{t['functional_call'] / t['plain']:.2f}x")
    for fraction in (0.1, 0.5):
        c = consistency_benchmark(max(1, args.repeats // 2), fraction)
        print(f"hold-out consistency, K = 20 on {fraction:.0%} subsets, 100 steps: batched {c['batched']:.3f} s, "
              f"loop {c['loop']:.3f} s, speed-up {c['loop'] / c['batched']:.1f}x (target >= 5x); previous (K, m, C) "
              f"layout {c['previous']:.3f} s, {c['loop'] / c['previous']:.1f}x")


if __name__ == "__main__":
    main()
