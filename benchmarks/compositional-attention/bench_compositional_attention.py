"""Benchmark: forward + backward time and memory of compositional vs multi-head attention.

Ratios against baselines measured in the same run (never a timed test):

- etude ``attention/compositional`` vs etude ``attention/multihead`` (SDPA) at
  equal model width E and equal per-head dims (S = H searches/heads of dim
  E / H; R retrievals of the same dim), beside the FLOP ratio of the two
  methods (the limit for an implementation as efficient per FLOP as the
  baseline's);
- etude ``attention/compositional`` vs lucidrains'
  ``compositional-attention-pytorch`` (explicit einsum, no biases) at equal
  settings (same S, R, head dim; biases off in ours), when it is installed.
  It is installed only for this benchmark, never a dependency:
  ``pip install -c constraints.txt compositional-attention-pytorch``
  (pulls einops and einops-exts, no torch).

Timing: each module's step (forward + backward of ``out.sum()``) is timed
with ``time.thread_time()`` (CPU time of this thread: robust to other
processes on a shared machine) and wall time; repetitions are interleaved
(one step of every module per round, the order rotating) and medians are
reported. On CUDA only wall time (with synchronisation) is meaningful.

Memory: peak CUDA memory on GPU; on CPU the bytes of tensors saved for the
backward pass (``saved_tensors_hooks``), the part of the peak that depends
on the attention implementation.

``--breakdown`` adds, per T, the time of each part of a step measured alone
(projections, the search, the retrieval competition: retrieval keys, logits,
the softmax over R and the weighted sum), as a fraction of the whole step.
``--compile`` adds ``torch.compile``d compositional and multi-head attention
(optional, not used by the plugin; compile time excluded).

Usage: ``python benchmarks/compositional-attention/bench_compositional_attention.py [--device cuda] [--quick] [--breakdown]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import etude
from etude_compositional_attention import retrieval_competition


def attention_macs(kind: str, T: int, E: int, S: int, R: int = 1, d: int | None = None) -> int:
    """Multiply-accumulates of one forward + backward per sequence (self-attention, T tokens, no biases).

    ``kind``: ``"multihead"`` (H = S heads of dim d) or ``"compositional"``
    (S searches, R retrievals, query/key, value and retrieval dims d). Counts
    every matmul: a linear layer's backward is twice its forward (input and
    weight gradients) and so is each T^2 product's (Q K^T: dQ, dK; A V: dA,
    dV); no recomputation. Softmaxes and other elementwise work are not
    counted (they are memory-bound and O(T^2) for both methods alike, plus
    the O(T S R) competition of compositional attention).
    """
    d = d or E // S
    if kind == "multihead":
        linear = 4 * E * E  # q, k, v, out
        quadratic = 2 * S * d * T  # Q K^T and A V per token
    elif kind == "compositional":
        linear = 2 * E * S * d + E * R * d + E * S * d + S * d * E  # q, k, v (R values), retrieval query, out
        linear += S * d * d + 2 * S * R * d  # q_s W^k once per search (<q, O W^k> = <O, q W^k>), logits, weighted sum
        quadratic = S * d * T + S * R * d * T  # Q K^T once per search, A_s V_r for every pairing
    else:
        raise ValueError(f"kind must be 'multihead' or 'compositional', got {kind!r}")
    return 3 * T * (linear + quadratic)


def _saved_bytes(fn) -> int:
    """Bytes of the distinct storages that autograd saves for backward while ``fn`` runs."""
    storages: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values())


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _interleaved(steps: dict, device: str, reps: int) -> dict[str, tuple[float, float]]:
    """Median (thread seconds, wall seconds) per step, rounds interleaved with a rotating order."""
    names = list(steps)
    for _ in range(2):
        for name in names:
            steps[name]()
    _sync(device)
    thread: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(reps):
        for name in names[rep % len(names):] + names[: rep % len(names)]:
            _sync(device)
            t0, w0 = time.thread_time(), time.perf_counter()
            steps[name]()
            _sync(device)
            thread[name].append(time.thread_time() - t0)
            wall[name].append(time.perf_counter() - w0)
    return {n: (statistics.median(thread[n]), statistics.median(wall[n])) for n in names}


def _step(module, x):
    def step():
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()

    return step


def _memory(module, x, device) -> int:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        _step(module, x)()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    return _saved_bytes(lambda: module(x))


def _parts(mha, ca, x) -> dict:
    """Each part of one step alone (forward + backward on leaf inputs), for the breakdown."""
    B, T, _ = x.shape
    S, R, dv = ca.searches, ca.retrievals, ca.d_v
    with torch.no_grad():
        q, k, v, ub, _ = ca._projections(x, x, x, fold=True)
        q, k, ub = ca._split(q, S, ca.d_k), ca._split(k, S, ca.d_k), ca._split(ub, S, ub.shape[-1] // S)
        pairs = ca._search(q, k, v, None, 0.0)
        hq, hk, hv = (mha._heads(p(x)) for p in (mha.q_proj, mha.k_proj, mha.v_proj))
    leaf = {name: t.detach().contiguous().requires_grad_() for name, t in
            {"q": q, "k": k, "v": v, "u": ub[..., :dv], "pairs": pairs.unflatten(-1, (R, dv)), "hq": hq, "hk": hk, "hv": hv,
             "ctx": torch.randn(B, T, S * dv, dtype=x.dtype, device=x.device)}.items()}

    def back(out):
        out.sum().backward()

    def comp_competition():
        back(retrieval_competition(leaf["pairs"], leaf["u"])[0])  # bias off: no beta

    return {
        "mha projections": lambda: back(mha.out_proj(mha.q_proj(x) + mha.k_proj(x) + mha.v_proj(x))),
        "mha search": lambda: back(F.scaled_dot_product_attention(leaf["hq"], leaf["hk"], leaf["hv"])),
        "comp projections": lambda: back(ca.out_proj(leaf["ctx"]) + sum(t.sum() for t in ca._projections(x, x, x, fold=True)[:4])),
        "comp search": lambda: back(ca._search(leaf["q"], leaf["k"], leaf["v"], None, 0.0)),
        "comp competition": comp_competition,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="fewer lengths and repetitions")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=None, help="timed rounds (default 15 on CPU, 20 on CUDA; 5 with --quick)")
    parser.add_argument("--lengths", type=int, nargs="+", default=None, help="sequence lengths T (default: per device)")
    parser.add_argument("--breakdown", action="store_true", help="also time each part of a step alone")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile(compositional) and torch.compile(multihead)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = args.device
    if device == "cuda":
        E, S, R, B, lengths, reps, dtype = 512, 8, 2, 32, (64, 128, 256, 512, 1024, 2048), 20, torch.bfloat16
    else:
        E, S, R, B, lengths, reps, dtype = 128, 4, 2, 4, (64, 128, 256, 512, 1024), 15, torch.float32
    if args.lengths:
        lengths = tuple(args.lengths)
    if args.quick:
        lengths, reps = lengths[:3], 5
    reps = args.reps or reps
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
    if device == "cuda":  # q, k zero-padded to the value's width: the flash kernel instead of the memory-efficient one
        mods["comp-padded"] = etude.create(
            "attention", "compositional", embed_dim=E, searches=S, retrievals=R,
            search_dim=head, value_dim=head, retrieval_dim=head, bias=False,
        )
        mods["comp-padded"].pad_values_on = ("cpu", "cuda")
    if Lucidrains is not None:
        mods["lucidrains"] = Lucidrains(dim=E, dim_head=head, num_searches=S, num_retrievals=R)
    mods = {k: m.to(device=device, dtype=dtype) for k, m in mods.items()}
    if args.compile:  # one graph per module and T (both modules share the kind's forward: raise the limit)
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 4 * len(lengths))
        mods["mha-compiled"] = torch.compile(mods["multihead"], dynamic=False)
        mods["comp-compiled"] = torch.compile(mods["compositional"], dynamic=False)
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in mods.items()}
    clock = "wall" if device == "cuda" else "thread"
    print(f"device={device} dtype={dtype} E={E} S=H={S} R={R} head_dim={head} batch={B} threads={args.threads} "
          f"(medians of {reps} interleaved rounds; ratios of {clock} time, and of wall time in the same run)")
    print("parameters:", params)
    if Lucidrains is None:
        print("compositional-attention-pytorch not installed: lucidrains columns skipped")
    cols = ["T", *(f"{k} ms" for k in mods), "comp/mha", "comp/mha wall", "FLOP limit", "comp/mha mem"]
    if Lucidrains is not None:
        cols += ["luci/comp", "luci/comp wall", "luci/comp mem"]
    if args.compile:
        cols += ["compiled comp/comp", "compiled comp/mha", "compiled comp/compiled mha"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    breakdown = []
    for T in lengths:
        x = torch.randn(B, T, E, device=device, dtype=dtype, requires_grad=True)
        res = _interleaved({k: _step(m, x) for k, m in mods.items()}, device, reps)
        sec = {k: (v[1] if device == "cuda" else v[0]) for k, v in res.items()}
        mem = {k: _memory(m, x, device) for k, m in mods.items() if not k.endswith("compiled")}
        for m in mods.values():
            m.zero_grad(set_to_none=True)
        limit = attention_macs("compositional", T, E, S, R, head) / attention_macs("multihead", T, E, S, d=head)
        row = [f"{T}", *(f"{sec[k] * 1e3:.2f}" for k in mods)]
        row += [f"{sec['compositional'] / sec['multihead']:.2f}", f"{res['compositional'][1] / res['multihead'][1]:.2f}",
                f"{limit:.2f}", f"{mem['compositional'] / mem['multihead']:.2f}"]
        if Lucidrains is not None:
            row += [f"{sec['lucidrains'] / sec['compositional']:.2f}", f"{res['lucidrains'][1] / res['compositional'][1]:.2f}",
                    f"{mem['lucidrains'] / mem['compositional']:.2f}"]
        if args.compile:
            row += [f"{sec['comp-compiled'] / sec['compositional']:.2f}", f"{sec['comp-compiled'] / sec['multihead']:.2f}",
                    f"{sec['comp-compiled'] / sec['mha-compiled']:.2f}"]
        print("| " + " | ".join(row) + " |", flush=True)
        if args.breakdown:
            parts = _interleaved(_parts(mods["multihead"], mods["compositional"], x), device, reps)
            psec = {k: (v[1] if device == "cuda" else v[0]) for k, v in parts.items()}
            breakdown.append((T, sec, psec))
    if breakdown:
        print(f"\nbreakdown: each part alone (forward + backward), ms and % of the whole step ({clock} time)")
        names = list(breakdown[0][2])
        print("| T | " + " | ".join(names) + " |")
        print("|" + "---|" * (len(names) + 1))
        for T, sec, psec in breakdown:
            cells = [f"{psec[n] * 1e3:.2f} ({100 * psec[n] / sec['multihead' if n.startswith('mha') else 'compositional']:.0f}%)"
                     for n in names]
            print(f"| {T} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
