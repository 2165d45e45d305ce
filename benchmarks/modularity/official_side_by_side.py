"""Side-by-side: the official Mod_Arch models and data, trained at the quick setting, scored by etude's metrics.

    python benchmarks/modularity/official_side_by_side.py --official /path/to/Mod_Arch [--seeds 0 1 2]

Imports ``MLP/Regression/model.py`` and ``data.py`` from a ``sarthmit/Mod_Arch``
checkout at run time (nothing is copied into etude) and trains each model as
the official ``main.py`` does, on CPU: a fresh ``data_v2(256, R, data_seed)``
batch every step, L1 loss, Adam; here lr 1e-3 and 3 000 steps (the quick
setting of the claims; the official default is lr 1e-4, 100 000 steps), seed
= data seed. Then the OoD L1 on 20 000 ``ood=True`` samples and the usage
matrix on 20 000 samples (as the official ``prob.py``, uniform rule prior),
scored with :mod:`etude_modularity.metrics`. This rules out a bug in etude's
models when a claim does not hold.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import random
import sys

import numpy as np
import torch

from etude_modularity.metrics import specialisation_report


def _load(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(official: pathlib.Path, seed: int, kind: str, rules: int = 4, steps: int = 3000, lr: float = 1e-3) -> dict:
    folder = official / "MLP" / "Regression"
    sys.path.insert(0, str(folder))
    model_mod, data_mod = _load(folder / "model.py", "mod_arch_model"), _load(folder / "data.py", "mod_arch_data")
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    if kind == "monolithic":
        net = model_mod.Monolithic(rules, 32, 64)
    elif kind == "gt-modular":
        net = model_mod.GT_Modular(rules, 32, 64, rules)
    else:
        net = model_mod.Modular(rules, 32, 64, rules, op=kind == "modular-op", joint=kind == "modular")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.L1Loss()
    for _ in range(steps):
        x, y = data_mod.data_v2(256, rules, seed)
        out, _ = net(torch.Tensor(x))
        loss = loss_fn(out, torch.Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        x, y = data_mod.data_v2(20000, rules, seed, ood=True)
        ood = float(loss_fn(net(torch.Tensor(x))[0], torch.Tensor(y)))
        result = {"model": kind, "seed": seed, "ood_l1": ood}
        if kind != "monolithic":
            x, _ = data_mod.data_v2(20000, rules, seed)
            x = torch.Tensor(x)
            score = net(x)[1]
            report = specialisation_report(score, x[:, 2:].argmax(1), rules, generator=torch.Generator().manual_seed(seed))
            result.update({k: v for k, v in report.as_dict().items() if isinstance(v, float)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official", type=pathlib.Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["monolithic", "modular", "modular-op", "gt-modular"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    for seed in args.seeds:
        for kind in args.models:
            print(json.dumps(run(args.official, seed, kind)), flush=True)


if __name__ == "__main__":
    main()
