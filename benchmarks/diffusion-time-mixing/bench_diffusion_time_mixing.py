"""Benchmark: DRL training step, a mixer epoch and trajectory extraction, each against a baseline in the same run.

    python benchmarks/diffusion-time-mixing/bench_diffusion_time_mixing.py [--repeats 3] [--K 25]

All on one CPU thread, at the quick setting's sizes (inputs 64, MLPs width
256, latent 16, batch 128). Rows:

1. ``DRL`` training step (``DRL.losses`` + backward + Adam) against a plain
   PyTorch step written here with ``nn.Sequential`` MLPs of the same sizes
   and the same loss (the official ``sarthmit/traj_drl`` trains WRN/NCSN++
   models through score_sde's JAX-style pipeline on CUDA and has no MLP
   setting that runs on this CPU, so the baseline is plain PyTorch).
2. One epoch of ``model/time-attention`` (width 256, 4 heads, two shared
   applications) on 1 077 trajectories of 6 x 16, against the same mixer
   built from ``nn.TransformerEncoderLayer`` (post-norm, FFN 2x, ReLU).
3. Trajectory extraction at K = 25 (26 times) for 1 797 and for 64 inputs: ``DRL.estimate``
   (one batched encoder call) against a Python loop over t.

Time: CPU seconds (``time.process_time``, robust to a loaded machine), best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from etude_diffusion_time_mixing import DRL, TimeAttention, time_grid


def best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


class PlainDRL(nn.Module):
    """The same networks and loss written directly (Fourier time features inline)."""

    def __init__(self, d=64, latent=16, width=256, harmonics=16):
        super().__init__()
        self.register_buffer("w", torch.linspace(0.1, 100.0, harmonics))
        self.pe, self.ps = nn.Parameter(torch.randn(harmonics)), nn.Parameter(torch.randn(harmonics))
        self.enc = nn.Sequential(nn.Linear(d + 2 * harmonics, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, 2 * latent))
        self.score = nn.Sequential(nn.Linear(d + 2 * harmonics + latent, width), nn.SiLU(), nn.Linear(width, width),
                                   nn.SiLU(), nn.Linear(width, d))

    def loss(self, x0, t, eps, noise):
        a, b = t[:, None] * self.w + self.pe, t[:, None] * self.w + self.ps
        mean, log_var = self.enc(torch.cat([x0, a.sin(), a.cos()], -1)).chunk(2, -1)
        z = mean + (0.5 * log_var).exp() * noise
        sigma = 0.01 * 1000.0 ** t[:, None]
        out = self.score(torch.cat([x0 + sigma * eps, b.sin(), b.cos(), z], -1))
        dsm = (out + eps).square().sum(1)  # sigma * (out / sigma) + eps
        kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum(1)
        return dsm.mean() + kl.mean()


def bench_step(repeats: int) -> tuple[float, float]:
    torch.manual_seed(0)
    x0, t, eps, noise = torch.randn(128, 64), torch.rand(128), torch.randn(128, 64), torch.randn(128, 16)
    ours, plain = DRL(in_features=64), PlainDRL()
    opt_o, opt_p = torch.optim.Adam(ours.parameters(), 2e-4), torch.optim.Adam(plain.parameters(), 2e-4)

    def step(loss_fn, opt):
        def run():
            for _ in range(20):
                loss = loss_fn()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return run

    o = best(step(lambda: ours.losses(x0, t, eps, noise)["loss"], opt_o), repeats) / 20
    p = best(step(lambda: plain.loss(x0, t, eps, noise), opt_p), repeats) / 20
    return o, p


class TorchMixer(nn.Module):
    def __init__(self, T=6, latent=16, width=256, classes=20):
        super().__init__()
        from etude_diffusion_time_mixing import sinusoidal_encoding

        self.project = nn.Sequential(nn.Linear(latent, width), nn.Dropout(0.25))
        self.register_buffer("pe", sinusoidal_encoding(T, width))
        self.cls = nn.Parameter(torch.randn(1, 1, width) * 0.1)
        self.block = nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.25, batch_first=True)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = torch.cat([self.project(x) + self.pe, self.cls.expand(x.shape[0], 1, -1)], 1)
        for _ in range(2):
            h = self.block(h)
        return self.head(h[:, -1])


def bench_epoch(repeats: int) -> tuple[float, float]:
    torch.manual_seed(0)
    x, y = torch.randn(1077, 6, 16), torch.randint(0, 20, (1077,))
    ours, plain = TimeAttention(input_shape=(6, 16), out_features=20), TorchMixer()

    def epoch(model):
        opt = torch.optim.Adam(model.parameters(), 2e-3)

        def run():
            model.train()
            for i in range(0, 1077, 128):
                loss = nn.functional.cross_entropy(model(x[i:i + 128]), y[i:i + 128])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return run

    return best(epoch(ours), repeats), best(epoch(plain), repeats)


def bench_trajectory(repeats: int, K: int, n: int = 1797) -> tuple[float, float, float]:
    torch.manual_seed(0)
    drl, x, times = DRL(in_features=64), torch.randn(n, 64), time_grid(K)
    batched = best(lambda: drl.estimate(x, times), repeats)
    loop = best(lambda: torch.stack([drl.encode(x, float(t)) for t in times], 1), repeats)
    diff = float((drl.estimate(x, times) - torch.stack([drl.encode(x, float(t)) for t in times], 1)).abs().max())
    return batched, loop, diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--K", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    o, p = bench_step(args.repeats)
    print(f"DRL step (batch 128)        etude {1e3 * o:8.2f} ms   plain PyTorch {1e3 * p:8.2f} ms   ratio plain/etude {p / o:5.2f}")
    o, p = bench_epoch(args.repeats)
    print(f"mixer epoch (1077 x 6 x 16) etude {1e3 * o:8.1f} ms   nn.TransformerEncoderLayer {1e3 * p:8.1f} ms   "
          f"ratio {p / o:5.2f}")
    for n in (1797, 64):
        b, l, d = bench_trajectory(args.repeats, args.K, n)
        print(f"trajectory K={args.K} ({n} inputs) batched {1e3 * b:8.2f} ms   loop over t {1e3 * l:8.2f} ms   "
              f"speed-up {l / b:5.2f}x   max |diff| {d:.1e}")


if __name__ == "__main__":
    main()
