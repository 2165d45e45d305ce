"""Benchmark: etude-corelnet's RMTS generator and CoRelNet training step against the official code.

    git clone https://github.com/giancarlok/relationaltasks /tmp/relationaltasks   # any checkout
    python benchmarks/corelnet/bench_corelnet.py --reference /tmp/relationaltasks [--repeats 3]

(a) RMTS examples per second at m = 95 (5 training glyphs): ours draws index
    tensors and gathers the bank; the reference's ``tasks/RMTS.py`` ``get_sample``
    loops in Python per example (``np.random.choice`` per row). The reference
    imports torchvision only for a debug image: an empty ``torchvision.utils``
    module is registered in this process so that it imports.
(b) One training step (forward, cross-entropy, backward, Adam) of CoRelNet on
    RMTS glyphs (N = 6, 3 x 32 x 32 as in the reference), batch 32 and 1 000:
    ours encodes all 6 objects in one call; the reference ``models/CoRelNet.py``
    loops over the objects (and over rows for its reduced flattening). Both use
    the repository preset (lower mask, reduced) and context norm; the encoders
    are the same size class (three stride-2 convs of 32 channels, z = 128) but
    not identical (ours: kernel 5 and one linear layer; the reference: kernel 4
    and two linear layers), so the ratio is taken with the reference's encoder
    module placed inside our CoRelNet: then only batching and the vectorised
    relation / flattening differ. Our core-CNN time is printed beside it.

Without ``--reference`` only our timings are printed. One CPU thread; best of
``--repeats``. Ratios > 1 mean etude is faster.
"""

from __future__ import annotations

import argparse
import copy
import logging
import pathlib
import sys
import time
import types

import numpy as np
import torch


def interleaved(fns, repeats: int) -> list[float]:
    """Best time of each function, run in turn ``repeats`` times (so load spikes hit all of them alike)."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [min(t) for t in times]


def ours_generation(n: int):
    from etude_corelnet.tasks import glyph_bank, rmts

    bank = glyph_bank().unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    pool = torch.arange(5)
    g = torch.Generator().manual_seed(0)

    def run():
        ids, y = rmts(pool, n, g)
        return bank[ids], y

    return run


def reference_modules(root: pathlib.Path):
    vision = types.ModuleType("torchvision")
    utils = types.ModuleType("torchvision.utils")
    utils.save_image = None  # only the reference's debug plot uses it
    vision.utils = utils
    sys.modules.setdefault("torchvision", vision)
    sys.modules.setdefault("torchvision.utils", utils)
    tests = root / "cognitive_tests"
    for p in (tests, tests / "models", tests / "tasks"):
        sys.path.insert(0, str(p))
    import importlib

    return importlib.import_module("RMTS"), importlib.import_module("CoRelNet")


def reference_generation(rmts_module, n: int):
    from etude_corelnet.tasks import glyph_bank

    shapes = glyph_bank()[:5].unsqueeze(1).expand(-1, 3, -1, -1).numpy()
    np.random.seed(0)
    # get_sample(b) returns 3 b examples
    return lambda: rmts_module.get_sample(n // 3, [0.5, 0.5], shapes, None)


def ours_model():
    from etude_corelnet import CoRelNet

    return CoRelNet(input_shape=(6, 3, 32, 32), num_classes=2, z_dim=128, encoder="cnn", preset="repository",
                    encoder_options={"channels": (32, 32, 32), "strides": (2, 2, 2)})


def reference_model(corelnet_module):
    args = types.SimpleNamespace(
        normalized=False, key_dim=128, heads=1, query_dim=128, value_dim=128, pos_dim=0, layers=1, rules=1,
        residual=False, norm_before=False, sqrt=False, no_masking=False, reduced=True, no_adding=True,
        no_positional=True, task="RMTS", detached=False, selfattention=True, encoder="conv", freeze_encoder=False,
        norm_type="contextnorm")
    task_gen = types.SimpleNamespace(seq_len=6, y_dim=2, task_seg=[[0, 1], [2, 3], [4, 5]])
    net = corelnet_module.Model(task_gen, args)
    return lambda x: net(x, "cpu")[0], net


def step_fn(forward, params, x, y):
    opt = torch.optim.Adam(params, lr=5e-4)

    def run():
        loss = torch.nn.functional.cross_entropy(forward(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=pathlib.Path, default=None, help="a relationaltasks checkout")
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.INFO)
    ref = reference_modules(args.reference) if args.reference else None

    gens = [ours_generation(args.examples)] + ([reference_generation(ref[0], args.examples)] if ref else [])
    t = interleaved(gens, args.repeats)
    line = f"(a) RMTS generation, {args.examples} examples, m = 95: etude {args.examples / t[0]:,.0f} ex/s"
    if ref:
        line += f"; reference {args.examples / t[1]:,.0f} ex/s; ratio {t[1] / t[0]:.1f}x"
    print(line)
    g = torch.Generator().manual_seed(0)
    from etude_corelnet.tasks import rmts

    (t_ids,) = interleaved([lambda: rmts(torch.arange(5), args.examples, g)], args.repeats)
    print(f"    of which drawing the object ids and labels: {args.examples / t_ids:,.0f} ex/s "
          "(the rest is the gather of 3 x 32 x 32 images, a memory copy in both)")

    for batch in (32, 1000):
        torch.manual_seed(0)
        x, y = torch.rand(batch, 6, 3, 32, 32), torch.randint(0, 2, (batch,))
        ours = ours_model()
        steps = [step_fn(ours, ours.parameters(), x, y)]
        if ref:
            forward, net = reference_model(ref[1])
            same = ours_model()
            same.encoder.net = copy.deepcopy(net.shape_encoder)  # the identical encoder: only batching differs
            steps += [step_fn(same, same.parameters(), x, y), step_fn(forward, net.parameters(), x, y)]
        t = interleaved(steps, args.repeats)
        line = f"(b) CoRelNet training step, glyphs N = 6, batch {batch}: etude (core CNN encoder) {1e3 * t[0]:.1f} ms"
        if ref:
            line += (f"; etude with the reference's encoder {1e3 * t[1]:.1f} ms; reference {1e3 * t[2]:.1f} ms; "
                     f"ratio (same encoder) {t[2] / t[1]:.2f}x")
        print(line)


if __name__ == "__main__":
    main()
