"""Benchmark of etude-causal-mbrl's hot paths, each a ratio against a baseline measured in the same run.

(a) Pixel transitions per second (chemistry, N = 5, 50 x 50): the batched
    emitter (:func:`emit_chemistry` + :meth:`ChemistryTransitions.render`)
    against ``gymnasium.vector.SyncVectorEnv`` of 64 pixel environments
    stepped with random actions. Goal >= 50x.
(b) Modular and GNN transitions, forward and backward, N = 5 and 10, batch
    512, 128 dims per object, hidden 512: our grouped einsum / batched
    message passing against the reference's structure in plain PyTorch
    (a Python loop over N per-object MLPs, as CausalMBRL's
    ``modular_transition``; an edge-list GNN with ``index_select`` and
    ``index_add`` over the N(N - 1) edges, as C-SWM's ``TransitionGNN``). The
    reference's ``cswm/models/modules.py`` does not import here (it needs
    torchvision and h5py), hence the plain-PyTorch versions. Goal >= 3x at N = 10.

    .venv/bin/python benchmarks/causal-mbrl/bench_causal_mbrl.py [--episodes 1000] [--repeat 5]

One thread (``torch.set_num_threads(1)``); timings on a loaded machine vary.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from torch import nn

from etude_causal_mbrl import ChemistryTransitions, ColorChanging, GroupedTransition, MLPTransition, TransitionGNN
from etude_causal_mbrl.tasks import emit_chemistry


def _best(fn, repeat):
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_emitter(episodes: int, length: int = 10, repeat: int = 3) -> dict:
    import gymnasium  # noqa: PLC0415

    task = ChemistryTransitions(graph="full5", train_episodes=1, test_episodes=1, cell_size=10)
    g = torch.Generator().manual_seed(0)
    pos = torch.tensor([[0, 0], [0, 4], [4, 0], [4, 4], [2, 2]]).expand(episodes, 5, 2)

    def ours():
        states, _ = emit_chemistry(task.scm, episodes, length, g)
        for t in range(1, length + 1):
            task.render(states[:, t], pos)

    t_ours = _best(ours, repeat) / (episodes * length)
    venv = gymnasium.vector.SyncVectorEnv([lambda: ColorChanging(graph="full5") for _ in range(64)])
    venv.reset(seed=0)
    venv.action_space.seed(0)
    steps = 20

    def peer():
        for _ in range(steps):
            venv.step(venv.action_space.sample())

    t_peer = _best(peer, repeat) / (64 * steps)
    return {"ours_transitions_per_s": 1 / t_ours, "sync_vector_env_transitions_per_s": 1 / t_peer,
            "ratio": t_peer / t_ours}


class LoopModular(nn.Module):
    """The reference's structure: a Python loop over N per-object transition MLPs."""

    def __init__(self, mlps):
        super().__init__()
        self.mlps = nn.ModuleList(mlps)

    def forward(self, state, action):
        return torch.stack([m(state, action) for m in self.mlps], 1)


class EdgeListGNN(nn.Module):
    """C-SWM's structure: an explicit edge list, gathered pairs, scatter-added messages (same weights as ours)."""

    def __init__(self, gnn: TransitionGNN):
        super().__init__()
        self.gnn = gnn

    def forward(self, z, action):
        b, n, d = z.shape
        idx = torch.arange(b * n).reshape(b, n)
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        row = torch.cat([idx[:, i] for i, _ in pairs])
        col = torch.cat([idx[:, j] for _, j in pairs])
        flat = z.reshape(b * n, d)
        edges = self.gnn.edge_mlp(torch.cat([flat.index_select(0, row), flat.index_select(0, col)], -1))
        agg = torch.zeros(b * n, edges.shape[-1], dtype=z.dtype).index_add_(0, col, edges)
        node = torch.cat([flat, action.reshape(b * n, -1), agg], -1)
        return self.gnn.node_mlp(node).reshape(b, n, d)


def bench_transitions(n: int, repeat: int, batch: int = 512, dim: int = 128, hidden: int = 512, a: int = 5) -> dict:
    torch.manual_seed(0)
    state = torch.randn(batch, n * dim, requires_grad=True)
    action = nn.functional.one_hot(torch.randint(n * a, (batch,)), n * a).float()
    mlps = [MLPTransition(n * dim, n * a, hidden // n, dim) for _ in range(n)]
    grouped = GroupedTransition(n, n * dim, n * a, hidden // n, dim).load_from_mlps(mlps)
    loop = LoopModular(mlps)
    assert torch.allclose(grouped(state, action), loop(state, action), atol=1e-4)

    def step(module, *inputs):
        def run():
            module.zero_grad(set_to_none=True)
            module(*inputs).square().mean().backward()
        return run

    out = {"modular_ours_s": _best(step(grouped, state, action), repeat),
           "modular_loop_s": _best(step(loop, state, action), repeat)}
    gnn = TransitionGNN(dim, a, hidden)
    z = torch.randn(batch, n, dim, requires_grad=True)
    act = action.reshape(batch, n, a)
    ref = EdgeListGNN(gnn)
    assert torch.allclose(gnn(z, act), ref(z, act), atol=1e-4)
    out["gnn_ours_s"] = _best(step(gnn, z, act), repeat)
    out["gnn_edge_list_s"] = _best(step(ref, z, act), repeat)
    out["modular_ratio"] = out["modular_loop_s"] / out["modular_ours_s"]
    out["gnn_ratio"] = out["gnn_edge_list_s"] / out["gnn_ours_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {"emitter": bench_emitter(args.episodes, repeat=3)}
    for n in (5, 10):
        results[f"transitions_n{n}"] = bench_transitions(n, args.repeat)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
