"""The CIFAR-10 fork protocol end to end on a tiny CIFAR-shaped folder written here; missing files are "not run"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from etude.claims import JudgeContext, SeedContext
from etude.data import DataFormatError, DataNotFoundError
from etude.data.readers import CIFAR_TRAIN_FILES, write_cifar10_batch

from etude_lazy_hasty import claims
from etude_lazy_hasty.cifar import CSCORE_FILE, CIFAR10CScores, fork_protocol, read_cscores

PER_BATCH = 12  # 5 x 12 = 60 training images
PALETTE = np.array([[r, g, b] for r in (30, 220) for g in (30, 220) for b in (30, 130, 220)][:10], dtype=float)


def _write_folder(root, *, with_scores: bool = True, scores_order_ok: bool = True):
    """Class-coloured 32x32 images (easy to learn) and c-scores that grow with the example's index."""
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    labels_all = []
    for k, name in enumerate((*CIFAR_TRAIN_FILES, "test_batch.bin")):
        labels = rng.integers(0, 10, PER_BATCH if k < 5 else 10)
        colour = PALETTE[labels][:, :, None, None]  # one colour per class
        images = np.clip(colour + rng.normal(0, 20, (len(labels), 3, 32, 32)), 0, 255).astype(np.uint8)
        write_cifar10_batch(folder / name, images, labels)
        if k < 5:
            labels_all.append(labels)
    labels = np.concatenate(labels_all)
    if with_scores:
        file_labels = labels if scores_order_ok else labels[::-1]
        np.savez(root / CSCORE_FILE, scores=np.linspace(0.0, 1.0, len(labels)), labels=file_labels)
    return labels


TINY = {"seeds": 2, "root": None, "train_examples": 48, "model_options": {"norm": "none", "width": 2},
        "milestones": [0.12, 0.2], "parent_epochs": 15, "fork_epochs": 3, "gap": 0.1, "alphas": [1.0, 1e4],
        "lr": 0.05, "momentum": 0.9, "batch_size": 16, "bins": 4}


def test_task_split_and_cscores_join(tmp_path):
    labels = _write_folder(tmp_path)
    task = CIFAR10CScores(root=str(tmp_path), train_examples=48)
    train, test = task.split("train"), task.split("test")
    assert train.inputs.shape == (48, 3, 32, 32) and test.inputs.shape == (12, 3, 32, 32)
    assert torch.equal(train.targets, torch.from_numpy(labels[:48]).long())
    torch.testing.assert_close(train.info["cscore"], torch.linspace(0, 1, 60)[:48])
    torch.testing.assert_close(test.info["index"], torch.arange(48, 60))
    torch.testing.assert_close(train.inputs.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)


def test_missing_or_wrong_files_are_named(tmp_path):
    with pytest.raises(DataNotFoundError, match="cifar-10-batches-bin"):
        CIFAR10CScores(root=str(tmp_path)).split("train")
    _write_folder(tmp_path, with_scores=False)
    with pytest.raises(DataNotFoundError, match=CSCORE_FILE):
        CIFAR10CScores(root=str(tmp_path), train_examples=48).split("train")
    np.savez(tmp_path / CSCORE_FILE, scores=np.zeros(5), labels=np.zeros(5))
    with pytest.raises(DataFormatError, match="labels do not match"):
        read_cscores(str(tmp_path), labels=np.ones(60, dtype=np.int64))


def test_fork_protocol_end_to_end_through_the_claim(tmp_path, monkeypatch):
    _write_folder(tmp_path)
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path))
    monkeypatch.setattr(claims, "_cifar", lambda ctx: TINY)
    cid = "lazy-hasty/easy-first-when-rich"
    run = claims.easy_first_when_rich_run(SeedContext(claim_id=cid, scale="smoke", seed=0))
    fork = run["cifar10_fork"]
    assert set(fork["forks"]) == {"0.12", "0.2"}, fork.get("not_run")
    assert fork["bin_score_means"] == sorted(fork["bin_score_means"], reverse=True)  # bin 0 = highest c-scores
    parent = fork["parent"]
    assert [m["accuracy"] >= float(k) for k, m in parent["milestones"].items()] == [True, True]
    for m, f in fork["forks"].items():
        assert f["levels"] == pytest.approx([float(m) + 0.05, float(m) + 0.1])
        rich, lazy = f["1"], f["10000"]
        # a fork starts from the checkpoint's function (init_from + AlphaScaled.fork): same accuracy at step 0
        assert rich["curves"]["accuracy"][0] == pytest.approx(f["start_accuracy"], abs=1e-6)
        assert lazy["curves"]["accuracy"][0] == pytest.approx(f["start_accuracy"], abs=1e-6)
        assert lazy["relative_weight_change"] < rich["relative_weight_change"] / 100
        assert set(lazy["at_levels"]) == {f"bin{k}" for k in range(4)}
    ctx = JudgeContext(claim_id=cid, scale="smoke", seeds=[0], out_dir=tmp_path / "figures")
    outcome = claims.easy_first_when_rich_judge(ctx, [run])
    assert ctx.figures  # the group curves, saved under out_dir
    assert outcome.metrics["cifar10_fork_seeds"] == 1 and len(outcome.metrics["cifar10_fork_diff_lazy_minus_rich"]) == 1
    assert "CIFAR-10 fork protocol: 1 seed(s)" in outcome.notes and outcome.holds is None


def test_missing_files_record_not_run_data_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path))
    ctx = SeedContext(claim_id="lazy-hasty/easy-first-when-rich", scale="smoke", seed=0)
    part = claims.cifar10_fork_unit(ctx, TINY)
    assert part["not_run"].startswith("data not found") and "cifar-10-batches-bin" in part["not_run"]
    _write_folder(tmp_path, with_scores=False)
    part = claims.cifar10_fork_unit(ctx, TINY)
    assert part["not_run"].startswith("data not found") and CSCORE_FILE in part["not_run"]
    outside = claims.cifar10_fork_unit(SeedContext(claim_id=ctx.claim_id, scale="smoke", seed=5), TINY)
    assert "outside" in outside["not_run"]
    # the judge keeps the digits / MNIST-1D verdict and says the protocol was not run
    runs = [{"cifar10_fork": part}]
    holds, metrics, note = claims._cifar_outcome(runs)
    assert holds is None and metrics == {"cifar10_fork": "not run: data not found"}
    assert note.startswith("CIFAR-10 fork protocol: not run: data not found") and CSCORE_FILE in note


def test_full_scale_settings_are_the_papers():
    s = claims._CIFAR_FULL
    assert s["model_options"] == {"norm": "none", "width": 64} and s["train_examples"] == 40000
    assert (s["lr"], s["momentum"], s["batch_size"], s["alphas"], s["bins"]) == (0.01, 0.9, 125, [1.0, 1e4], 10)
    assert s["milestones"][:3] == [0.1, 0.15, 0.2]


def test_combined_verdict_rule():
    def run(d_hard, d_cifar):
        at = lambda v: {f"q{k}": [v, v] for k in range(5)}  # noqa: E731
        base = {"rich": {"at_levels": at(0.5)}, "lazy": {"at_levels": at(0.5 + d_hard)}}
        fork = {"levels": [0.2, 0.3], "1": {"at_levels": {"bin0": [1, 1], "bin1": [0.2, 0.2]}},
                "10000": {"at_levels": {"bin0": [1, 1], "bin1": [0.2 + d_cifar, 0.2 + d_cifar]}}}
        return {**base, "cifar10_fork": {"forks": {"0.1": fork}, "bin_score_means": [0.9, 0.1]}}

    def verdict(pairs):
        runs = [run(*p) for p in pairs]
        holds, cmp = claims._paired_verdict([sum(r["lazy"]["at_levels"]["q4"]) / 2 for r in runs],
                                            [sum(r["rich"]["at_levels"]["q4"]) / 2 for r in runs])
        c_holds, metrics, _ = claims._cifar_outcome(runs)
        return holds, c_holds, metrics

    up = [(0.1, 0.1), (0.12, 0.11), (0.11, 0.12)]
    assert verdict(up)[:2] == (True, True)
    down = [(0.1, -0.1), (0.12, -0.11), (0.11, -0.12)]
    assert verdict(down)[:2] == (True, False)
    assert verdict(down)[2]["cifar10_fork_diff_lazy_minus_rich"] == pytest.approx([-0.1, -0.11, -0.12])
    combine = claims.combine_verdicts
    assert [combine(True, True), combine(True, False), combine(None, False), combine(True, None),
            combine(None, None), combine(False, True)] == [True, False, False, None, None, False]
