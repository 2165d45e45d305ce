"""cifar-gains end to end at a tiny size on a CIFAR-10 folder written by the test; missing files -> data not found."""

from __future__ import annotations

import numpy as np
import pytest

from etude.claims import reproduce
from etude.data import DataNotFoundError
from etude.data.readers import write_cifar10_batch
from etude_diffusion_time_mixing import claims

CLAIM = "diffusion-time-mixing/cifar-gains"

TINY = {
    "drl": {"encoder": "wrn", "image_shape": (3, 32, 32), "wrn_depth": 10, "widen_factor": 1, "latent_dim": 8,
            "probabilistic": True, "lambda_z": 1e-5, "sigma_min": 0.01, "sigma_max": 50.0, "t_min": 1e-5,
            "lr": 2e-4, "batch_size": 8, "warmup_steps": 2, "grad_clip": 1.0, "steps": 2,
            "unet_channels": 8, "unet_ch_mult": (1, 2), "unet_res_blocks": 1},
    "Ks": [2], "val_fraction": 0.2, "train_size": None,
    "lrs": [1e-3, 1e-4], "epochs": 2, "batch_size": 32, "weight_decay": 1e-5,
    "mlp": [16], "rnn": {"hidden": 8}, "mixer": {"width": 8, "dropout": 0.0, "num_heads": 2},
}


def _write_cifar(folder, per_batch=10):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        write_cifar10_batch(folder / name, rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8),
                            np.arange(per_batch) % 10)


def test_full_pipeline_at_a_tiny_size(tmp_path, monkeypatch):
    _write_cifar(tmp_path / "data" / "cifar-10-batches-bin")
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(claims, "CIFAR_FULL", TINY)
    (result,) = reproduce(["diffusion-time-mixing"], claims=[CLAIM], scale="full", seeds=2, out=tmp_path / "run",
                          progress=False)
    assert result.error is None, result.error
    m = result.metrics["K2"]
    assert len(m["per_t_test"]) == 2 and len(m["per_t_test"][0]) == 3  # two seeds, K + 1 = 3 times
    for key in ("best_single_t", "mixer", "concat", "rnn"):
        assert all(0 <= v <= 1 for v in m[key]), key
    assert all(t in (0.0, 0.5, 1.0) for t in m["best_t_chosen"])
    assert all(lr in TINY["lrs"] for chosen in m["lr_chosen"] for lr in chosen.values())
    assert len(m["gain_points"]) == 2 and result.holds in (True, False, None)


def test_missing_files_mean_data_not_found(tmp_path, monkeypatch):
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path))
    monkeypatch.setattr(claims, "CIFAR_FULL", TINY)
    with pytest.raises(DataNotFoundError):
        claims._cifar(0, TINY).split("train")
    (result,) = reproduce(["diffusion-time-mixing"], claims=[CLAIM], scale="full", seeds=1, out=tmp_path / "run",
                          progress=False)
    assert result.holds is None and "data not found" in (result.notes + str(result.error or "")).lower()
