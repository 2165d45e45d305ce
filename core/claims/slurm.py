"""Units as a SLURM job array through submitit (``etude reproduce --executor slurm``).

Every unit is one array task (``AutoExecutor.map_array``). The task runs
:func:`etude.claims.units.run_unit` and writes its record into the results
store itself, so finished units are kept even if the submitting process
goes away; the submitting process gathers the records as jobs finish and
judges each claim when its seeds are in. A preempted or timed-out task is
requeued by submitit's checkpointing (the unit starts again from its seed;
units are deterministic). Logs go to ``<out>/slurm/<job id>``; the job ids
of every submitted unit are in ``<out>/slurm/jobs.json`` for
``etude reproduce --status OUT``.

Needs the optional extra ``etude[slurm]`` (submitit). ``submitit-local``
and ``submitit-debug`` run the same path on this machine (real
subprocesses with the same pickling and folders, or in-process).

Executor options (flags or ``--executor-config`` YAML keys): ``partition``,
``gpus_per_unit``, ``cpus_per_unit``, ``mem`` (e.g. ``"16G"``), ``time``
(minutes, or ``"HH:MM:SS"``), ``array_parallelism``, ``account``, ``qos``,
``constraint``, ``setup`` (shell lines run before each task, e.g. ``module
load``), ``additional`` (extra ``#SBATCH`` keys), ``poll_seconds``.
"""

from __future__ import annotations

import json
import os
import pathlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from etude.runtime.atomic import atomic_write_text

from .units import Unit, run_unit

KINDS = {"slurm": "slurm", "submitit-local": "local", "submitit-debug": "debug"}
OPTIONS = ("partition", "gpus_per_unit", "cpus_per_unit", "mem", "time", "array_parallelism", "account", "qos",
           "constraint", "setup", "additional", "poll_seconds")
MANIFEST = "jobs.json"


def _submitit() -> Any:
    try:
        import submitit  # noqa: PLC0415
    except ImportError:
        raise ValueError(
            "--executor slurm needs submitit: pip install -c constraints.txt 'etude[slurm]'"
        ) from None
    return submitit


def load_executor_config(path: str | os.PathLike) -> dict[str, Any]:
    """The executor options in a YAML file (keys as in :data:`OPTIONS`; dashes allowed)."""
    import yaml  # noqa: PLC0415

    try:
        data = yaml.safe_load(pathlib.Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ValueError(f"--executor-config {path}: no such file") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"--executor-config {path}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"--executor-config {path}: expected a mapping of options, got {type(data).__name__}")
    return check_options({str(k).replace("-", "_"): v for k, v in data.items()}, where=f"--executor-config {path}")


def check_options(options: Mapping[str, Any], where: str = "executor options") -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        from etude.registry.errors import did_you_mean  # noqa: PLC0415

        raise ValueError(f"{where}: unknown option {unknown[0]!r}.{did_you_mean(unknown[0], OPTIONS)} "
                         f"Options: {', '.join(OPTIONS)}")
    for key in ("gpus_per_unit", "cpus_per_unit", "array_parallelism"):
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "gpus_per_unit" else 1)):
            raise ValueError(f"{where}: {key} must be a positive integer, got {value!r}")
    return dict(options)


def _minutes(value: Any) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return max(1, int(value))
    parts = [int(p) for p in str(value).replace("-", ":").split(":")]
    if len(parts) == 4:  # D-HH:MM:SS
        d, h, m, s = parts
    elif len(parts) == 3:
        d, (h, m, s) = 0, parts
    elif len(parts) == 2:
        d, h, (m, s) = 0, 0, parts
    elif len(parts) == 1:
        d, h, m, s = 0, 0, parts[0], 0
    else:
        raise ValueError(f"time must be minutes or [D-]HH:MM:SS, got {value!r}")
    return max(1, d * 1440 + h * 60 + m + (s > 0))


def _gigabytes(value: Any) -> float:
    text = str(value).strip().upper().rstrip("B")
    factor = {"K": 1 / 1024**2, "M": 1 / 1024, "G": 1.0, "T": 1024.0}
    if text and text[-1] in factor:
        return float(text[:-1]) * factor[text[-1]]
    return float(text)  # plain number: GB


def make_executor(kind: str, folder: pathlib.Path, options: Mapping[str, Any]) -> Any:
    """A submitit ``AutoExecutor`` for ``kind`` (slurm, submitit-local, submitit-debug) with the options."""
    submitit = _submitit()
    if kind == "slurm" and not submitit.SlurmExecutor.affinity() > 0:  # never fall back to local jobs silently
        raise ValueError("--executor slurm: SLURM is not available here (no sbatch/srun on PATH); "
                         "run it on the cluster's login node, or use --executor submitit-local to test the path")
    executor = submitit.AutoExecutor(folder=folder / "%j", cluster=KINDS[kind])
    params: dict[str, Any] = {"name": "etude-unit"}
    if options.get("gpus_per_unit") is not None:
        params["gpus_per_node"] = options["gpus_per_unit"]
        if options["gpus_per_unit"] > 1:  # one task per GPU: the unit trains with DDP (etude.runtime.distributed)
            params["tasks_per_node"] = options["gpus_per_unit"]
    if options.get("cpus_per_unit") is not None:
        params["cpus_per_task"] = options["cpus_per_unit"]
    if options.get("mem") is not None:
        params["mem_gb"] = _gigabytes(options["mem"])
    if options.get("time") is not None:
        params["timeout_min"] = _minutes(options["time"])
    for key in ("partition", "array_parallelism", "account", "qos", "constraint", "setup"):
        if options.get(key) is not None:
            params[f"slurm_{key}"] = options[key]
    if options.get("additional"):
        params["slurm_additional_parameters"] = dict(options["additional"])
    executor.update_parameters(**params)
    return executor


class UnitJob:
    """The callable each array task runs: one unit, its record written into the store at once.

    Checkpointable: on preemption or time-out submitit requeues the same
    unit (it starts again from its seed).
    """

    def __init__(self, out: str) -> None:
        self.out = out

    def __call__(self, unit: Unit) -> dict[str, Any]:
        from .store import ResultsStore  # noqa: PLC0415

        from etude.runtime import distributed  # noqa: PLC0415

        record = run_unit(unit)
        try:
            import submitit  # noqa: PLC0415

            env = submitit.JobEnvironment()
            record["job_id"] = env.job_id
        except (ImportError, RuntimeError):
            pass
        ResultsStore(self.out, readonly=not distributed.is_main()).write_unit(record)
        return record

    def checkpoint(self, unit: Unit) -> Any:
        import submitit  # noqa: PLC0415

        return submitit.helpers.DelayedSubmission(self, unit)


def execute_submitit(units: Sequence[Unit], done: Callable[[dict[str, Any]], None], *, kind: str,
                     out: pathlib.Path, options: Mapping[str, Any], bar: Any) -> None:
    """Submit every unit as one job array and call ``done(record)`` as each job finishes."""
    from .executors import failed_record  # noqa: PLC0415

    folder = pathlib.Path(out) / "slurm"
    folder.mkdir(parents=True, exist_ok=True)
    executor = make_executor(kind, folder, options)
    jobs = executor.map_array(UnitJob(str(out)), list(units))
    manifest = _read_manifest(folder)
    for unit, job in zip(units, jobs, strict=True):
        manifest[_unit_key(unit)] = {"job_id": str(job.job_id), "submitted": time.time(),
                                     "log": str(folder / str(job.job_id))}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    waiting = dict(zip(range(len(jobs)), zip(units, jobs, strict=True)))
    poll = float(options.get("poll_seconds", 0.5 if kind != "slurm" else 15))
    while waiting:
        finished = [i for i, (_, job) in waiting.items() if kind == "debug" or job.done()]
        for i in finished:
            unit, job = waiting.pop(i)
            try:
                record = job.result()
            except Exception as exc:  # noqa: BLE001 - a failed job is that unit's failure
                record = failed_record(unit, f"JobFailed: job {job.job_id} failed ({type(exc).__name__}): "
                                             f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''} "
                                             f"(logs in {folder / str(job.job_id)})")
            done(record)
            bar.finished(record)
        if waiting and not finished:
            time.sleep(poll)


def _unit_key(unit: Unit) -> str:
    return f"{unit.claim_id}|{unit.scale}|{unit.seed}"


def _read_manifest(folder: pathlib.Path) -> dict[str, Any]:
    from .store import read_json  # noqa: PLC0415

    return read_json(folder / MANIFEST) or {}


def status(out: str | os.PathLike) -> dict[str, dict[str, list[int]]]:
    """Per claim and scale: the seeds done, failed, running and pending in ``out``.

    Units come from the results store; submitted units without a record
    are ``running`` once their job's log folder exists, else ``pending``.
    """
    from .store import UNITS, ResultsStore, read_json  # noqa: PLC0415

    out = pathlib.Path(out)
    if not out.is_dir():
        raise ValueError(f"--status {out}: no such folder")
    store = ResultsStore(out)
    table: dict[str, dict[str, list[int]]] = {}

    def row(claim: str, scale: str) -> dict[str, list[int]]:
        return table.setdefault(f"{claim} [{scale}]", {"done": [], "failed": [], "running": [], "pending": []})

    seen = set()
    for path in sorted((out / UNITS).glob("*/*/seed-*.json")):
        record = read_json(path)
        if not record:
            continue
        seen.add(f"{record['claim']}|{record['scale']}|{record['seed']}")
        row(record["claim"], record["scale"])["done" if record.get("status") == "ok" else "failed"].append(record["seed"])
    for key, entry in _read_manifest(out / "slurm").items():
        if key in seen:
            continue
        claim, scale, seed = key.split("|")
        log = pathlib.Path(entry.get("log", ""))
        state = "running" if log.is_dir() and any(log.glob("*_log.out")) else "pending"
        row(claim, scale)[state].append(int(seed))
    del store
    for entry in table.values():
        for values in entry.values():
            values.sort()
    return dict(sorted(table.items()))
