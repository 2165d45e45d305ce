"""Side by side: the official gfn-diffusion ``energy_sampling`` code, run from its own checkout, at etude's quick setting.

    git clone https://github.com/GFNOrg/gfn-diffusion /tmp/gfn-diffusion
    pip install --target /tmp/pylib einops          # its one extra import, outside etude's environment
    PYTHONPATH=/tmp/pylib python benchmarks/diffusion-samplers/side_by_side_official.py \\
        --official /tmp/gfn-diffusion/energy_sampling [--seeds 3] [--factors 1.0,0.2]

Issue 34 asks whether ``diffusion-samplers/exploration-helps`` (TB + exploration
worse than TB at quick) and ``fl-subtb-matches-tb`` (FL-SubTB better than TB)
come from our code. This script builds the official ``GFN`` and trains it with
the official losses (``get_gfn_forward_loss``: ``tb``; ``subtb`` with
``--partial_energy --conditional_flow_model``, the README's FL-SubTB),
optimiser (``get_gfn_optimizer``: policy 1e-3, flow 1e-1 for TB / 1e-2 for
FL-SubTB) and estimator (``log_partition_function`` on 2 000 samples), imported
from the checkout (nothing is copied into etude), in a loop equal to its
``train.py`` on-policy branch, at etude's quick setting: the 9-mode GMM, T = 10,
t_scale 5, batch 256, 1 000 iterations, learned variance for the exploration
claim, fixed variance for the FL-SubTB claim, seeds 0..N-1 (``set_seed``). The
exploration schedule is etude's quick one (factor f decayed linearly to 0 over
the first 500 iterations): ``train.py`` hard-codes a 5 000-iteration decay, so
``--official-decay`` runs that instead. etude's ``TrajectoryBalance`` /
``FLSubTB`` run beside it with the same settings and seeds. Δlog Ẑ = |ELBO - log Z|
(log Z = 0), Δlog Ẑ_RW = |log Ẑ_RW - log Z|.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time

import torch

ITERS, T, BATCH, EVAL = 1000, 10, 256, 2000


PIS = False  # --pis: the official PIS architecture with a zero-initialised output (closer to etude's policy network)


def official_run(seed: int, *, mode: str, learned_variance: bool, factor: float, decay: int) -> dict[str, float]:
    from energies import NineGaussianMixture
    from evaluations import log_partition_function
    from models import GFN
    from utils import cal_subtb_coef_matrix, get_gfn_forward_loss, get_gfn_optimizer, set_seed

    set_seed(seed)
    cpu = torch.device("cpu")
    energy = NineGaussianMixture(device=cpu)
    fl = mode == "subtb"
    gfn = GFN(2, 64, 64, 64, 64, trajectory_length=T, clipping=False, lgv_clip=1e2, gfn_clip=1e4, langevin=False,
              learned_variance=learned_variance, partial_energy=fl, log_var_range=4.0, pb_scale_range=0.1,
              t_scale=5.0, langevin_scaling_per_dimension=False, conditional_flow_model=fl, learn_pb=False,
              pis_architectures=PIS, lgv_layers=3, joint_layers=2, zero_init=PIS, device=cpu)
    optimiser = get_gfn_optimizer(gfn, 1e-3, 1e-2 if fl else 1e-1, 1e-3, False, fl, False, 1e-7)
    coeff = cal_subtb_coef_matrix(2, T)
    gfn.train()
    for it in range(ITERS):
        std = factor * max(0.0, 1.0 - it / decay) if factor > 0 else 0.0
        expl = (lambda _step, s=std: s) if std > 0 else None
        gfn.zero_grad()
        loss = get_gfn_forward_loss(mode, torch.zeros(BATCH, 2), gfn, energy.log_reward, coeff, exploration_std=expl)
        loss.backward()
        optimiser.step()
    gfn.eval()
    _, log_z_rw, elbo, _ = log_partition_function(torch.zeros(EVAL, 2), gfn, energy.log_reward)
    return {"delta_log_z": abs(float(elbo)), "delta_log_z_rw": abs(float(log_z_rw))}


def etude_run(seed: int, *, mode: str, learned_variance: bool, factor: float, decay: int) -> dict[str, float]:
    from etude_diffusion_samplers.claims import _run
    from etude_diffusion_samplers.targets import GMM

    cls = "FLSubTB" if mode == "subtb" else "TrajectoryBalance"
    net = {"n_steps": T, "batch_size": BATCH, "learned_variance": learned_variance}
    if factor > 0:
        net.update(exploration=factor, exploration_decay_steps=decay)
    result, _ = _run(cls, GMM(layout="grid9"), seed, ITERS, "cpu", EVAL, **net)
    return {"delta_log_z": result["delta_log_z"], "delta_log_z_rw": result["delta_log_z_rw"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", required=True, help="path to energy_sampling/ in a gfn-diffusion checkout")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--factors", default="1.0,0.2", help="exploration factors to run (etude's quick uses 1.0)")
    parser.add_argument("--official-decay", action="store_true", help="decay exploration over 5 000 iterations, as train.py")
    parser.add_argument("--codes", default="official,etude")
    parser.add_argument("--only", default="", help="run only the settings whose name contains this text")
    parser.add_argument("--pis", action="store_true", help="official runs use --pis_architectures --zero_init")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    if not (pathlib.Path(args.official) / "models" / "gfn.py").exists():
        sys.exit(f"{args.official} is not gfn-diffusion's energy_sampling/ folder")
    sys.path.insert(0, args.official)
    torch.set_num_threads(1)
    decay = 5000 if args.official_decay else ITERS // 2
    settings = {"tb (learned var)": ("tb", True, 0.0)}
    settings.update({f"tb + expl {f} (learned var)": ("tb", True, float(f)) for f in args.factors.split(",")})
    settings.update({"tb (fixed var)": ("tb", False, 0.0), "fl-subtb (fixed var)": ("subtb", False, 0.0)})
    settings = {k: v for k, v in settings.items() if args.only in k}
    global PIS
    PIS = args.pis
    runners = {"official": official_run, "etude": etude_run}
    results: dict = {}
    for code in args.codes.split(","):
        for name, (mode, lv, factor) in settings.items():
            rows = []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                rows.append(runners[code](seed, mode=mode, learned_variance=lv, factor=factor, decay=decay))
                print(f"{code:8s} {name:28s} seed {seed}: Δlog Z {rows[-1]['delta_log_z']:.3f}  "
                      f"Δlog Z_RW {rows[-1]['delta_log_z_rw']:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
            results.setdefault(code, {})[name] = rows
    print("\nmedian over seeds: Δlog Ẑ (Δlog Ẑ_RW)")
    for code, table in results.items():
        for name, rows in table.items():
            print(f"{code:8s} {name:28s} {statistics.median(r['delta_log_z'] for r in rows):.3f} "
                  f"({statistics.median(r['delta_log_z_rw'] for r in rows):.3f})")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"decay": decay, "results": results}, indent=1))


if __name__ == "__main__":
    main()
