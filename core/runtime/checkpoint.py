"""Checkpoints: atomic save, ``weights_only=True`` load, verified checksum.

A checkpoint holds the model's state dict, its config (plain data), the
package versions and the RNG states of python, numpy and torch, so that a
run can resume exactly. It is written to a temp file then renamed, so a
crash never corrupts the previous checkpoint (and the temp files a killed
save left behind are removed by the next save of the same file); it is
loaded with ``torch.load(weights_only=True)``, so loading never runs pickled
code.

- :func:`save_checkpoint` refuses, before writing, any value that
  :func:`load_checkpoint` would refuse (numpy arrays, arbitrary objects),
  naming where it is in the payload.
- The payload carries a SHA-256 of its tensors and values; a flipped byte
  is a :class:`CheckpointError` on load, never silently wrong weights.
- ``load_checkpoint(path, config=...)`` (or ``into=module``) checks the
  stored config against the expected one and names the differing fields,
  unless ``allow_config_mismatch=True``.
"""

from __future__ import annotations

import collections
import hashlib
import os
import pathlib
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from etude.registry.errors import EtudeError

from .atomic import atomic_open

FORMAT = 1


class CheckpointError(EtudeError, ValueError):
    """A checkpoint cannot be written or loaded as asked (names the file, field or value)."""


_PLAIN = (int, float, bool, str, bytes, complex, type(None), torch.dtype, torch.device, torch.Size)


def check_loadable(value: Any, where: str = "checkpoint") -> None:
    """Raise :class:`CheckpointError` unless ``torch.load(weights_only=True)`` can load ``value``.

    Allowed: tensors, numbers, strings, bytes, None, dtypes, devices, and
    dicts / lists / tuples of these (dict keys: str, int or float).
    """
    if isinstance(value, torch.Tensor):
        if type(value) not in (torch.Tensor, torch.nn.Parameter):
            raise CheckpointError(
                f"{where} is a {type(value).__name__} (a tensor subclass), which a weights_only load refuses; "
                "store torch.Tensor(value) or value.as_subclass(torch.Tensor)"
            )
        return
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, Mapping):
        if type(value) not in (dict, collections.OrderedDict):
            raise CheckpointError(f"{where} is a {type(value).__name__}; store a plain dict instead")
        for key, item in value.items():
            if not isinstance(key, (str, int, float)):
                raise CheckpointError(f"{where} has a key of type {type(key).__name__}: {key!r}; use str keys")
            check_loadable(item, f"{where}[{key!r}]")
        return
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        for i, item in enumerate(value):
            check_loadable(item, f"{where}[{i}]")
        return
    hint = " (convert it with torch.from_numpy(...) or .tolist())" if type(value).__module__.startswith("numpy") else ""
    raise CheckpointError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which load_checkpoint "
        f"(torch.load with weights_only=True) would refuse{hint}; store tensors, numbers, strings and "
        "dicts/lists of them"
    )


def checksum(value: Any) -> str:
    """SHA-256 over a canonical walk of ``value``: tensor dtypes, shapes and bytes; plain values by repr."""
    digest = hashlib.sha256()

    def walk(v: Any) -> None:
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu().contiguous()
            digest.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            if t.numel():
                digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(v, dict):
            digest.update(b"{")
            for key in v:
                digest.update(repr(key).encode())
                walk(v[key])
            digest.update(b"}")
        elif isinstance(v, (list, tuple)):
            digest.update(b"[" if isinstance(v, list) else b"(")
            for item in v:
                walk(item)
            digest.update(b"]")
        else:
            digest.update(repr(v).encode())

    walk(value)
    return digest.hexdigest()


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
    """Write a checkpoint atomically; ``state`` is a state dict or a module.

    Raises :class:`CheckpointError` (before writing anything) when a value
    could not be loaded back with ``weights_only=True``.
    """
    from etude.config import config_as_dict  # noqa: PLC0415

    if isinstance(state, torch.nn.Module):
        if config is None and hasattr(state, "config"):
            config = state.config
        state = state.state_dict()
    cfg = config_as_dict(config) if config is not None and not isinstance(config, dict) else config
    payload = {
        "format": FORMAT,
        "state": dict(state),
        "config": cfg,
        "versions": _versions(),
        "rng": rng_state(),
        "extra": extra or {},
    }
    check_loadable(payload, "the checkpoint")
    payload["checksum"] = checksum({k: payload[k] for k in ("state", "config", "extra")})
    path = pathlib.Path(path)
    with atomic_open(path, "wb") as handle:
        torch.save(payload, handle)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    map_location: Any = "cpu",
    restore_rng: bool = False,
    config: Any = None,
    into: torch.nn.Module | None = None,
    allow_config_mismatch: bool = False,
) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``, verify its checksum; optionally restore the RNG states.

    ``config`` (a config object or dict) is compared with the stored config;
    ``into`` loads the state dict into that module after comparing with its
    ``.config``. A difference is a :class:`CheckpointError` naming the
    differing fields (a relu MLP's weights into a tanh MLP), unless
    ``allow_config_mismatch=True``.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} cannot be loaded as a checkpoint: {type(exc).__name__}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not an etude checkpoint (format {FORMAT})")
    stored = payload.get("checksum")
    if stored is not None and stored != checksum({k: payload.get(k) for k in ("state", "config", "extra")}):
        raise CheckpointError(
            f"{path} is corrupt: its data does not match the checksum written with it (a flipped or "
            "truncated byte); restore it from a copy or retrain"
        )
    if config is None and into is not None:
        config = getattr(into, "config", None)
    if config is not None and not allow_config_mismatch:
        _check_config(path, payload.get("config"), config)
    if into is not None:
        into.load_state_dict(payload["state"])
    if restore_rng:
        set_rng_state(payload["rng"])
    return payload


def _check_config(path: pathlib.Path, stored: Any, expected: Any) -> None:
    from etude.config import config_as_dict  # noqa: PLC0415

    expected = expected if isinstance(expected, dict) else config_as_dict(expected)
    if stored is None:
        raise CheckpointError(
            f"{path} stores no config, so it cannot be checked against {expected}; "
            "pass allow_config_mismatch=True to load it anyway"
        )
    if not isinstance(stored, dict):
        stored = {"config": stored}
    keys = sorted(set(stored) | set(expected), key=str)
    missing = object()
    diffs = [
        f"{k}: checkpoint {stored.get(k, '(absent)')!r}, expected {expected.get(k, '(absent)')!r}"
        for k in keys
        if _plain(stored.get(k, missing)) != _plain(expected.get(k, missing))
    ]
    if diffs:
        raise CheckpointError(
            f"{path} was saved with a different config: {'; '.join(diffs)}. "
            "Build the component with the checkpoint's config, or pass allow_config_mismatch=True"
        )


def _plain(value: Any) -> Any:
    """Lists and tuples compare equal (a tuple config field comes back as a list)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
