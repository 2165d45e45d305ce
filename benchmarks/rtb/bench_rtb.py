"""Seconds per RTB iteration at the reference toy (2-D, prior policy 64 wide, T = 100, batch 500), as a ratio.

Ours: T sequential sampling calls under no_grad, then one batched forward_log_density for the posterior
(with gradients) and one for the prior (without). Baseline, measured in the same run: the reference
code's structure (rtb_diffusion's GFN + fwd_rtb, re-implemented here in plain PyTorch, not copied):
the posterior's log-densities are built *during* sampling with the graph kept through T calls, and the
prior rescores the trajectory in T further sequential network calls. Both losses are printed per
iteration on one seed so the curves can be compared.

    .venv/bin/python benchmarks/rtb/bench_rtb.py [--iters 20] [--batch 500] [--steps 100]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from etude_diffusion_samplers.path import DiffusionPath, DiffusionPolicy
from etude_diffusion_samplers.path.kernels import gaussian_log_prob
from etude_diffusion_samplers.targets import GMM
from etude_rtb.priors import PathPrior
from etude_rtb.rewards import GMMRatioReward
from etude_rtb.sampler import RelativeTrajectoryBalance
from etude_rtb.claims import POST9_MODES, POST9_WEIGHTS


def _sequential_iteration(post: DiffusionPath, prior: DiffusionPath, log_z, opt, reward, batch: int, expl: float, g):
    """The reference loop's structure: log p_phi accumulated step by step with the graph, prior rescored in T calls."""
    grid = post.make_grid()
    x = torch.zeros(batch, 2)
    states, log_post = [x], []
    emb_all, _ = post.policy.embed_times(grid[:-1])
    for k in range(grid.numel() - 1):
        drift, _ = post.policy(x, emb_all[k : k + 1])
        dt = grid[k + 1] - grid[k]
        mean = x + drift * dt
        var = post.sigma2 * dt
        x_new = (mean + torch.sqrt(var + expl**2) * torch.randn(batch, 2, generator=g)).detach()
        log_post.append(gaussian_log_prob(x_new, mean, torch.log(var)))
        states.append(x_new)
        x = x_new
    with torch.no_grad():
        log_prior = []
        pemb, _ = prior.policy.embed_times(grid[:-1])
        for k in range(grid.numel() - 1):
            drift, _ = prior.policy(states[k], pemb[k : k + 1])
            dt = grid[k + 1] - grid[k]
            log_prior.append(gaussian_log_prob(states[k + 1], states[k] + drift * dt, torch.log(prior.sigma2 * dt)))
        log_r = reward.log_prob(states[-1])
    loss = ((log_z + torch.stack(log_post, 1).sum(1) - torch.stack(log_prior, 1).sum(1) - log_r) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    policy = DiffusionPolicy(2, hidden_dim=64, s_emb_dim=64, t_emb_dim=64, harmonics=64)
    with torch.no_grad():  # a non-trivial "trained" prior for timing
        policy.joint[-1].weight.normal_(0, 0.1)
    prior = PathPrior(DiffusionPath(policy, sigma2=5.0, n_steps=args.steps))
    reward = GMMRatioReward(GMM(layout="custom", means=POST9_MODES, weights=POST9_WEIGHTS, std=0.3**0.5), GMM(layout="grid25"))

    ours = RelativeTrajectoryBalance(batch_size=args.batch, exploration=0.5, exploration_decay_steps=5000)
    ours.fit(reward, prior=prior, steps=0)
    g = torch.Generator().manual_seed(0)
    ours.fit(reward, steps=2, generator=g)  # warm-up
    t0 = time.perf_counter()
    ours.fit(reward, steps=args.iters, generator=g)
    t_ours = (time.perf_counter() - t0) / args.iters

    post = DiffusionPath(copy.deepcopy(prior.policy).requires_grad_(True), sigma2=5.0, n_steps=args.steps)
    log_z = torch.nn.Parameter(torch.zeros(()))
    opt = torch.optim.Adam([{"params": post.parameters(), "lr": 1e-3}, {"params": [log_z], "lr": 0.1}])
    g2 = torch.Generator().manual_seed(0)
    for _ in range(2):
        _sequential_iteration(post, prior, log_z, opt, reward, args.batch, 0.5, g2)
    t0 = time.perf_counter()
    base_losses = [_sequential_iteration(post, prior, log_z, opt, reward, args.batch, 0.5, g2) for _ in range(args.iters)]
    t_base = (time.perf_counter() - t0) / args.iters
    print(f"T={args.steps} batch={args.batch} iters={args.iters} (1 thread)")
    print(f"ours (batched scoring):        {t_ours * 1e3:8.1f} ms/iteration")
    print(f"sequential (reference layout): {t_base * 1e3:8.1f} ms/iteration")
    print(f"speed-up: {t_base / t_ours:.2f}x")
    print("loss curve ours:      ", [round(v, 2) for v in ours.history["loss"][2:]])
    print("loss curve sequential:", [round(v, 2) for v in base_losses])


if __name__ == "__main__":
    main()
