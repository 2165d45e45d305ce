"""Side by side: the official ``ICML_SpectralBias.ipynb`` functions, run from its own checkout, at etude's quick setting.

    git clone https://github.com/nasimrahaman/SpectralBias /tmp/SpectralBias
    python benchmarks/spectral-bias/side_by_side_official.py --notebook /tmp/SpectralBias/ICML_SpectralBias.ipynb

Executes the notebook's definition cells (data, FFT, model, training loop,
spectra; nothing is copied into etude) with ``CUDA=False`` at claim 1's quick
setting: N = 200, k = 5..25, A = 1, width 128, DEPTH = 4, Adam 1e-3, 8 000
full-batch iterations recorded every 25, seeds 0-2 (numpy seeds the phases,
torch the weights), and applies etude's learning-time rule and Spearman to
its recorded predictions. Compare with ``etude reproduce spectral-bias
--claim spectral-bias/low-frequencies-first --scale quick``.
"""

from __future__ import annotations

import argparse
import json
import time
from argparse import Namespace

import numpy as np
import torch

_DEFINITIONS = ("def make_phased_waves", "def make_model", "def power_iteration", "def train_model", "def compute_spectra")


def load_official(path: str) -> dict:
    """The notebook's definitions, executed in a fresh namespace (IPython magics dropped)."""
    nb = json.load(open(path))
    ns: dict = {}
    exec("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport numpy as np\n"  # noqa: S102
         "from argparse import Namespace\nfrom functools import reduce\n", ns)
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and src.startswith(_DEFINITIONS):  # definition cells only
            exec("\n".join(line for line in src.splitlines() if not line.startswith("%")), ns)  # noqa: S102
    return ns


def main() -> None:
    from etude_spectral_bias import learning_times, spearman

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", required=True, help="path to ICML_SpectralBias.ipynb in a checkout")
    parser.add_argument("--iterations", type=int, default=8000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ns = load_official(args.notebook)
    for seed in (0, 1, 2):
        np.random.seed(seed)
        torch.manual_seed(seed)
        opt = Namespace(N=200, K=[5, 10, 15, 20, 25], A=[1] * 5, INP_DIM=1, OUT_DIM=1, WIDTH=128, DEPTH=4,
                        CUDA=False, NUM_ITER=args.iterations, REC_FRQ=25, LR=1e-3)
        opt.PHI = [np.random.rand() for _ in opt.K]
        t0 = time.time()
        x, y = ns["to_torch_dataset_1d"](opt, *ns["make_phased_waves"](opt))
        frames = ns["train_model"](opt, ns["make_model"](opt), x, y)
        frq, dynamics, iterations = ns["compute_spectra"](opt, frames)
        normalised = dynamics[:, [list(frq).index(k) for k in opt.K]] * 2 / np.array(opt.A)
        times = learning_times(iterations, torch.tensor(normalised), 0.5)
        print(f"\nseed {seed}: t_k {times}  Spearman(k, t_k) {spearman(opt.K, times):.3f}  "
              f"Spearman(k, mean magnitude) {spearman(opt.K, normalised.mean(0).tolist()):.3f}  ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
