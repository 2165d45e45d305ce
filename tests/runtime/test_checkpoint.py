"""Checkpoints: atomic writes survive a crash; loads use weights_only=True; RNG states round-trip."""

from __future__ import annotations

import random
from unittest import mock

import numpy as np
import pytest
import torch

from etude.config import configclass, field
from etude.runtime import load_checkpoint, save_checkpoint


@configclass
class NetConfig:
    width: int = field(default=3)


def test_round_trip_with_config_versions_and_rng(tmp_path):
    net = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "ck.pt", net, config=NetConfig(width=3), extra={"step": 7})
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    payload = load_checkpoint(path)
    clone = torch.nn.Linear(3, 2)
    clone.load_state_dict(payload["state"])
    torch.testing.assert_close(clone.weight, net.weight)
    assert payload["config"] == {"width": 3} and payload["extra"] == {"step": 7}
    assert "torch" in payload["versions"]
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    save_checkpoint(tmp_path / "rng.pt", {})
    torch.rand(5), np.random.rand(5), random.random()
    load_checkpoint(tmp_path / "rng.pt", restore_rng=True)
    again = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(again[0], expected[0])
    np.testing.assert_allclose(again[1], expected[1])
    assert again[2] == expected[2]


def test_crash_between_write_and_rename_keeps_previous(tmp_path):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"w": torch.ones(2)})
    with mock.patch("etude.runtime.atomic.os.replace", side_effect=OSError("power cut")):
        with pytest.raises(OSError, match="power cut"):
            save_checkpoint(path, {"w": torch.zeros(2)})
    torch.testing.assert_close(load_checkpoint(path)["state"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temp file left behind


def test_crash_during_serialisation_keeps_previous(tmp_path):
    path = tmp_path / "ck.pt"
    save_checkpoint(path, {"w": torch.ones(2)})
    with mock.patch("etude.runtime.checkpoint.torch.save", side_effect=RuntimeError("disk full")):
        with pytest.raises(RuntimeError, match="disk full"):
            save_checkpoint(path, {"w": torch.zeros(2)})
    torch.testing.assert_close(load_checkpoint(path)["state"]["w"], torch.ones(2))


def test_load_uses_weights_only(tmp_path):
    path = save_checkpoint(tmp_path / "ck.pt", {"w": torch.ones(1)})
    with mock.patch("etude.runtime.checkpoint.torch.load", wraps=torch.load) as load:
        load_checkpoint(path)
    assert load.call_args.kwargs["weights_only"] is True


def test_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "state": Evil()}, path)
    with pytest.raises(Exception, match="(?i)weights_only|unpickl"):
        load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an etude checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
