"""Episodes per second of the tabular meta-transfer loop: ours (closed form, batched over runs) vs the official code.

Baseline: notebook 03 of the official ``causal_meta`` code (bivariate-categorical/03_meta_learning) as a
script, imported from its own checkout (``--official PATH``; nothing of it is copied here): per run,
``StructuralModel(N)``, ``set_analytical_maximum_likelihood`` every episode, 2 inner SGD steps (lr 0.1) on
batches of 10 with the mixture scored per batch before the step, RMSprop (lr 1e-2) on ``w``. Without a
checkout, the baseline is a plain-PyTorch autograd re-implementation of that loop (same structure).

Ours runs the same episodes with ``regret="per-batch"`` and the exact reset (the notebook's choices), for
1 run and for ``--runs`` runs batched into one set of tensors. Data (Dirichlet(1) SCMs, transfers) are
sampled once, beforehand, and shared, so only the episode loop is timed; final gammas are compared.

    .venv/bin/python benchmarks/meta-transfer/bench_meta_transfer.py --official /tmp/causal-meta --episodes 300 --runs 20
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from etude_meta_transfer import TabularHypotheses, meta_train
from etude_meta_transfer.tasks import make_data_scm, sample_transfers

N = 10


def make_data(runs: int, episodes: int):
    scms, xs = [], []
    for r in range(runs):
        g = torch.Generator().manual_seed(r)
        scm = make_data_scm(N, "A", g)
        x, _, _ = sample_transfers(scm, "A", episodes, 20, g)
        scms.append(scm)
        xs.append(x.view(episodes, 2, 10, 2))
    return scms, torch.stack(xs)


def official_loop(scm, x, official):
    import numpy as np  # noqa: F401,PLC0415

    sys.path.insert(0, official)
    from causal_meta.bivariate.categorical import StructuralModel  # noqa: PLC0415

    pi_a = scm.mechanisms["A"].probs.detach().double().numpy()
    pi_b_a = scm.mechanisms["B"].probs.detach().double().numpy()
    model = StructuralModel(N)
    opt = torch.optim.SGD(model.modules_parameters(), lr=1e-1)
    meta = torch.optim.RMSprop([model.w], lr=1e-2)
    for e in range(x.shape[0]):
        model.set_analytical_maximum_likelihood(pi_a, pi_b_a)
        model.zero_grad()
        loss = torch.tensor(0.0, dtype=torch.float64)
        for t in range(x.shape[1]):
            batch = x[e, t]
            # the notebook's ``-mean(model(batch))`` with the module scores detached: torch >= 1.5 refuses the
            # notebook's backward through parameters the inner step changed in place (torch 1.0 allowed it);
            # the gradient in w is the same, the modules' part of it was discarded anyway
            with torch.no_grad():
                l_ab, l_ba = model.model_A_B(batch), model.model_B_A(batch)
            loss += -torch.mean(model.online_loglikelihood(l_ab, l_ba))
            opt.zero_grad()
            inner = -torch.mean(model.model_A_B(batch)) - torch.mean(model.model_B_A(batch))
            inner.backward()
            opt.step()
        meta.zero_grad()
        loss.backward()
        meta.step()
    return float(model.w)


def autograd_loop(scm, x):
    """Plain-PyTorch stand-in of the notebook loop (used when no official checkout is given)."""
    h = TabularHypotheses.exact([scm])
    params = [torch.nn.Parameter(t[0].clone()) for t in h.tensors()]
    ref = [p.detach().clone() for p in params]
    w = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    opt = torch.optim.SGD(params, lr=1e-1)
    meta = torch.optim.RMSprop([w], lr=1e-2)
    for e in range(x.shape[0]):
        with torch.no_grad():
            for p, r in zip(params, ref):
                p.copy_(r)
        loss = torch.zeros((), dtype=torch.float64)
        for t in range(x.shape[1]):
            A, B = x[e, t, :, 0], x[e, t, :, 1]
            a1, c1, a2, c2 = (p.log_softmax(-1) for p in params)
            ll1, ll2 = a1[A] + c1[A, B], a2[B] + c2[B, A]
            loss = loss - torch.logaddexp(torch.nn.functional.logsigmoid(w) + ll1.detach().sum(),
                                          torch.nn.functional.logsigmoid(-w) + ll2.detach().sum())
            opt.zero_grad()
            (-(ll1.mean() + ll2.mean())).backward()
            opt.step()
        meta.zero_grad()
        loss.backward()
        meta.step()
    return float(w)


def ours(scms, x):
    h = TabularHypotheses.exact(scms)
    return meta_train(h, x, regret="per-batch")["final_gamma"]


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", default=None, help="path of a causal-meta checkout (the official code)")
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=3, help="runs of the baseline timed (it is a loop)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    scms, x = make_data(args.runs, args.episodes)
    k = min(args.baseline_runs, args.runs)
    name = "official causal_meta" if args.official else "autograd loop (plain PyTorch)"
    base_gammas, base_t = [], 0.0
    for r in range(k):
        fn = (lambda s, xx: official_loop(s, xx, args.official)) if args.official else autograd_loop
        g, t = timed(fn, scms[r], x[r])
        base_gammas.append(g)
        base_t += t
    base_eps = k * args.episodes / base_t
    ours(scms[:1], x[:1])  # warm-up
    g1, t1 = timed(ours, scms[:1], x[:1])
    gR, tR = timed(ours, scms, x)
    one_eps, batch_eps = args.episodes / t1, args.runs * args.episodes / tR
    gap = max(abs(float(gR[r]) - base_gammas[r]) for r in range(k))
    print(f"baseline: {name}; {k} runs x {args.episodes} episodes; one thread")
    print(f"| loop | episodes/s | ratio vs baseline |\n|---|---|---|")
    print(f"| {name} | {base_eps:.0f} | 1.0x |")
    print(f"| ours, 1 run | {one_eps:.0f} | {one_eps / base_eps:.1f}x |")
    print(f"| ours, {args.runs} runs batched | {batch_eps:.0f} | {batch_eps / base_eps:.1f}x |")
    print(f"max |gamma_ours - gamma_baseline| over the {k} shared runs: {gap:.2e}")
    sig = torch.sigmoid(gR)
    print(f"sigma(gamma) over {args.runs} runs: median {float(sig.median()):.4f}, range {float(sig.min()):.4f} to {float(sig.max()):.4f}")


if __name__ == "__main__":
    main()
