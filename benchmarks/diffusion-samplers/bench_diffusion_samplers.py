"""Benchmark: etude's diffusion sampler against the official GFNOrg/gfn-diffusion code, and against NUTS.

1. Training iterations per second and sampling throughput at the paper's 25GMM configuration
   (T = 100, batch 300, TB + exploration 0.2 + local search: MALA 200 steps, burn-in 100, at
   iteration 1 of every 100), ours vs the official code run from its own checkout (paper-era
   commit 7c350b4; pass --official PATH/TO/energy_sampling). The official code needs `einops`
   (installed only for this benchmark) and is imported, never copied.
2. Our TB + Expl. + LS against NUTS (pyro.infer.MCMC) given the same number of energy
   evaluations on the 9-mode GMM: W2 to exact samples and modes covered.

    python benchmarks/diffusion-samplers/bench_diffusion_samplers.py --official /tmp/gfn-diffusion-official/energy_sampling
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import torch

torch.set_num_threads(1)


def bench_ours(iters: int, n_sample: int) -> dict:
    from etude_diffusion_samplers import TBExplorationLocalSearch
    from etude_diffusion_samplers.targets import GMM

    torch.manual_seed(0)
    target = GMM(layout="grid25")
    s = TBExplorationLocalSearch(n_steps=100, batch_size=300, t_scale=5.0, exploration=0.2, ls_every=100, mala_step_size=0.001)
    s.fit(target, steps=2)  # warm-up (includes the first LS step)
    start = time.perf_counter()
    s.fit(target, steps=iters)
    train = (time.perf_counter() - start) / iters
    # separately time one LS iteration (the odd iteration with MALA)
    s.iteration = 101
    start = time.perf_counter()
    s.fit(target, steps=1)
    ls = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        s.sample(n_sample)
    sample = time.perf_counter() - start
    return {"sec_per_iter": train, "sec_ls_iter": ls, "samples_per_sec": n_sample / sample}


def bench_official(path: str, iters: int, n_sample: int) -> dict:
    sys.path.insert(0, path)
    from buffer import ReplayBuffer  # noqa: PLC0415
    from energies import TwentyFiveGaussianMixture  # noqa: PLC0415
    from gflownet_losses import bwd_tb, fwd_tb  # noqa: PLC0415
    from langevin import langevin_dynamics  # noqa: PLC0415
    from models import GFN  # noqa: PLC0415

    torch.manual_seed(0)
    device = torch.device("cpu")
    energy = TwentyFiveGaussianMixture(device=device)
    gfn = GFN(2, 64, 64, 64, 64, trajectory_length=100, clipping=True, lgv_clip=1e2, gfn_clip=1e4, langevin=False,
              learned_variance=False, partial_energy=False, log_var_range=4.0, pb_scale_range=0.1, t_scale=5.0,
              langevin_scaling_per_dimension=False, conditional_flow_model=False, learn_pb=False,
              pis_architectures=True, lgv_layers=3, joint_layers=2, zero_init=True, device=device)
    groups = [{"params": gfn.t_model.parameters()}, {"params": gfn.s_model.parameters()},
              {"params": gfn.joint_model.parameters()}, {"params": gfn.langevin_scaling_model.parameters()},
              {"params": [gfn.flow_model], "lr": 1e-1}]
    opt = torch.optim.Adam(groups, 1e-3)
    args = types.SimpleNamespace(max_iter_ls=200, burn_in=100, ld_schedule=True, ld_step=0.001, target_acceptance_rate=0.574)
    buf = ReplayBuffer(600000, device, energy.log_reward, 300, data_ndim=2, prioritized="rank")
    buf_ls = ReplayBuffer(600000, device, energy.log_reward, 300, data_ndim=2, prioritized="rank")

    def step(it):
        opt.zero_grad()
        expl = lambda _i: 0.2 * max(0.0, 1 - it / 5000)  # noqa: E731
        if it % 2 == 0:
            loss, states, _, _, log_r = fwd_tb(torch.zeros(300, 2), gfn, energy.log_reward, expl, return_exp=True)
            buf.add(states[:, -1], log_r)
        else:
            if it % 100 < 2:
                x, _ = buf.sample()
                ls_x, ls_r = langevin_dynamics(x, energy.log_reward, device, args)
                buf_ls.add(ls_x, ls_r)
            x, _ = buf_ls.sample()
            loss = bwd_tb(x, gfn, energy.log_reward, expl)
        loss.backward()
        opt.step()

    step(0)
    step(1)
    start = time.perf_counter()
    done = 0
    for it in range(2, 2 + iters):
        if it % 100 == 1:
            continue
        step(it)
        done += 1
    train = (time.perf_counter() - start) / done
    start = time.perf_counter()
    step(101)
    ls = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        gfn.sample(n_sample, energy.log_reward)
    sample = time.perf_counter() - start
    return {"sec_per_iter": train, "sec_ls_iter": ls, "samples_per_sec": n_sample / sample}


def bench_nuts(iters: int) -> dict:
    from etude_diffusion_samplers import NUTSSampler, TBExplorationLocalSearch
    from etude_diffusion_samplers.metrics import modes_covered, wasserstein2
    from etude_diffusion_samplers.targets import GMM

    torch.manual_seed(0)
    target = GMM(layout="grid9")
    ours = TBExplorationLocalSearch(n_steps=10, batch_size=256, exploration=1.0, exploration_decay_steps=iters // 2,
                                    ls_every=50, mala_steps=100, mala_burn_in=50, buffer_size=20000)
    start = time.perf_counter()
    ours.fit(target, steps=iters)
    t_ours = time.perf_counter() - start
    budget = target.energy_calls
    ref = target.sample((2000,), generator=torch.Generator().manual_seed(1))
    x_ours = ours.sample(2000, generator=torch.Generator().manual_seed(2))
    target.energy_calls = 0
    nuts = NUTSSampler(num_samples=500, warmup_steps=200, num_chains=1000, init_scale=4.0, energy_budget=budget)
    start = time.perf_counter()
    nuts.fit(target)
    t_nuts = time.perf_counter() - start
    x_nuts = nuts.sample(2000, generator=torch.Generator().manual_seed(2))
    return {
        "energy_budget": budget, "nuts_energy_calls": nuts.energy_calls,
        "w2_ours": wasserstein2(x_ours, ref), "w2_nuts": wasserstein2(x_nuts, ref),
        "modes_ours": modes_covered(x_ours, target.modes), "modes_nuts": modes_covered(x_nuts, target.modes),
        "seconds_ours": t_ours, "seconds_nuts": t_nuts,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", default=None, help="path to GFNOrg/gfn-diffusion's energy_sampling folder (commit 7c350b4)")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--nuts-iters", type=int, default=300)
    args = parser.parse_args()
    ours = bench_ours(args.iters, args.samples)
    print("ours     :", {k: round(v, 4) for k, v in ours.items()})
    if args.official:
        off = bench_official(args.official, args.iters, args.samples)
        print("official :", {k: round(v, 4) for k, v in off.items()})
        print(f"ratio official/ours time per training iteration: {off['sec_per_iter'] / ours['sec_per_iter']:.2f}x")
        print(f"ratio official/ours time per local-search iteration: {off['sec_ls_iter'] / ours['sec_ls_iter']:.2f}x")
        print(f"ratio ours/official sampling throughput: {ours['samples_per_sec'] / off['samples_per_sec']:.2f}x")
    else:
        print("official code not given (--official): skipped")
    nuts = bench_nuts(args.nuts_iters)
    print("vs NUTS at a matched energy budget:", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in nuts.items()})
    print(f"ratio W2 NUTS/ours: {nuts['w2_nuts'] / nuts['w2_ours']:.2f}x")


if __name__ == "__main__":
    main()
