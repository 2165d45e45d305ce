"""Checkpoints: atomic save, ``weights_only=True`` load.

A checkpoint holds the model's state dict, its config (plain data), the
package versions and the RNG states of python, numpy and torch, so that a
run can resume exactly. It is written to a temp file then renamed, so a
crash never corrupts the previous checkpoint; it is loaded with
``torch.load(weights_only=True)``, so loading never runs pickled code.
"""

from __future__ import annotations

import os
import pathlib
import random
from typing import Any

import numpy as np
import torch

from .atomic import atomic_open

FORMAT = 1


def rng_state() -> dict[str, Any]:
    """RNG states as tensors and plain data (all loadable with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    out = {}
    for name in ("etude", "torch", "pyro-ppl", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def save_checkpoint(
    path: str | os.PathLike,
    state: dict[str, Any] | torch.nn.Module,
    *,
    config: Any = None,
    extra: dict[str, Any] | None = None,
) -> pathlib.Path:
    """Write a checkpoint atomically; ``state`` is a state dict or a module."""
    from etude.config import config_as_dict  # noqa: PLC0415

    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    cfg = config_as_dict(config) if config is not None and not isinstance(config, dict) else config
    payload = {
        "format": FORMAT,
        "state": state,
        "config": cfg,
        "versions": _versions(),
        "rng": rng_state(),
        "extra": extra or {},
    }
    path = pathlib.Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save(payload, handle)
    return path


def load_checkpoint(path: str | os.PathLike, *, map_location: Any = "cpu", restore_rng: bool = False) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; optionally restore the RNG states."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an etude checkpoint (format {FORMAT})")
    if restore_rng:
        set_rng_state(payload["rng"])
    return payload
