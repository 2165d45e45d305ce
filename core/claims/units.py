"""One unit of work, (claim, scale, seed): what any executor runs, in any process."""

from __future__ import annotations

import os
import pathlib
import socket
import time
import traceback
from collections.abc import Callable
from typing import Any

import attrs

from .context import SeedContext
from .store import plain, roundtrip


@attrs.frozen(kw_only=True)
class Unit:
    """A picklable description of one (claim, scale, seed) unit.

    ``run`` is the claim's ``"module:function"`` reference (or a picklable
    callable); the executing process imports it.
    """

    claim_id: str
    run: str | Callable[..., Any]
    scale: str
    seed: int
    device: str = "cpu"
    cache_dir: str | None = None
    progress: bool = False
    threads: int | None = None
    plugin_version: str | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.claim_id, self.scale, self.seed)


def run_unit(unit: Unit) -> dict[str, Any]:
    """Run one unit and return its record; an exception becomes the record's ``error``.

    Seeding is per unit (``seed_everything(unit.seed)`` just before the
    call), never inherited from the process, so a unit's measurements are
    the same alone, in a pool or on another node (CPU, same thread count).
    """
    from etude.data.errors import DataNotFoundError  # noqa: PLC0415
    from etude.registry.specs import resolve_reference  # noqa: PLC0415
    from etude.runtime.seeding import seed_everything  # noqa: PLC0415

    record: dict[str, Any] = {
        "claim": unit.claim_id,
        "scale": unit.scale,
        "seed": unit.seed,
        "device": unit.device,
        "status": "ok",
        "measurements": None,
        "error": None,
        "seconds": 0.0,
        "plugin_version": unit.plugin_version,
        "etude_version": _etude_version(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    if unit.threads is not None and unit.device == "cpu":
        import torch  # noqa: PLC0415

        torch.set_num_threads(unit.threads)
    ctx = SeedContext(claim_id=unit.claim_id, scale=unit.scale, seed=unit.seed, device=unit.device,
                      progress=unit.progress, cache_dir=pathlib.Path(unit.cache_dir) if unit.cache_dir else None)
    start = time.perf_counter()
    try:
        from etude.runtime import distributed  # noqa: PLC0415

        distributed.init()  # a multi-task SLURM job or torchrun: the unit trains data-parallel
        function = resolve_reference(unit.run)
        seed_everything(unit.seed)
        measured = function(ctx)
        if not isinstance(measured, dict):
            raise TypeError(
                f"a claim's run must return a dict of this seed's measurements, got {type(measured).__name__} "
                "(the verdict comes from the claim's judge)"
            )
        record["measurements"] = roundtrip(plain(measured))
    except DataNotFoundError as exc:  # a full-scale run on a machine without the dataset files
        record["status"] = "data-not-found"
        record["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one failing unit must not stop the run
        record["status"] = "error"
        record["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-4)}"
    record["seconds"] = round(time.perf_counter() - start, 3)
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return record


def _etude_version() -> str:
    from etude._version import __version__  # noqa: PLC0415

    return __version__
