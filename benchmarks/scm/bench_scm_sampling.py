"""Benchmark: sampling 20-node SCMs (categorical K=5 with <= 3 parents; linear-Gaussian), observational and under do().

Peers, measured in the same run on the same mechanisms:
- our SCM as a Pyro program under ``poutine.trace`` (always);
- pgmpy ``BayesianModelSampling.forward_sample`` (categorical; if pgmpy is installed);
- dowhy ``gcm.draw_samples`` / ``gcm.interventional_samples`` (linear-Gaussian; if dowhy is installed).

Ratios are peer time / our time (> 1: ours is faster); agreement is the largest
difference of per-node means (continuous, in units of the standard error) or of
category frequencies (categorical) between our samples and the peer's.

    .venv/bin/python benchmarks/scm/bench_scm_sampling.py [--n 1000000] [--peer-n 100000]

Peers slower than ~1 s per 1e5 samples are run at ``--peer-n`` samples and their
time scaled linearly to ``--n`` (reported as such).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from etude_scm import SCM, CategoricalTable, CausalGraph, create_linear_gaussian_scm, random_dag


def _timeit(fn, repeat=3):
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def categorical_scm(n_nodes=20, k=5, max_parents=3, seed=0) -> SCM:
    g = torch.Generator().manual_seed(seed)
    edges = []
    for i in range(1, n_nodes):
        m = int(torch.randint(0, min(i, max_parents) + 1, (), generator=g))
        parents = sorted(torch.randperm(i, generator=g)[:m].tolist())
        edges += [(f"X{j}", f"X{i}") for j in parents]
    graph = CausalGraph([f"X{i}" for i in range(n_nodes)], edges)
    mechs = {v: CategoricalTable(k, (k,) * len(graph.parents(v)), generator=g) for v in graph.nodes}
    return SCM(graph, mechs).double()


def _freq_gap(a: dict, b: dict, nodes, k) -> float:
    gap = 0.0
    for v in nodes:
        fa = np.bincount(np.asarray(a[v]), minlength=k) / len(a[v])
        fb = np.bincount(np.asarray(b[v]), minlength=k) / len(b[v])
        gap = max(gap, float(np.abs(fa - fb).max()))
    return gap


def _mean_gap_se(a: dict, b: dict, nodes) -> float:
    z = 0.0
    for v in nodes:
        x, y = np.asarray(a[v], dtype=float), np.asarray(b[v], dtype=float)
        se = math.sqrt(x.var() / len(x) + y.var() / len(y))
        z = max(z, abs(x.mean() - y.mean()) / se if se > 0 else 0.0)
    return z


def _pyro_trace(scm: SCM, n: int):
    import pyro.poutine as poutine  # noqa: PLC0415

    with torch.no_grad():
        tr = poutine.trace(scm.model).get_trace(n)
    return {v: tr.nodes[v]["value"] for v in scm.nodes}


def _pgmpy(scm: SCM, n: int, do=None):
    from pgmpy.factors.discrete import TabularCPD  # noqa: PLC0415
    from pgmpy.models import DiscreteBayesianNetwork  # noqa: PLC0415
    from pgmpy.sampling import BayesianModelSampling  # noqa: PLC0415

    g = scm.mechanism_graph
    bn = DiscreteBayesianNetwork(list(g.edges))
    bn.add_nodes_from(g.nodes)
    for v in g.nodes:
        m = scm.mechanisms[v]
        probs = m.probs.detach().double().numpy()
        pa = list(g.parents(v))
        k = m.num_categories
        table = probs.reshape(-1, k).T  # (K, prod parents), parents' last index fastest (pgmpy's order)
        table = table / table.sum(0, keepdims=True)
        bn.add_cpds(TabularCPD(v, k, table, evidence=pa or None, evidence_card=[5] * len(pa) or None))
    sampler = BayesianModelSampling(bn)

    def go():
        if do:
            mutilated = bn.do(list(do))
            for v, value in do.items():
                onehot = np.zeros((5, 1))
                onehot[value] = 1
                mutilated.add_cpds(TabularCPD(v, 5, onehot))
            return BayesianModelSampling(mutilated).forward_sample(size=n, show_progress=False)
        return sampler.forward_sample(size=n, show_progress=False)

    return go


def _dowhy(scm: SCM, n: int, do=None):
    import networkx as nx  # noqa: PLC0415
    from dowhy import gcm  # noqa: PLC0415
    from dowhy.gcm.causal_models import PARENTS_DURING_FIT  # noqa: PLC0415
    from dowhy.gcm.ml.regression import create_linear_regressor_with_given_parameters  # noqa: PLC0415
    from dowhy.graph import get_ordered_predecessors  # noqa: PLC0415
    from scipy import stats  # noqa: PLC0415

    g = scm.mechanism_graph
    dag = nx.DiGraph()
    dag.add_nodes_from(g.nodes)
    dag.add_edges_from(g.edges)
    causal = gcm.StructuralCausalModel(dag)
    for v in g.nodes:
        m = scm.mechanisms[v]
        scale, bias = float(m.scale.detach()), float(m.bias.detach())
        pa = list(g.parents(v))
        if not pa:
            causal.set_causal_mechanism(v, gcm.ScipyDistribution(stats.norm, loc=bias, scale=scale))
        else:
            weight = dict(zip(pa, m.weight.detach().double().tolist()))
            order = get_ordered_predecessors(causal.graph, v)  # dowhy sorts parents by name
            lin = create_linear_regressor_with_given_parameters(np.array([weight[p] for p in order]), bias)
            noise = gcm.ScipyDistribution(stats.norm, loc=0.0, scale=scale)
            causal.set_causal_mechanism(v, gcm.AdditiveNoiseModel(lin, noise_model=noise))
        causal.graph.nodes[v][PARENTS_DURING_FIT] = get_ordered_predecessors(causal.graph, v)  # given, not fitted

    def go():
        if do:
            interventions = {v: (lambda value: (lambda x: value))(val) for v, val in do.items()}
            return gcm.interventional_samples(causal, interventions, num_samples_to_draw=n)
        return gcm.draw_samples(causal, n)

    return go


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--peer-n", type=int, default=100_000)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    n, peer_n = args.n, args.peer_n
    rows = []

    cat = categorical_scm()
    lin = create_linear_gaussian_scm(random_dag(20, torch.Generator().manual_seed(0)), torch.Generator().manual_seed(1))
    lin = lin.double()
    # do() on a mid-graph node with descendants
    do_cat, do_lin = {"X10": 2}, {"X10": 1.5}
    for label, scm, do in (("categorical", cat, None), ("categorical do", cat, do_cat),
                           ("linear-gaussian", lin, None), ("linear-gaussian do", lin, do_lin)):
        target = scm.do(do) if do else scm
        t_ours, ours = _timeit(lambda: target.sample(n, torch.Generator().manual_seed(0)))
        row = {"case": label, "n": n, "ours_s": t_ours}
        t_pyro, pyro_s = _timeit(lambda: _pyro_trace(target, n), repeat=1)
        row["pyro_trace_s"], row["pyro_ratio"] = t_pyro, t_pyro / t_ours
        discrete = label.startswith("categorical")
        peer_name = "pgmpy" if discrete else "dowhy"
        try:
            go = (_pgmpy if discrete else _dowhy)(scm, peer_n, do)
            t_peer, peer = _timeit(go, repeat=1)
            peer = {v: peer[v].to_numpy() for v in scm.nodes}
            row[f"{peer_name}_s_scaled"] = t_peer * n / peer_n
            row[f"{peer_name}_ratio"] = t_peer * n / peer_n / t_ours
            ours_np = {v: ours[v].numpy() for v in scm.nodes}
            row[f"{peer_name}_agreement"] = (
                _freq_gap(ours_np, peer, scm.nodes, 5) if discrete else _mean_gap_se(ours_np, peer, scm.nodes)
            )
        except ImportError as e:
            row[f"{peer_name}"] = f"not installed ({e.name})"
        ours_np = {v: ours[v].numpy() for v in scm.nodes}
        pyro_np = {v: pyro_s[v].numpy() for v in scm.nodes}
        row["pyro_agreement"] = (
            _freq_gap(ours_np, pyro_np, scm.nodes, 5) if discrete else _mean_gap_se(ours_np, pyro_np, scm.nodes)
        )
        rows.append(row)
        if not args.json:
            print(json.dumps(row))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
