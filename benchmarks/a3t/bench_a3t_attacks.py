"""Adversarial examples per second (FGSM, PGD-10) against ART and torchattacks, and an A3T step vs an FGSM-AT step.

Run: python benchmarks/a3t/bench_a3t_attacks.py [--device cpu|cuda] [--batch 256] [--repeats 20]

Models: the quick MLP (64-256-256-10, digits-sized inputs) and a small CNN
(1x28x28 inputs, the core ``model/cnn``). Every attack is timed in the same
run on the same model and batch; the ratios are throughput(ours) /
throughput(peer). Peers are optional: ART (``adversarial-robustness-toolbox``,
this plugin's test extra) and torchattacks (install with ``--no-deps``, it
otherwise pulls torchvision); a missing one is reported as such. Goals
(issue 30): >= 2x ART, within 1.2x of torchattacks; an A3T training step
<= 1.3x an FGSM-AT step. Use one thread on a shared machine (the default).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from etude.data import CNN, MLP
from etude_a3t import A3T, FGSM, A3TClassifier, fgsm, pgd


def timed(fn, repeats: int, device: str) -> float:
    """Median seconds of one call over ``repeats`` calls (after 3 warm-up calls)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peers(model, shape, device):
    out = {}
    try:
        from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent  # noqa: PLC0415
        from art.estimators.classification import PyTorchClassifier  # noqa: PLC0415

        clf = PyTorchClassifier(model=model, loss=nn.CrossEntropyLoss(), input_shape=shape, nb_classes=10,
                                clip_values=(0.0, 1.0), device_type="gpu" if device == "cuda" else "cpu")
        out["art"] = {
            "fgsm": lambda x, y: FastGradientMethod(clf, norm=np.inf, eps=0.1, batch_size=x.shape[0]).generate(
                x.cpu().numpy(), y=y.cpu().numpy()),
            "pgd10": lambda x, y: ProjectedGradientDescent(clf, norm=np.inf, eps=0.1, eps_step=0.025, max_iter=10,
                                                           num_random_init=1, batch_size=x.shape[0],
                                                           verbose=False).generate(x.cpu().numpy(), y=y.cpu().numpy()),
        }
    except ImportError:
        out["art"] = None
    try:
        import torchattacks  # noqa: PLC0415

        ta_fgsm = torchattacks.FGSM(model, eps=0.1)
        ta_pgd = torchattacks.PGD(model, eps=0.1, alpha=0.025, steps=10, random_start=True)
        out["torchattacks"] = {"fgsm": lambda x, y: ta_fgsm(x, y), "pgd10": lambda x, y: ta_pgd(x, y)}
    except ImportError:
        out["torchattacks"] = None
    return out


def bench_attacks(name, model, x, y, repeats, device):
    model.eval()
    g = torch.Generator().manual_seed(0)
    ours = {"fgsm": lambda: fgsm(model, x, y, 0.1), "pgd10": lambda: pgd(model, x, y, 0.1, steps=10, generator=g)}
    rows = []
    others = peers(model, tuple(x.shape[1:]), device)
    for attack, fn in ours.items():
        t_ours = timed(fn, repeats, device)
        row = {"model": name, "attack": attack, "ours_per_s": x.shape[0] / t_ours}
        for peer, fns in others.items():
            if fns is None:
                row[peer] = "not installed"
                continue
            t_peer = timed(lambda f=fns[attack]: f(x, y), repeats, device)
            row[f"{peer}_per_s"] = x.shape[0] / t_peer
            row[f"speedup_vs_{peer}"] = t_peer / t_ours
        rows.append(row)
    return rows


def bench_training_step(x, y, repeats, device):
    torch.manual_seed(0)
    net = A3TClassifier(in_features=x[0].numel(), out_features=10).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(aug):
        def run():
            loss = aug.loss(net, x, y, num_classes=10)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return run

    t_at, t_a3t = timed(step(FGSM(eps=0.1)), repeats, device), timed(step(A3T(eps=0.1, lam=0.3)), repeats, device)
    return {"fgsm_at_step_s": t_at, "a3t_step_s": t_a3t, "a3t_over_at": t_a3t / t_at}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(dev)
    torch.manual_seed(0)
    mlp = MLP(64, 10, hidden=(256, 256)).to(dev)
    cnn = CNN(input_shape=(1, 28, 28), out_features=10, channels=(16, 32), strides=(2, 2)).to(dev)
    rows = bench_attacks("mlp 64-256-256-10", mlp, torch.rand(args.batch, 64, generator=g).to(dev), y,
                         args.repeats, dev)
    rows += bench_attacks("cnn 16-32 on 1x28x28", cnn, torch.rand(args.batch, 1, 28, 28, generator=g).to(dev), y,
                          max(3, args.repeats // 4), dev)
    for row in rows:
        print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    step = bench_training_step(torch.rand(64, 64, generator=g).to(dev), y[:64], args.repeats * 5, dev)
    print("training step (batch 64, quick MLP + D): " + "  ".join(f"{k}={v:.3g}" for k, v in step.items()))


if __name__ == "__main__":
    main()
