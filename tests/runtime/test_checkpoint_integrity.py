"""Issue 14, items 18-19: stale temp files, save refuses what load refuses, checksums, config mismatch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from etude.runtime import CheckpointError, load_checkpoint, save_checkpoint
from etude.runtime.atomic import remove_stale_temp_files


def _temp_files(folder, name):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


# -- item 18 -----------------------------------------------------------------
def test_kill_9_during_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    path = tmp_path / "ck.pt"
    script = textwrap.dedent(f"""
        import os, signal, torch
        from etude.runtime.atomic import atomic_open
        with atomic_open({str(path)!r}, "wb") as handle:
            handle.write(b"x" * 100_000)
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
        assert proc.returncode == -9
    # each new write removed the previous dead writer's temp file: only the last one is left
    assert len(_temp_files(tmp_path, "ck.pt")) == 1 and not path.exists()
    save_checkpoint(path, {"w": torch.ones(2)})
    assert _temp_files(tmp_path, "ck.pt") == []
    torch.testing.assert_close(load_checkpoint(path)["state"]["w"], torch.ones(2))


def test_a_live_writers_temp_file_and_other_files_are_kept(tmp_path):
    import os
    import socket

    host = socket.gethostname().replace(".", "_")
    live = tmp_path / f".ck.pt.{host}.{os.getppid()}.abcdefgh.tmp"  # our parent is alive
    other = tmp_path / f".other.pt.{host}.999999999.abcdefgh.tmp"
    live.write_bytes(b"x")
    other.write_bytes(b"x")
    assert remove_stale_temp_files(tmp_path / "ck.pt") == []
    assert live.exists() and other.exists()


# -- item 19: save refuses what load would refuse ------------------------------
@pytest.mark.parametrize(
    ("state", "where"),
    [
        ({"w": np.ones(3)}, r"\['state'\]\['w'\] is a numpy.ndarray.*torch.from_numpy"),
        ({"w": torch.ones(2), "obj": object()}, r"\['state'\]\['obj'\] is a builtins.object"),
        ({"nested": {"x": [1, np.float32(2.0)]}}, r"\['nested'\]\['x'\]\[1\] is a numpy"),
    ],
)
def test_save_refuses_what_load_would_refuse(tmp_path, state, where):
    path = tmp_path / "ck.pt"
    with pytest.raises(CheckpointError, match=where):
        save_checkpoint(path, state)
    assert not path.exists() and _temp_files(tmp_path, "ck.pt") == []


def test_save_accepts_what_load_accepts(tmp_path):
    from collections import OrderedDict

    state = OrderedDict(w=torch.ones(2), meta={"n": 3, "dims": (1, 2), "dtype": torch.float64, "name": None})
    payload = load_checkpoint(save_checkpoint(tmp_path / "ck.pt", state, extra={"optim": {"lr": 0.1}}))
    assert payload["state"]["meta"]["dims"] == (1, 2)


# -- item 19: checksum ---------------------------------------------------------
def test_a_flipped_byte_in_tensor_data_is_detected(tmp_path):
    path = save_checkpoint(tmp_path / "ck.pt", {"w": torch.arange(64, dtype=torch.float32)})
    data = bytearray(path.read_bytes())
    needle = torch.arange(64, dtype=torch.float32).numpy().tobytes()
    at = bytes(data).index(needle) + 4 * 37  # inside the tensor's storage (stored uncompressed)
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


# -- item 19: config mismatch ----------------------------------------------------
def test_loading_into_a_component_with_a_different_config_names_the_fields(tmp_path):
    import etude

    relu = etude.create("model", "mlp", in_features=4, num_classes=2, hidden=(8,), activation="relu")
    tanh = etude.create("model", "mlp", in_features=4, num_classes=2, hidden=(8,), activation="tanh")
    path = save_checkpoint(tmp_path / "mlp.pt", relu)
    with pytest.raises(CheckpointError, match=r"activation: checkpoint 'relu', expected 'tanh'"):
        load_checkpoint(path, into=tanh)
    load_checkpoint(path, into=tanh, allow_config_mismatch=True)  # asked for: loads
    torch.testing.assert_close(tanh.state_dict(), relu.state_dict())
    same = etude.create("model", "mlp", in_features=4, num_classes=2, hidden=(8,), activation="relu")
    load_checkpoint(path, into=same)
    torch.testing.assert_close(same.state_dict(), relu.state_dict())
    with pytest.raises(CheckpointError, match="activation"):
        load_checkpoint(path, config=tanh.config)
