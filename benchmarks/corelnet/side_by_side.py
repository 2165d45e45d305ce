"""CoRelNet and its baselines side by side with the official code, at one small CPU configuration.

Runs the official ``cognitive_tests/main.py`` of giancarlok/relationaltasks
from its own checkout (a subprocess in ``cognitive_tests/``, one CPU thread,
numpy / torch / random seeded; ``torchvision`` is stubbed because it is only
used there to save debug images, and there is no CPU torchvision build here),
then trains ours on the same task, the same 100 character images (the
checkout's ``imgs/``, read with PIL), the same held-out count m, the same
number of steps, examples per step and learning rate, and reports the OOD
accuracy of both.

What is the same: task definitions (ours re-implemented from the equations),
images, m, Adam 5e-4, steps, examples per step, test size. What differs: the
reference draws a fresh batch every iteration, ours draws a fixed training
set of ``steps * batch / epochs`` examples and passes over it ``epochs``
times; the reference's conv encoder (4 x 4 kernels, two linear layers, ReLU
output) vs the core ``model/cnn`` (5 x 5 kernels, one linear layer); the
reference's default CoRelNet is the masked, reduced form, which ours runs as
``preset="repository"`` (and the paper formula, ``preset="paper"``, beside it).

Usage (writes the reference's own ``results/`` folder inside its checkout)::

    python benchmarks/corelnet/side_by_side.py --reference /path/to/relationaltasks \\
        --runs CoRelNet:RMTS:95 LSTM:RMTS:95 CoRelNet:RMTS3_hard:85 --seeds 0 1 --steps 1000
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

#: reference task -> (our task, variant, reference examples per get_sample call per unit of batch size, our test size)
TASKS = {"RMTS": ("rmts", "standard", 3), "RMTS3_hard": ("rmts", "rmts3-hard", 6),
         "dist3": ("distribution-of-3", "standard", 1), "identity_rules": ("identity-rules", "standard", 3),
         "dist10_hard7": ("distribution-of-3", "dist10-hard7", 1),
         "identity_rules4_flipped": ("identity-rules", "identity-rules4-flipped", 3)}
#: reference model -> (our model, our options)
MODELS = {"CoRelNet": ("corelnet", {"preset": "repository"}), "CoRelNet-paper": ("corelnet", {"preset": "paper"}),
          "LSTM": ("relational-lstm", {}), "ESBN": ("esbn", {}), "Transformer": ("relational-transformer", {})}
#: per-test-batch examples of the reference's test sampler for test_batch_size = 1
TEST_PER_UNIT = {"RMTS": 3, "RMTS3_hard": 2, "dist3": 1, "identity_rules": 3, "dist10_hard7": 1,
                 "identity_rules4_flipped": 7}

_STUB = """\
import sys, types, random
import numpy as np, torch
torch.set_num_threads(1)
tv = types.ModuleType("torchvision"); tvu = types.ModuleType("torchvision.utils")
def _no_images(*a, **k):
    raise RuntimeError("torchvision is stubbed: image saving is not available")
tvu.save_image = _no_images; tv.utils = tvu
sys.modules["torchvision"] = tv; sys.modules["torchvision.utils"] = tvu
seed = int(sys.argv[1])
random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)
sys.argv = ["main.py"] + sys.argv[2:]
sys.path.insert(0, ".")
import runpy
runpy.run_path("main.py", run_name="__main__")
"""


def run_reference(root: Path, model: str, task: str, m: int, seed: int, steps: int, unit_batch: int,
                  test_unit_batch: int) -> dict:
    """Train and test the reference's ``model`` on ``task``; its test accuracy (on held-out objects) and seconds."""
    cwd = root / "cognitive_tests"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_STUB)
        stub = f.name
    args = ["--model_name", model, "--task", task, "--m_holdout", str(m), "--iterations", str(steps),
            "--train_batch_size", str(unit_batch), "--test_batch_size", str(test_unit_batch), "--lr", "5e-4",
            "--no-cuda", "--run", f"seed{seed}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.time()
    proc = subprocess.run([sys.executable, stub, str(seed), *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.time() - t0
    os.unlink(stub)
    if proc.returncode != 0:
        raise RuntimeError(f"reference {model} {task} failed:\n{proc.stderr[-3000:]}")
    pattern = str(cwd / "results" / "test" / task / "n100" / f"m{m}" / f"{model}*" / f"runseed{seed}.txt")
    files = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not files:
        raise RuntimeError(f"no reference result at {pattern}")
    _, acc = Path(files[-1]).read_text().splitlines()[1].split()
    return {"ood_accuracy": float(acc) / 100.0, "wall_seconds": wall}


def reference_images(root: Path):
    """The checkout's 100 character images as (100, 32, 32) floats in [0, 1] (grayscale; the reference repeats to 3 channels)."""
    import numpy as np  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    imgs = [np.asarray(Image.open(root / "cognitive_tests" / "imgs" / f"{i}.png"), dtype=np.float32) / 255.0
            for i in range(100)]
    return torch.from_numpy(np.stack(imgs)).reshape(100, 32, 32)


def run_ours(root: Path, model: str, task: str, m: int, seed: int, steps: int, batch: int, num_test: int,
             epochs: int) -> dict:
    """Our model on our task with the reference's images, the same steps and examples per step."""
    import torch  # noqa: PLC0415

    import etude  # noqa: PLC0415
    from etude.data.supervised import accuracy  # noqa: PLC0415

    torch.set_num_threads(1)
    ours_task, variant, _ = TASKS[task]
    name, options = MODELS[model]
    t = etude.create("task", ours_task, seed=seed, object_bank="glyphs", holdout=m, variant=variant,
                     num_train=steps * batch // epochs, num_test=min(num_test, 1000), num_ood=num_test)
    bank = reference_images(root)
    t.bank = lambda: bank  # the reference's images instead of our rendered glyphs (same ids, same splits)
    model_options = {"z_dim": 128, "encoder": "cnn", **options,
                     "encoder_options": {"channels": [32, 32, 32], "strides": [2, 2, 2], "pool": "flatten"}}
    if name == "relational-transformer":
        model_options["layers"] = 1
    proc = etude.create("procedure", "supervised", model=name, model_options=model_options, optimizer="adam",
                        lr=5e-4, weight_decay=0.0, schedule="constant", epochs=epochs, batch_size=batch,
                        eval_every=epochs)
    t0 = time.time()
    result = proc.run(t, seed=seed, device="cpu")
    ood = t.split("ood")
    with torch.no_grad():
        acc = accuracy(result.models["model"], ood.inputs, ood.targets)
    return {"ood_accuracy": float(acc), "id_accuracy": float(result.metrics["test_accuracy"]),
            "wall_seconds": time.time() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", required=True, type=Path, help="checkout of giancarlok/relationaltasks")
    p.add_argument("--runs", nargs="+", default=["CoRelNet:RMTS:95"], help="MODEL:TASK:M (reference names)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=48, help="examples per step (the reference's batch x its task factor)")
    p.add_argument("--epochs", type=int, default=10, help="our passes over the fixed training set")
    p.add_argument("--skip-reference", action="store_true")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args()
    rows = []
    for spec in a.runs:
        model, task, m = spec.split(":")
        m = int(m)
        factor = TASKS[task][2]
        if a.batch % factor:
            raise SystemExit(f"--batch {a.batch} must be a multiple of {factor} for {task}")
        for seed in a.seeds:
            row = {"model": model, "task": task, "m": m, "seed": seed, "steps": a.steps, "batch": a.batch}
            if not a.skip_reference and model != "CoRelNet-paper":
                row["reference"] = run_reference(a.reference, model, task, m, seed, a.steps, a.batch // factor, 1)
            num_test = 1000 * TEST_PER_UNIT[task]
            row["ours"] = run_ours(a.reference, model, task, m, seed, a.steps, a.batch, num_test, a.epochs)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    print(textwrap.dedent("""
        model, task, m, seed: reference OOD accuracy | ours OOD accuracy"""))
    for r in rows:
        ref = r.get("reference", {}).get("ood_accuracy", float("nan"))
        print(f"{r['model']:>15} {r['task']:>24} m={r['m']:<3} seed {r['seed']}: {ref:.3f} | {r['ours']['ood_accuracy']:.3f}")


if __name__ == "__main__":
    main()
