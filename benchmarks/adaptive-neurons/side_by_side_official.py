"""Side by side: the official NonlinMod ``ARUN`` (the ANRU), run from its own checkout, at etude's quick setting.

    git clone https://github.com/vgeadah/NonlinMod /tmp/NonlinMod
    python benchmarks/adaptive-neurons/side_by_side_official.py --checkout /tmp/NonlinMod [--seeds 2] [--lr 1e-3]

Issue 34 asks whether ``adaptive-neurons/gain-scaling`` and ``heterogeneity``
fail at quick scale because of our code. The official training script
(``sMNIST_task.py``) needs torchvision and MNIST, so this script imports only
``NetworkCreation.Networks.ARUN`` (nothing is copied into etude) and trains
it, with the official readout (``nn.Linear(nhid, 10)`` on the last hidden
state) and initialisation (``--rinit henaff --iinit kaiming``), on the claims'
quick data and budget: etude's permuted sequential digits (T = 64) of each
seed, 32 units, controller 16, 10 epochs of Adam (``--lr``; etude's quick uses
1e-3, the official default is 1e-4) with batch 64, gradient-norm clip 1.0 as
etude (the official script computes the norm with ``max_norm='inf'``, i.e.
does not clip). Two shims: the released class calls ``super(ANRU, self)``
while it is named ``ARUN`` (a NameError as released), so ``ANRU`` is bound to
``ARUN`` in its module first; and its Henaff initialisation's matrix
exponential (``exp_numpy.expm``) calls ``torch.solve``, removed from torch,
so ``torch.linalg.matrix_exp`` (the same function of the same skew-symmetric
matrix) replaces it.

The measurements are the claims' own: the mean change of n_t over the second
half when the second half's inputs are doubled (``StepGain``; 95% t interval
over test sequences; gain scaling = below 0), and the spread of each neuron's
time-averaged n_t on test data (IQR / median; "diverse" = IQR >= 10% of the
median, as for the learned gamma network of ``heterogeneity``).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class OfficialANRU(nn.Module):
    """``ARUN`` unrolled over a sequence with the official readout; records n_t, s_t per step."""

    def __init__(self, networks, hidden: int, controller: int):
        super().__init__()
        self.rnn = networks.ARUN(1, main_hidden_size=hidden, supervisor_hidden_size=controller, cuda=False,
                                 r_initializer="henaff", i_initializer="kaiming", adaptation_type="heterogeneous")
        self.lin = nn.Linear(hidden, 10)

    def forward(self, x, *, record: bool = False):
        x = x.reshape(x.shape[0], x.shape[1])  # (B, T): one scalar input per step, as the official Model feeds it
        self.rnn.init_states(x.shape[0])
        h, ns = None, []
        for t in range(x.shape[1]):
            h = self.rnn(x[:, t:t + 1], h)
            if record:
                ns.append(self.rnn.Wgn(self.rnn.gt).squeeze(-1))  # n_t of this step, as adaptation_mechanism computed it
        out = self.lin(h)
        return (out, torch.stack(ns, 1)) if record else out


def run(seed: int, networks, lr: float) -> dict:
    from etude.claims import mean_and_ci
    from etude_adaptive_neurons.claims import SETTINGS, _data
    from etude_adaptive_neurons.perturbations import StepGain

    s = SETTINGS["quick"]
    train, test = _data(seed, s)
    torch.manual_seed(seed)
    model = OfficialANRU(networks, s["hidden"], s["controller"])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    x, y = train.inputs, train.targets
    for _ in range(s["epochs"]):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), s["batch"]):
            idx = order[start:start + s["batch"]]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    model.eval()
    with torch.no_grad():
        logits, n_base = model(test.inputs, record=True)
        stepped = StepGain(step_size=1.0, start=0.5, length=0.5)(test.inputs, test.targets, num_classes=10).inputs
        _, n_step = model(stepped, record=True)
    half = test.inputs.shape[1] // 2
    delta = (n_step[:, half:] - n_base[:, half:]).mean(dim=(1, 2))
    mean, low, high = mean_and_ci(delta.tolist())
    per_neuron = n_base.mean(dim=(0, 1)).double()
    iqr = float(per_neuron.quantile(0.75) - per_neuron.quantile(0.25))
    return {"seed": seed, "test_accuracy": float((logits.argmax(-1) == test.targets).float().mean()),
            "delta_n": mean, "ci_low": low, "ci_high": high, "n_median": float(per_neuron.median()), "n_iqr": iqr,
            "diverse": iqr >= 0.1 * float(per_neuron.median())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", required=True, help="a clone of github.com/vgeadah/NonlinMod")
    parser.add_argument("--seeds", type=int, default=2, help="seeds 0..N-1 (the quick claims use 1 and 2)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if not (pathlib.Path(args.checkout) / "NetworkCreation" / "Networks.py").exists():
        sys.exit(f"{args.checkout} is not a NonlinMod checkout")
    sys.path.insert(0, args.checkout)
    torch.set_num_threads(1)
    import NetworkCreation.Networks as networks

    networks.ANRU = networks.ARUN  # the released class refers to itself by its other name
    networks.expm = torch.linalg.matrix_exp  # its own expm calls torch.solve, removed in torch 1.9+
    rows = []
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        rows.append(run(seed, networks, args.lr))
        r = rows[-1]
        print(f"seed {seed}: accuracy {r['test_accuracy']:.3f}; n_t change after the step {r['delta_n']:+.4f} "
              f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]; per-neuron n median {r['n_median']:.3f} IQR {r['n_iqr']:.3f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps({"lr": args.lr, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
