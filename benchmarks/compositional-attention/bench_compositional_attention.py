"""Benchmark: forward + backward time and memory of compositional vs multi-head attention.

Ratios against baselines measured in the same run (never a timed test):

- etude ``attention/compositional`` (fused SDPA search) vs etude
  ``attention/multihead`` (SDPA) at equal model width E and equal per-head
  dims (S = H searches/heads of dim E / H; R retrievals of the same dim);
- etude ``attention/compositional`` vs lucidrains'
  ``compositional-attention-pytorch`` (explicit einsum, no biases) at equal
  settings (same S, R, head dim; biases off in ours), when it is installed.
  It is installed only for this benchmark, never a dependency:
  ``pip install -c constraints.txt compositional-attention-pytorch``
  (pulls einops and einops-exts, no torch).

Memory: peak CUDA memory on GPU; on CPU the bytes of tensors saved for the
backward pass (``saved_tensors_hooks``), the part of the peak that depends
on the attention implementation.

Usage: ``python benchmarks/compositional-attention/bench_compositional_attention.py [--device cuda] [--quick]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import etude


def _saved_bytes(fn) -> int:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


def _measure(module, x, device, reps):
    def step():
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()

    for _ in range(2):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    times = []
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    if device == "cuda":
        mem = torch.cuda.max_memory_allocated() - base
    else:
        mem = _saved_bytes(lambda: module(x))
    module.zero_grad(set_to_none=True)
    return statistics.median(times), mem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="fewer lengths and repetitions")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lengths", type=int, nargs="+", default=None, help="sequence lengths T (default: per device)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = args.device
    if device == "cuda":
        E, S, R, B, lengths, reps, dtype = 512, 8, 2, 32, (64, 128, 256, 512, 1024, 2048), 20, torch.bfloat16
    else:
        E, S, R, B, lengths, reps, dtype = 128, 4, 2, 4, (64, 128, 256, 512, 1024), 5, torch.float32
    if args.lengths:
        lengths = tuple(args.lengths)
    if args.quick:
        lengths, reps = lengths[:3], 3
    head = E // S
    try:
        from compositional_attention_pytorch import CompositionalAttention as Lucidrains  # noqa: PLC0415
    except ImportError:
        Lucidrains = None
    torch.manual_seed(0)
    mods = {
        "multihead": etude.create("attention", "multihead", embed_dim=E, num_heads=S, bias=False),
        "compositional": etude.create(
            "attention", "compositional", embed_dim=E, searches=S, retrievals=R,
            search_dim=head, value_dim=head, retrieval_dim=head, bias=False,
        ),
    }
    if device == "cuda":  # the chunked-value variant (flash kernel, repeated query-key products)
        mods["comp-chunked"] = etude.create(
            "attention", "compositional", embed_dim=E, searches=S, retrievals=R,
            search_dim=head, value_dim=head, retrieval_dim=head, bias=False,
        )
        mods["comp-chunked"].chunk_values_on = ("cpu", "cuda")
    if Lucidrains is not None:
        mods["lucidrains"] = Lucidrains(dim=E, dim_head=head, num_searches=S, num_retrievals=R)
    mods = {k: m.to(device=device, dtype=dtype) for k, m in mods.items()}
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in mods.items()}
    print(f"device={device} dtype={dtype} E={E} S=H={S} R={R} head_dim={head} batch={B} threads={args.threads}")
    print("parameters:", params)
    if Lucidrains is None:
        print("compositional-attention-pytorch not installed: lucidrains column skipped")
    header = f"{'T':>5} | " + " | ".join(f"{k:>13} ms  {'mem MB':>8}" for k in mods)
    header += " | comp/mha time | comp/mha mem"
    if Lucidrains is not None:
        header += " | luci/comp time | luci/comp mem"
    print(header)
    for T in lengths:
        x = torch.randn(B, T, E, device=device, dtype=dtype, requires_grad=True)
        res = {k: _measure(m, x, device, reps) for k, m in mods.items()}
        row = f"{T:>5} | " + " | ".join(f"{res[k][0] * 1e3:>16.2f}  {res[k][1] / 2**20:>8.1f}" for k in mods)
        row += f" | {res['compositional'][0] / res['multihead'][0]:>13.2f} | {res['compositional'][1] / res['multihead'][1]:>12.2f}"
        if Lucidrains is not None:
            row += f" | {res['lucidrains'][0] / res['compositional'][0]:>14.2f} | {res['lucidrains'][1] / res['compositional'][1]:>13.2f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
