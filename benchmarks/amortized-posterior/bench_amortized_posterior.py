"""Amortized posterior: ratios against baselines measured in the same run (not a test).

1. Pyro overhead: one reverse-KL training step through ``Trace_ELBO(...).differentiable_loss``
   against the same step written as a plain-torch ELBO (same encoder, head and batch).
2. Seconds per posterior on LR d = 3: one amortised forward pass over a batch of datasets
   against per-dataset NUTS (pyro.infer.MCMC) and mean-field VI (AutoNormal + SVI).
3. Against sbi 0.27's NPE (forward KL) with a ``PermutationInvariantEmbedding`` at a fixed
   n = 32, GM d = 2 and LR d = 3: training seconds per 10k simulated datasets, symmetric KL to
   the exact posterior at equal simulations (sbi's samples moment-matched to a Gaussian), and
   100 draws for each of 512 datasets (ours: one batched pass; sbi: ``sample_batched``).
   Skipped with a note when sbi is not installed (``pip install etude-amortized-posterior[benchmark]``).

    python benchmarks/amortized-posterior/bench_amortized_posterior.py [--sims 10000] [--epochs 20] [--skip-sbi]

Timings on a shared 2-core machine are noisy; torch uses one thread.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from etude_amortized_posterior.baselines import MeanFieldVI, NUTSPosterior
from etude_amortized_posterior.estimator import AmortizedPosterior
from etude_amortized_posterior.metrics import symmetric_kl
from etude_amortized_posterior.objectives import reverse_kl
from etude_amortized_posterior.tasks import BayesGaussianMean, BayesLinearRegression


def _timeit(fn, repeat):
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def plain_elbo_loss(guide, data, model):
    """The reverse-KL loss without Pyro: log q - log prior - masked sum log-likelihood, one particle."""
    q = guide.posterior(data["x"], data["y"], data["mask"])
    theta = q.rsample()
    loglik = model.log_likelihood(theta, data["x"], data["y"], data["mask"])
    logprior = (-0.5 * theta**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    return (q.log_prob(theta) - logprior - loglik).mean()


def pyro_overhead(repeat):
    task = BayesLinearRegression(dim=3, n_min=16, n_max=64)
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 64, "out_features": 64},
                             kl="monte-carlo", batch_size=64)
    data = task.simulate(64, torch.Generator().manual_seed(0))
    opt = est.optimizer

    def step(loss_fn):
        def run():
            loss = loss_fn()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return run

    t_pyro = _timeit(step(lambda: reverse_kl(est.guide, data, kl="monte-carlo")), repeat)
    t_plain = _timeit(step(lambda: plain_elbo_loss(est.guide, data, task.model)), repeat)
    print(f"[1] reverse-KL step, DeepSets-64, 64 datasets: Pyro Trace_ELBO {1e3 * t_pyro:.1f} ms, "
          f"plain torch {1e3 * t_plain:.1f} ms, overhead x{t_pyro / t_plain:.2f} (goal <= 1.5)")


def seconds_per_posterior(steps):
    task = BayesLinearRegression(dim=3, n_min=16, n_max=64, n_query=0)
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 64, "out_features": 64},
                             lr=1e-3, batch_size=64).fit(steps=steps)
    data = task.simulate(8, torch.Generator().manual_seed(1))
    args = (data["x"], data["y"], data["mask"])
    t_amortized = _timeit(lambda: est.estimate(*args), 20) / 8
    nuts = NUTSPosterior(model=task.model, warmup_steps=200, num_samples=200).fit(*args)
    vi = MeanFieldVI(model=task.model, steps=1000).fit(*args)
    print(f"[2] seconds per posterior (LR 3D, 8 datasets): amortised {t_amortized:.2e} s, NUTS {nuts.seconds / 8:.2e} s "
          f"(x{nuts.seconds / 8 / t_amortized:.0f}), mean-field VI {vi.seconds / 8:.2e} s (x{vi.seconds / 8 / t_amortized:.0f})")


def _ours_forward(task, pool, epochs, batch):
    est = AmortizedPosterior(task_instance=task, encoder="deepsets", encoder_options={"hidden": 64, "out_features": 64},
                             objective="forward-kl", lr=1e-3, batch_size=batch)
    steps = epochs * pool["x"].shape[0] // batch
    start = time.perf_counter()
    est.fit(pool["x"], pool["y"], pool["mask"], theta=pool["theta"], steps=steps)
    return est, time.perf_counter() - start


def _sbi_npe(task, pool, epochs, batch):
    from sbi.inference import NPE
    from sbi.neural_nets import posterior_nn
    from sbi.neural_nets.embedding_nets import FCEmbedding, PermutationInvariantEmbedding
    from torch.distributions import Independent, Normal

    model = task.model
    obs = model.encode(pool["x"], pool["y"])  # (D, n, F) at a fixed n
    p = model.num_params
    trial_net = FCEmbedding(input_dim=obs.shape[-1], output_dim=64, num_layers=3, num_hiddens=64)
    embedding = PermutationInvariantEmbedding(trial_net, trial_net_output_dim=64, output_dim=64)
    prior = Independent(Normal(torch.zeros(p), torch.ones(p)), 1)
    import tempfile

    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(tempfile.mkdtemp(prefix="sbi-logs-"))  # keep sbi's logs out of the working tree
    npe = NPE(prior=prior, density_estimator=posterior_nn(model="maf", embedding_net=embedding), summary_writer=writer)
    npe.append_simulations(pool["theta"], obs)
    start = time.perf_counter()
    npe.train(training_batch_size=batch, max_num_epochs=epochs, stop_after_epochs=epochs, show_train_summary=False)
    seconds = time.perf_counter() - start
    return npe.build_posterior(), seconds


def against_sbi(sims, epochs, batch):
    for name, task in (("GM 2D", BayesGaussianMean(dim=2, n_min=32, n_max=32, n_query=0)),
                       ("LR 3D", BayesLinearRegression(dim=3, n_min=32, n_max=32, n_query=0))):
        pool = task.simulate(sims, torch.Generator().manual_seed(0))
        test = task.simulate(512, torch.Generator().manual_seed(1))
        exact = task.model.exact_posterior(test["x"], test["y"], test["mask"])
        ours, t_ours = _ours_forward(task, pool, epochs, batch)
        q = ours.estimate(test["x"], test["y"], test["mask"])
        kl_ours = float(symmetric_kl(q, exact).mean())
        t_draw_ours = _timeit(lambda: ours.estimate(test["x"], test["y"], test["mask"]).sample((100,)), 3)
        line = (f"[3] {name}, n = 32, {sims} sims x {epochs} epochs: ours {t_ours / sims * 1e4:.1f} s / 10k sims, "
                f"symKL {kl_ours:.3f}, 100 x 512 draws {t_draw_ours:.3f} s")
        try:
            posterior, t_sbi = _sbi_npe(task, pool, epochs, batch)
        except ImportError as exc:
            print(line + f"; sbi not installed ({exc})")
            continue
        obs = task.model.encode(test["x"], test["y"])
        start = time.perf_counter()
        draws = posterior.sample_batched((100,), x=obs, show_progress_bars=False)  # (100, 512, P)
        t_draw_sbi = time.perf_counter() - start
        mean = draws.mean(0)
        centred = draws - mean
        cov = torch.einsum("sdi,sdj->dij", centred, centred) / (draws.shape[0] - 1) + 1e-6 * torch.eye(draws.shape[-1])
        kl_sbi = float(symmetric_kl(torch.distributions.MultivariateNormal(mean, cov), exact).mean())
        print(line + f"; sbi NPE {t_sbi / sims * 1e4:.1f} s / 10k sims (ours x{t_sbi / t_ours:.1f} faster), symKL "
              f"{kl_sbi:.3f} (moment-matched from 100 draws; ratio ours/sbi {kl_ours / kl_sbi:.2f}), draws "
              f"{t_draw_sbi:.3f} s (ours x{t_draw_sbi / t_draw_ours:.0f} faster)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=1000, help="training steps of the amortised model in [2]")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-sbi", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    pyro_overhead(args.repeat)
    seconds_per_posterior(args.steps)
    if not args.skip_sbi:
        against_sbi(args.sims, args.epochs, args.batch)


if __name__ == "__main__":
    main()
