"""Epoch time of procedure/supervised (index-drawn minibatches) against a DataLoader loop, same model and data.

Run: python benchmarks/data/bench_supervised_loop.py [--device cpu|cuda] [--batch 64] [--epochs 3]

Both loops train the core MLP 40-256-256-10 on MNIST-1D (4000 examples)
with the same SGD settings; the baseline draws its minibatches with
``torch.utils.data.DataLoader(TensorDataset(x, y), shuffle=True)``, the
usual PyTorch idiom, which collates every batch from per-example tensors.
Prints seconds per epoch of each and their ratio, measured in the same run
(one torch thread on CPU). Callbacks with per-example losses are included
in the etude timing (a counting callback), so their cost is part of it.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from etude.data import MLP, MNIST1D, Callback, SupervisedTraining


class Count(Callback):
    def __init__(self):
        self.n = 0

    def on_batch_end(self, state, indices, losses):
        self.n += int(losses.numel())


def dataloader_epochs(task, epochs: int, batch: int, device: str) -> float:
    train = task.split("train")
    x, y = train.inputs.to(device), train.targets.to(device)
    torch.manual_seed(0)
    net = MLP(40, 10).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(net(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / epochs


def etude_epochs(task, epochs: int, batch: int, device: str) -> float:
    proc = SupervisedTraining(epochs=epochs, batch_size=batch, hidden=(256, 256), schedule="constant",
                              eval_every=epochs)
    start = time.perf_counter()
    proc.run(task, seed=0, device=device, callbacks=[Count()])
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(1)
    task = MNIST1D()
    task.splits()
    base, ours = [], []
    for _ in range(args.repeats):
        base.append(dataloader_epochs(task, args.epochs, args.batch, args.device))
        ours.append(etude_epochs(task, args.epochs, args.batch, args.device))
    b, o = statistics.median(base), statistics.median(ours)
    print(f"DataLoader loop            {b * 1e3:8.1f} ms / epoch")
    print(f"procedure/supervised       {o * 1e3:8.1f} ms / epoch (incl. one evaluation and a callback)")
    print(f"ratio DataLoader / etude   {b / o:8.2f}x")


if __name__ == "__main__":
    main()
