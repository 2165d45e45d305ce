"""A one-seed pilot of the MHA (set) and RNN (sequence) families at a CPU budget (not a claim, no verdict).

Trains the four networks of each family with the claims' own trainer
(``etude_modularity.claims.train_rule_model``: the core's supervised loop,
L1, Adam, constant learning rate) and prints ID / OoD L1 and the
specialisation metrics of the routing. Usage::

    python benchmarks/modularity/families_pilot.py --steps 1000 --seeds 0 --out pilot.json
"""

from __future__ import annotations

import argparse
import json

import torch

from etude_modularity.claims import train_rule_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["mha", "rnn"])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--pool", type=int, default=50000, help="training sets / sequences (visited for several epochs)")
    parser.add_argument("--eval-size", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for family in args.families:
        for seed in args.seeds:
            for model in ("monolithic", "modular", "modular-op", "gt-modular"):
                r = train_rule_model(seed=seed, device="cpu", model=model, rules=4, encoder_dim=32, steps=args.steps,
                                     batch_size=args.batch_size, lr=args.lr, eval_size=args.eval_size,
                                     family=family, pool=args.pool)
                row = {"family": family, "seed": seed, "model": model, "params": r["num_parameters"],
                       "id_l1": r["id_l1"], "ood_l1": r["ood_l1"], "seconds": r["seconds"], **r.get("metrics", {})}
                rows.append(row)
                print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
