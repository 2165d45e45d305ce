"""Executors: where units run. ``serial`` runs them in this process, one after another."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .units import Unit, run_unit


def execute(units: Sequence[Unit], done: Callable[[dict[str, Any]], None], *, jobs: int = 1,
            progress: bool = False) -> None:
    """Run every unit and call ``done(record)`` in this process as each finishes."""
    if not units:
        return
    bar = _bar(len(units), progress)
    failed = 0
    try:
        for unit in units:
            if bar is not None:
                bar.set_postfix_str(f"failed={failed} {unit.claim_id} seed {unit.seed}")
            record = run_unit(unit)
            failed += record["status"] != "ok"
            done(record)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def _bar(total: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(total=total, desc="units", unit="unit")
