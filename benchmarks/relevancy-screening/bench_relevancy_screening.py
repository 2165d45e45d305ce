"""Benchmark: forward + backward of RelRNN (vectorised relevancy screening) against its baselines, same run.

Ratios against baselines measured in the same process (never a timed test):

- RelRNN (``memory="relevancy"``, ν = 10, ρ = 15) vs MemRNN (``memory="full"``)
  at equal weights: wall time and bytes saved for backward
  (``saved_tensors_hooks``, each storage once) for one forward + backward;
- RelRNN vs the same network whose screening keeps a Python list per example
  (the reference code's data structure, written here from the paper's
  description: per-example loops for building the slots and for screening),
  at a larger batch.

The official ``RelMemRNN`` hard-codes ``.cuda()``, so on CPU these are the
baselines; on a GPU, run the official code from a ``bhargav104/MemoryNets``
checkout beside this script at the same setting.

Usage: ``python benchmarks/relevancy-screening/bench_relevancy_screening.py [--T 1000] [--batch 10]
[--list-batch 64] [--hidden 128] [--device cpu|cuda]``
"""

from __future__ import annotations

import argparse
import time

import torch

from etude_relevancy_screening import SelfAttentiveRNN
from etude_relevancy_screening.training import saved_tensor_bytes


class ListRelevancyMemory:
    """Relevancy screening with per-example Python lists (the baseline data structure, not for use)."""

    def __init__(self, batch, dim, buffer_size, relevant_size, *, device=None, dtype=None):
        self.batch, self.dim, self.nu, self.rho = batch, dim, buffer_size, relevant_size
        self.buffer: list = []  # states (B, d), oldest first
        self.buffer_scores: list = []  # per buffered state: list of B floats
        self.relevant = [[] for _ in range(batch)]  # per example: [state (d,), score]
        self.device, self.dtype = device, dtype
        self.num_slots = buffer_size + relevant_size

    def slots(self):
        zero = torch.zeros(self.dim, device=self.device, dtype=self.dtype)
        keys, masks = [], []
        for b in range(self.batch):
            pad = self.nu - len(self.buffer)
            rows = [zero] * pad + [h[b] for h in self.buffer]
            rows += [item[0] for item in self.relevant[b]] + [zero] * (self.rho - len(self.relevant[b]))
            keys.append(torch.stack(rows))
            masks.append([False] * pad + [True] * len(self.buffer) + [True] * len(self.relevant[b])
                         + [False] * (self.rho - len(self.relevant[b])))
        return torch.stack(keys), torch.tensor(masks, device=self.device)

    def update(self, h, weights):
        w = weights.detach().cpu().tolist()
        pad = self.nu - len(self.buffer)
        for j in range(len(self.buffer)):
            for b in range(self.batch):
                self.buffer_scores[j][b] += w[b][pad + j]
        if len(self.buffer) == self.nu:
            leaving, scores = self.buffer.pop(0), self.buffer_scores.pop(0)
            for b in range(self.batch):
                kept = self.relevant[b]
                if len(kept) < self.rho:
                    kept.append([leaving[b], scores[b]])
                elif self.rho:
                    low = min(range(self.rho), key=lambda i: kept[i][1])
                    if scores[b] > kept[low][1]:
                        kept[low] = [leaving[b], scores[b]]
        self.buffer.append(h)
        self.buffer_scores.append([0.0] * self.batch)


class ListRelRNN(SelfAttentiveRNN):
    def new_memory(self, batch, *, device=None, dtype=None):
        c = self.config
        return ListRelevancyMemory(batch, c.hidden_size, c.buffer_size, c.relevant_size, device=device, dtype=dtype)


def measure(net, x, device):
    def loss():
        return net(x).square().mean()

    loss().backward()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    nbytes, value = saved_tensor_bytes(loss)
    value.backward()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--list-batch", type=int, default=64)
    parser.add_argument("--list-T", type=int, default=None, help="sequence length of the list comparison (default --T)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    common = {"input_size": 10, "num_classes": 10, "hidden_size": args.hidden}
    torch.manual_seed(0)
    rel = SelfAttentiveRNN(memory="relevancy", **common).to(args.device)
    mem = SelfAttentiveRNN(memory="full", **common).to(args.device)
    mem.load_state_dict(rel.state_dict())
    x = torch.randn(args.batch, args.T, 10, device=args.device)
    t_rel, b_rel = measure(rel, x, args.device)
    t_mem, b_mem = measure(mem, x, args.device)
    print(f"T={args.T} B={args.batch} nhid={args.hidden} ({args.device}, 1 thread)")
    print(f"  RelRNN  {t_rel:8.3f} s  {b_rel / 2**20:9.1f} MiB saved for backward")
    print(f"  MemRNN  {t_mem:8.3f} s  {b_mem / 2**20:9.1f} MiB")
    print(f"  MemRNN / RelRNN: time x{t_mem / t_rel:.1f}, saved memory x{b_mem / b_rel:.1f}")
    lt = args.list_T or args.T
    listed = ListRelRNN(memory="relevancy", **common).to(args.device)
    listed.load_state_dict(rel.state_dict())
    xl = torch.randn(args.list_batch, lt, 10, device=args.device)
    with torch.no_grad():
        torch.testing.assert_close(listed(xl[:, :50]), rel(xl[:, :50]), atol=1e-5, rtol=1e-5)  # same function
    t_vec, _ = measure(rel, xl, args.device)
    t_list, _ = measure(listed, xl, args.device)
    print(f"T={lt} B={args.list_batch}: vectorised {t_vec:.3f} s, per-example lists {t_list:.3f} s, "
          f"lists / vectorised x{t_list / t_vec:.1f}")


if __name__ == "__main__":
    main()
