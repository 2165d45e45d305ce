"""Executors: where units run.

- ``serial`` (``jobs=1``): in this process, one after another.
- ``pool`` (``jobs=N``): N worker processes (``spawn``), each with
  ``torch.set_num_threads(threads)`` on CPU (1 by default). The parent
  knows which unit each worker runs: a unit whose worker dies (a segfault,
  the OOM killer, SIGKILL) is recorded with that error, the worker is
  replaced, and the other units go on.

Both call ``done(record)`` in the calling process as each unit finishes,
and show one progress bar (units done, failed, ETA).
"""

from __future__ import annotations

import collections
import multiprocessing
import signal
from collections.abc import Callable, Sequence
from typing import Any

from .units import Unit, run_unit

Done = Callable[[dict[str, Any]], None]


def execute(units: Sequence[Unit], done: Done, *, jobs: int = 1, progress: bool = False,
            threads: int | None = 1, executor: str = "local", options: dict[str, Any] | None = None,
            out: Any = None) -> None:
    """Run every unit and call ``done(record)`` in this process as each finishes.

    ``executor`` is ``"local"`` (serial or a pool of ``jobs`` workers) or one
    of :mod:`etude.claims.slurm`'s (``slurm``, ``submitit-local``, ``submitit-debug``).
    """
    if not units:
        return
    bar = _Bar(len(units), progress)
    try:
        if executor != "local":
            from .slurm import execute_submitit  # noqa: PLC0415

            execute_submitit(units, done, kind=executor, out=out, options=options or {}, bar=bar)
        elif jobs <= 1 or len(units) == 1:
            for unit in units:
                bar.running(unit)
                record = run_unit(unit)
                done(record)
                bar.finished(record)
        else:
            _run_pool(units, done, jobs=min(jobs, len(units)), threads=threads, bar=bar)
    finally:
        bar.close()


class _Bar:
    def __init__(self, total: int, progress: bool) -> None:
        self.failed = 0
        self.done = 0
        self.bar = None
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            self.bar = tqdm(total=total, desc="units", unit="unit", dynamic_ncols=True)

    def running(self, unit: Unit) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"failed={self.failed} | {unit.claim_id} seed {unit.seed}")

    def finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.failed += record.get("status") != "ok"
        if self.bar is not None:
            self.bar.set_postfix_str(f"failed={self.failed}")
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _worker_main(conn: Any, threads: int | None) -> None:  # pragma: no cover - runs in the worker
    import torch  # noqa: PLC0415

    if threads is not None:
        torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the workers
    while True:
        try:
            unit = conn.recv()
        except EOFError:
            return
        if unit is None:
            return
        conn.send(run_unit(unit))


class _Worker:
    def __init__(self, context: Any, threads: int | None) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, threads), daemon=True)
        self.process.start()
        child.close()
        self.unit: Unit | None = None

    def give(self, unit: Unit) -> None:
        self.unit = unit
        self.conn.send(unit)

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def failed_record(unit: Unit, error: str) -> dict[str, Any]:
    """The record of a unit that did not return (its process died, its job failed)."""
    from .units import _etude_version  # noqa: PLC0415

    return {
        "claim": unit.claim_id, "scale": unit.scale, "seed": unit.seed, "device": unit.device, "status": "error",
        "measurements": None, "seconds": 0.0, "plugin_version": unit.plugin_version, "etude_version": _etude_version(),
        "error": error,
    }


def died_record(unit: Unit, exitcode: int | None) -> dict[str, Any]:
    """The record of a unit whose process ended before returning."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit code {exitcode}"
    return failed_record(unit, f"WorkerDied: the worker process running this unit ended ({how}) before returning a "
                               "result; the unit runs again on the next `etude reproduce` into this folder")


def _run_pool(units: Sequence[Unit], done: Done, *, jobs: int, threads: int | None, bar: _Bar) -> None:
    from multiprocessing.connection import wait  # noqa: PLC0415

    context = multiprocessing.get_context("spawn")
    queue = collections.deque(units)
    workers = [_Worker(context, threads) for _ in range(jobs)]
    try:
        for worker in workers:
            if queue:
                worker.give(queue.popleft())
                bar.running(worker.unit)
        while any(w.unit is not None for w in workers):
            busy = [w for w in workers if w.unit is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                if worker.conn not in ready and worker.process.sentinel not in ready:
                    continue
                record = None
                try:
                    if worker.conn.poll():
                        record = worker.conn.recv()
                except (EOFError, OSError):
                    record = None
                if record is None:
                    if worker.process.is_alive() and worker.process.sentinel not in ready:
                        continue  # spurious wake-up
                    worker.process.join(timeout=5)
                    record = died_record(worker.unit, worker.process.exitcode)
                    worker.kill()
                    workers[workers.index(worker)] = replacement = _Worker(context, threads)
                    worker = replacement
                worker.unit = None
                done(record)
                bar.finished(record)
                if queue:
                    worker.give(queue.popleft())
                    bar.running(worker.unit)
    finally:
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.process.join(timeout=5)
            worker.kill()
