"""The artefact cache: results several claims (and workers) share, computed once.

``SeedContext.artefact(producer, **config)`` calls
``producer(seed=ctx.seed, device=ctx.device, **config)`` once per key and
returns its value. The key is the producer's ``module:qualname``, the
configuration (JSON-able), the seed, the device and the version of the
distribution that provides the producer's top-level package (a new plugin
release invalidates its artefacts). Values are stored with ``torch.save``
under ``<out>/cache`` (or ``$ETUDE_CACHE_DIR``), written atomically, and
loaded with ``weights_only=True``: tensors, state dicts, and
dicts / lists / tuples of numbers, strings and tensors. Two processes that
ask for the same key at once take a file lock: one computes, the other
waits and loads.

Example::

    def trained_net(*, seed, device, width):
        ...
        return {"state": model.state_dict(), "accuracy": acc}

    def my_run(ctx):
        net = ctx.artefact(trained_net, width=64)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pathlib
import re
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from etude.registry.specs import resolve_reference

ENV_CACHE_DIR = "ETUDE_CACHE_DIR"


def producer_name(producer: str | Callable[..., Any]) -> str:
    if isinstance(producer, str):
        return producer
    module = getattr(producer, "__module__", None)
    qualname = getattr(producer, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise TypeError(
            f"ctx.artefact() needs a module-level function as producer (its module:qualname is the cache key), "
            f"got {producer!r}"
        )
    return f"{module}:{qualname}"


@functools.lru_cache(maxsize=None)
def _distribution_version(top_level: str) -> str:
    from importlib import metadata  # noqa: PLC0415

    for dist in metadata.packages_distributions().get(top_level, []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return "unknown"


def artefact_key(producer: str | Callable[..., Any], *, seed: int, device: str, config: dict[str, Any]) -> tuple[str, str]:
    """``(file stem, full key text)`` of an artefact."""
    name = producer_name(producer)
    try:
        config_text = json.dumps(config, sort_keys=True, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"ctx.artefact({name}): config must be JSON-able (numbers, str, lists, dicts): {exc}") from None
    version = _distribution_version(name.split(".", 1)[0].split(":", 1)[0])
    text = json.dumps({"producer": name, "config": config_text, "seed": seed, "device": device, "version": version})
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.replace(":", "."))[-80:]
    return f"{stem}-s{seed}-{device}-{digest}", text


def cache_dir_for(out: pathlib.Path | None) -> pathlib.Path | None:
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return pathlib.Path(env)
    return None if out is None else pathlib.Path(out) / "cache"


@contextlib.contextmanager
def file_lock(path: pathlib.Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing); a no-op where fcntl is missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl  # noqa: PLC0415
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _load(path: pathlib.Path) -> tuple[bool, Any]:
    import torch  # noqa: PLC0415

    if not path.exists():
        return False, None
    try:
        return True, torch.load(path, map_location="cpu", weights_only=True)["value"]
    except Exception as exc:  # noqa: BLE001 - a damaged artefact is recomputed, never fatal
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        warnings.warn(f"artefact {path} could not be loaded ({type(exc).__name__}: {exc}); kept aside as {aside.name}, "
                      "recomputing", stacklevel=3)
        return False, None


def artefact(producer: str | Callable[..., Any], /, *, cache_dir: pathlib.Path | None, seed: int, device: str,
             **config: Any) -> Any:
    """The value of ``producer(seed=seed, device=device, **config)``, from the cache when stored."""
    import torch  # noqa: PLC0415

    from etude.runtime.atomic import atomic_open  # noqa: PLC0415

    from etude.runtime import distributed  # noqa: PLC0415

    function = resolve_reference(producer)
    if cache_dir is None:
        return function(seed=seed, device=device, **config)
    stem, key = artefact_key(producer, seed=seed, device=device, config=config)
    path = pathlib.Path(cache_dir) / f"{stem}.pt"
    if distributed.is_distributed():
        return _distributed_artefact(function, path, key, seed=seed, device=device, config=config)
    found, value = _load(path)
    if found:
        return value
    with file_lock(path.with_name(f".{stem}.lock")):
        found, value = _load(path)  # another worker may have produced it while we waited
        if found:
            return value
        value = function(seed=seed, device=device, **config)
        with atomic_open(path, "wb") as handle:
            try:
                torch.save({"key": key, "value": value}, handle)
            except Exception as exc:
                raise TypeError(f"artefact of {producer_name(producer)} cannot be stored with torch.save: {exc}") from exc
        # every caller gets the value as loaded back (weights_only), so one that does not load fails here, at once
        try:
            return torch.load(path, map_location="cpu", weights_only=True)["value"]
        except Exception as exc:
            path.unlink(missing_ok=True)
            raise TypeError(
                f"artefact of {producer_name(producer)} does not load with weights_only=True: return tensors, "
                f"state dicts and dicts/lists/tuples of numbers, strings and tensors ({type(exc).__name__})"
            ) from None


def _distributed_artefact(function: Callable[..., Any], path: pathlib.Path, key: str, *, seed: int, device: str,
                          config: dict[str, Any]) -> Any:
    """Under DDP every rank computes together (collectives), rank 0 decides and stores."""
    import torch  # noqa: PLC0415

    from etude.runtime import distributed  # noqa: PLC0415
    from etude.runtime.atomic import atomic_open  # noqa: PLC0415

    found, value = _load(path) if distributed.is_main() else (False, None)
    if distributed.broadcast_object(found):
        if not distributed.is_main():
            value = torch.load(path, map_location="cpu", weights_only=True)["value"]
        return value
    value = function(seed=seed, device=device, **config)
    if distributed.is_main():
        with file_lock(path.with_name(f".{path.stem}.lock")), atomic_open(path, "wb") as handle:
            torch.save({"key": key, "value": value}, handle)
    distributed.barrier()
    return value
