"""Benchmark: DRL training step, a mixer epoch and trajectory extraction, each against a baseline in the same run.

    python benchmarks/diffusion-time-mixing/bench_diffusion_time_mixing.py [--repeats 3] [--K 25] [--official DIR]

All on one CPU thread, at the quick setting's sizes (inputs 64, MLPs width
256, latent 16, batch 128). Rows:

1. ``DRL`` training step (``DRL.losses`` + backward + Adam) against a plain
   PyTorch step written here with ``nn.Sequential`` MLPs of the same sizes
   and the same loss. With ``--official DIR`` (a checkout of
   ``sarthmit/traj_drl``, never copied into etude) also against the official
   loss function ``DIR/diffusion_model/losses.py`` (``get_sde_loss_fn``,
   imported from the checkout) on the same networks behind the official
   model interface: the official score and encoder networks are NCSN++ and a
   WRN-28 that need CUDA, so the networks are ours in both and the row times
   the loss plumbing.
2. One epoch of ``model/time-attention`` (width 256, 4 heads, two shared
   applications) on 1 077 trajectories of 6 x 16, against the same mixer
   built from ``nn.TransformerEncoderLayer`` (post-norm, FFN 2x, ReLU) and,
   with ``--official``, against the official ``Transformer`` of
   ``DIR/downstream_classification/transformer_classification_hyp.py`` (its
   class definitions executed from the checkout; the script itself needs
   CUDA and SLURM).
3. Trajectory extraction at K = 25 (26 times) for 1 797, 256 and 64 inputs:
   ``DRL.estimate`` (the first layer factorised, ``W_x x`` once per example)
   against a Python loop over t (one encoder call per time, as the official
   ``diffusion_model/representations.py`` lines 373-376) and against one
   unfactorised batched call on the N x 26 expanded pairs. The last column is
   the bound that the FLOPs set: a loop and a batched call do the same
   per-pair work except the first layer's x-part, so the speed-up at large N
   cannot exceed (FLOPs per pair of the loop) / (FLOPs per pair factorised).

Time: CPU seconds of this thread (``time.thread_time``, robust to a loaded machine), best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from etude_diffusion_time_mixing import DRL, TimeAttention, time_grid


def best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
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


class OfficialInterface(nn.Module):
    """etude's DRL networks behind the official score-model interface (dict with output, latent, z_mean, z_logvar)."""

    def __init__(self, drl: DRL) -> None:
        super().__init__()
        self.drl = drl

    def forward(self, x, labels, x0=None, t=None):
        mean, log_var = self.drl.encoder(x0.reshape(x0.shape[0], -1), t)
        z = mean + torch.randn_like(log_var) * (0.5 * log_var).exp()
        out = self.drl.score(x.reshape(x.shape[0], -1), t, z).reshape(x.shape)
        return {"output": out, "latent": z, "reconstr": None, "z_mean": mean, "z_logvar": log_var}


def official_loss(root: Path, drl: DRL):
    """The official ``get_sde_loss_fn`` (imported from the checkout at ``root``) bound to ``drl``'s networks."""
    sys.path.insert(0, str(root / "diffusion_model"))
    import losses  # noqa: PLC0415  (the official module, from the checkout)
    import sde_lib  # noqa: PLC0415

    config = SimpleNamespace(training=SimpleNamespace(apply_mixup=False, lambda_z=1.0, probabilistic_encoder=True,
                                                      lambda_reconstr=0.0),
                             model=SimpleNamespace(constrained_architecture=False))
    fn = losses.get_sde_loss_fn(sde_lib.VESDE(0.01, 10.0, 1000), train=True, reduce_mean=False, continuous=True,
                                likelihood_weighting=False, eps=1e-5, config=config)
    model = OfficialInterface(drl)
    return lambda batch: fn(model, batch)


def official_mixer(root: Path) -> type:
    """The official ``Transformer`` mixer: its class definitions executed from the checkout's script."""
    path = root / "downstream_classification" / "transformer_classification_hyp.py"
    tree = ast.parse(path.read_text())
    keep = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    namespace = {"torch": torch, "nn": nn, "F": nn.functional, "np": __import__("numpy"), "math": math}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return namespace["Transformer"]


def bench_step(repeats: int, official: Path | None = None) -> tuple[float, float, float | None]:
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
    if official is None:
        return o, p, None
    twin = DRL(in_features=64)
    twin.load_state_dict(ours.state_dict())
    loss_fn, batch = official_loss(official, twin), x0.reshape(128, 1, 8, 8)
    f = best(step(lambda: loss_fn(batch), torch.optim.Adam(twin.parameters(), 2e-4)), repeats) / 20
    return o, p, f


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


def bench_epoch(repeats: int, official: Path | None = None) -> tuple[float, float, float | None]:
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

    out = [best(epoch(ours), repeats), best(epoch(plain), repeats), None]
    if official is not None:
        out[2] = best(epoch(official_mixer(official)(in_dim=16, num_classes=20, dim=256)), repeats)
    return tuple(out)


def bench_trajectory(repeats: int, K: int, n: int) -> tuple[float, float, float, float]:
    torch.manual_seed(0)
    drl, x, times = DRL(in_features=64), torch.randn(n, 64), time_grid(K)
    enc, k = drl.encoder.eval(), times.numel()

    @torch.no_grad()
    def unfactorised():  # one encoder call on the n x k expanded (example, time) pairs, chunked as estimate
        xs = x[:, None].expand(n, k, 64).reshape(n * k, -1)
        ts = times[None].expand(n, k).reshape(-1)
        return torch.cat([enc(xs[i:i + 1024], ts[i:i + 1024])[0] for i in range(0, n * k, 1024)]).reshape(n, k, -1)

    batched = best(lambda: drl.estimate(x, times), repeats)
    loop = best(lambda: torch.stack([drl.encode(x, float(t)) for t in times], 1), repeats)
    flat = best(unfactorised, repeats)
    diff = float((drl.estimate(x, times) - torch.stack([drl.encode(x, float(t)) for t in times], 1)).abs().max())
    return batched, loop, flat, diff


def flop_bound(d: int = 64, temb: int = 32, width: int = 256, latent: int = 16) -> float:
    """Multiply-adds per (example, time) pair of the loop over those of the factorised call (large-N limit)."""
    rest = width * width + width * 2 * latent
    return ((d + temb) * width + rest) / rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--K", type=int, default=25)
    parser.add_argument("--official", type=Path, default=None, help="a checkout of sarthmit/traj_drl (optional)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    o, p, f = bench_step(args.repeats, args.official)
    print(f"DRL step (batch 128)        etude {1e3 * o:8.2f} ms   plain PyTorch {1e3 * p:8.2f} ms   ratio plain/etude {p / o:5.2f}"
          + (f"   official losses.py {1e3 * f:8.2f} ms   ratio official/etude {f / o:5.2f}" if f else ""))
    o, p, f = bench_epoch(args.repeats, args.official)
    print(f"mixer epoch (1077 x 6 x 16) etude {1e3 * o:8.1f} ms   nn.TransformerEncoderLayer {1e3 * p:8.1f} ms   "
          f"ratio {p / o:5.2f}" + (f"   official Transformer {1e3 * f:8.1f} ms   ratio {f / o:5.2f}" if f else ""))
    for n in (1797, 256, 64):
        b, l, u, d = bench_trajectory(args.repeats, args.K, n)
        print(f"trajectory K={args.K} ({n:4d} inputs) estimate {1e3 * b:8.2f} ms   loop over t {1e3 * l:8.2f} ms "
              f"({l / b:5.2f}x)   unfactorised batch {1e3 * u:8.2f} ms ({u / b:5.2f}x)   FLOP bound "
              f"{flop_bound():4.2f}x   max |diff| {d:.1e}")


if __name__ == "__main__":
    main()
