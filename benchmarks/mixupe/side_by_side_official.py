"""Side by side: the official MixupE ``training_method``, run from its own checkout, at etude's quick setting.

    git clone https://github.com/oneHuster/MixupE /tmp/MixupE
    python benchmarks/mixupe/side_by_side_official.py --checkout /tmp/MixupE [--seeds 6]

Issue 34 asks whether ``mixupe/mixupe-beats-mixup`` fails at quick scale because
of our code. This script imports the official ``mixup.py`` (nothing is copied
into etude) and uses its ``training_method`` (``--train mixupe
--mixupe_version 3 --threshold 1.0``) as the loss inside etude's supervised
loop, at the claim's quick setting (MNIST-1D 4 000 / 1 000, MLP 40-256-256-10,
100 epochs, batch 256, lr 0.1, alpha 1, eta 0.1). Two shims only: the official
code allocates its one-hot matrix with ``torch.cuda.FloatTensor`` (replaced by
``torch.zeros`` on CPU), and its ``mixup_data`` draws lambda and the permutation
from numpy's and torch's global generators; it is replaced by one drawing them
from the loop's augmenter generator exactly as etude's Mixup does, so official
and etude runs see the same lambdas, permutations, initialisation and batch
order.

It prints (1) the per-batch agreement of the official loss and gradients with
etude's ``MixupE(sign="released")`` and ``sign="paper"``, and (2) test accuracy
per seed for mixup, the official MixupE v3, etude's ``sign="released"`` and
etude's default ``sign="paper"``, with paired 95% intervals against mixup.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys
import time
from argparse import Namespace

import torch


def load_official(checkout: str):
    """The official ``mixup.py`` as a module, with its CUDA-only one-hot allocation mapped to CPU."""
    path = pathlib.Path(checkout) / "mixup.py"
    if not path.exists():
        sys.exit(f"{path} not found: pass --checkout <a clone of github.com/oneHuster/MixupE>")
    torch.cuda.FloatTensor = lambda *size: torch.zeros(*size)  # the released v3 branch allocates y_onehot on CUDA
    spec = importlib.util.spec_from_file_location("mixupe_official", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OfficialMixupE:
    """The official ``training_method(args, ...)`` behind the loss interface of etude's augmenters."""

    def __init__(self, official, *, alpha: float, eta: float, version: int, threshold: float, num_classes: int):
        from etude_mixupe import Mixup

        self.official = official
        self.sampler = Mixup(alpha=alpha)
        self.args = Namespace(train="mixupe", mixup_alpha=alpha, use_cuda=False, x_mean=None,
                              lamba_mod_mean=official.beta_mean(alpha + 1, alpha), num_classes=num_classes,
                              mixupe_version=version, threshold=threshold, mixup_eta=eta)

    def loss(self, model, inputs, targets, *, num_classes, generator=None, **context):
        lam, perm = self.sampler.draw(inputs.shape[0], generator)  # the same draws as etude's MixupE
        lam_f = float(lam)

        def mixup_data(x, y, alpha=1.0, use_cuda=True):
            return lam_f * x + (1 - lam_f) * x[perm, :], y, y[perm], lam_f

        self.official.mixup_data = mixup_data
        _, loss = self.official.training_method(self.args, inputs, targets, model, torch.nn.CrossEntropyLoss())
        return loss


def batch_agreement(official) -> dict[str, float]:
    """Loss and gradient of the official v3 vs etude's MixupE on one batch, same lambda and permutation."""
    from etude.data import MLP
    from etude_mixupe import MixupE

    torch.manual_seed(0)
    model = MLP(in_features=40, out_features=10, hidden=(256, 256))
    x, y = torch.randn(256, 40), torch.randint(0, 10, (256,))
    out = {}
    ref = OfficialMixupE(official, alpha=1.0, eta=0.1, version=3, threshold=1.0, num_classes=10)
    model.zero_grad()
    loss_o = ref.loss(model, x, y, num_classes=10, generator=torch.Generator().manual_seed(1))
    loss_o.backward()
    grad_o = torch.cat([p.grad.flatten() for p in model.parameters()])
    for sign in ("released", "paper"):
        model.zero_grad()
        ours = MixupE(alpha=1.0, eta=0.1, version=3, threshold=1.0, sign=sign)
        loss = ours.loss(model, x, y, num_classes=10, generator=torch.Generator().manual_seed(1))
        loss.backward()
        grad = torch.cat([p.grad.flatten() for p in model.parameters()])
        out[f"{sign}_loss_abs_diff"] = float((loss - loss_o).detach().abs())
        out[f"{sign}_grad_rel_diff"] = float((grad - grad_o).norm() / grad_o.norm())
    return out


def train(seed: int, method: str, official) -> float:
    import etude
    from etude_mixupe.claims import MIXUP, MIXUPE

    proc = {"epochs": 100, "batch_size": 256, "lr": 0.1}  # etude_mixupe.claims._settings at quick
    task = etude.create("task", "mnist1d")
    if method == "official":
        procedure = etude.create("procedure", "supervised", augmenter="mixup", augmenter_options=MIXUP, **proc)
        adapter = OfficialMixupE(official, alpha=1.0, eta=MIXUPE["eta"], version=3, threshold=MIXUPE["threshold"],
                                 num_classes=10)
        procedure.make_augmenter = lambda: adapter
    elif method == "mixup":
        procedure = etude.create("procedure", "supervised", augmenter="mixup", augmenter_options=MIXUP, **proc)
    else:
        options = {**MIXUPE, "sign": method.removeprefix("etude-")}
        procedure = etude.create("procedure", "supervised", augmenter="mixupe", augmenter_options=options, **proc)
    return float(procedure.run(task, seed=seed).metrics["test_accuracy"])


def main() -> None:
    from etude.claims import paired_comparison

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", required=True, help="a clone of github.com/oneHuster/MixupE")
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 (the quick claim uses 6)")
    parser.add_argument("--first-seed", type=int, default=0, help="start at this seed (to add seeds to a run)")
    parser.add_argument("--methods", default="mixup,official,etude-released,etude-paper")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    official = load_official(args.checkout)
    result = {"batch_agreement": batch_agreement(official), "accuracy": {}}
    print("one batch, same lambda and permutation:", json.dumps(result["batch_agreement"]))
    for method in args.methods.split(","):
        accs = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            t0 = time.perf_counter()
            accs.append(train(seed, method, official))
            print(f"{method:16s} seed {seed}: test accuracy {accs[-1]:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        result["accuracy"][method] = accs
    acc = result["accuracy"]
    for method in acc:
        if method != "mixup" and "mixup" in acc:
            cmp = paired_comparison(acc[method], acc["mixup"])
            print(f"{method} - mixup: {100 * cmp.mean:+.2f} points, 95% CI [{100 * cmp.ci_low:+.2f}, "
                  f"{100 * cmp.ci_high:+.2f}], better in {cmp.wins}/{cmp.n} seeds")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
