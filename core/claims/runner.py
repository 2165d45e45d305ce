"""``etude reproduce``: run claims as per-seed units, record each at once, judge each claim.

The unit of work is one (claim, scale, seed). Every finished unit is
written to the results store immediately (:mod:`etude.claims.store`), so an
interrupted run resumes at the first missing seed and ``seeds=10`` after a
3-seed run computes only seeds 3-9. When all of a claim's seeds are
recorded, its judge turns them into the claim's verdict. One failing unit
or judge is recorded with its error; the rest go on.
"""

from __future__ import annotations

import os
import pathlib
import platform
import socket
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from etude.registry import SCALES, ClaimSpec, get_registry

from .artefacts import cache_dir_for
from .context import JudgeContext
from .outcome import ClaimResult, Outcome, jsonable
from .store import FIGURES, REPORT, RESULTS, ResultsStore, unit_ok
from .units import Unit, run_unit

__all__ = ["EXECUTORS", "REPORT", "RESULTS", "reproduce", "run_claim", "select_claims"]

EXECUTORS = ("local", "slurm", "submitit-local", "submitit-debug")


def select_claims(plugins: Sequence[str] | None = None, claim_ids: Sequence[str] | None = None) -> list[ClaimSpec]:
    """Claims of the given plugins (all if None), filtered by fnmatch patterns on ids."""
    import fnmatch  # noqa: PLC0415

    registry = get_registry()
    chosen: list[ClaimSpec] = []
    for plugin in plugins or [None]:
        chosen += registry.claims(plugin)
    if claim_ids:
        chosen = [c for c in chosen if any(fnmatch.fnmatchcase(c.id, p) for p in claim_ids)]
    seen: dict[str, ClaimSpec] = {}
    for c in chosen:
        seen.setdefault(c.id, c)
    return list(seen.values())


def reproduce(
    plugins: Sequence[str] | None = None,
    *,
    claims: Sequence[str] | None = None,
    scale: str = "quick",
    seeds: int | None = None,
    device: str = "cpu",
    out: str | os.PathLike = "runs/latest",
    progress: bool = True,
    threads: int | None = 1,
    rerun: bool = False,
    jobs: int = 1,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    on_result: Callable[[ClaimResult], Any] | None = None,
) -> list[ClaimResult]:
    """Run the selected claims at ``scale``; write the results store, ``results.json`` and ``report.md`` into ``out``.

    ``seeds`` overrides each claim's default number of seeds (seeds are
    0..N-1). Units already recorded in ``out`` (same scale, seed and device,
    without error) are reused unless ``rerun``; a claim whose units are all
    reused and whose judged result matches is not judged again (its result
    comes back with ``reused=True``). ``threads`` sets
    ``torch.set_num_threads`` on CPU in every process that runs units (None
    leaves torch's default). ``jobs`` > 1 runs units in that many worker
    processes. ``executor="slurm"`` submits them as a SLURM job array through
    submitit instead (``executor_options``: see :mod:`etude.claims.slurm`);
    ``"submitit-local"`` and ``"submitit-debug"`` run that path on this machine.
    """
    _check_arguments(scale=scale, device=device, seeds=seeds, jobs=jobs)
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor != "local":
        from .slurm import check_options  # noqa: PLC0415

        executor_options = check_options(executor_options or {})
    selected = select_claims(plugins, claims)
    plan = [(c, list(range(seeds if seeds is not None else c.default_seeds(scale)))) for c in selected]
    return _run_plan(plan, scale=scale, device=device, out=pathlib.Path(out), progress=progress, threads=threads,
                     rerun=rerun, jobs=jobs, on_result=on_result, executor=executor,
                     executor_options=executor_options or {})


def run_claim(
    claim: ClaimSpec | str,
    *,
    scale: str = "smoke",
    seeds: Sequence[int] = (0,),
    device: str = "cpu",
    out: str | os.PathLike,
    progress: bool = False,
    threads: int | None = None,
    rerun: bool = False,
) -> ClaimResult:
    """Run one claim (a spec or a registered id) on the given seeds in this process and judge it.

    The same path as :func:`reproduce` (units recorded in ``out``), for
    tests and notebooks: ``run_claim("cka/outlier-sensitivity", scale="smoke", out=tmp_path)``.
    """
    spec = get_registry().claim(claim) if isinstance(claim, str) else claim
    _check_arguments(scale=scale, device=device, seeds=None, jobs=1)
    seed_list = [int(s) for s in seeds]
    if not seed_list or any(s < 0 for s in seed_list) or len(set(seed_list)) != len(seed_list):
        raise ValueError(f"seeds must be distinct non-negative integers, got {list(seeds)}")
    (result,) = _run_plan([(spec, sorted(seed_list))], scale=scale, device=device, out=pathlib.Path(out),
                          progress=progress, threads=threads, rerun=rerun, jobs=1, on_result=None)
    return result


def _check_arguments(*, scale: str, device: str, seeds: int | None, jobs: int) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if device not in {"cpu", "cuda"}:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")


@attrs.define
class _Pending:
    claim: ClaimSpec
    seeds: list[int]
    records: dict[int, dict[str, Any] | None]
    missing: set[int]


def _run_plan(
    plan: list[tuple[ClaimSpec, list[int]]],
    *,
    scale: str,
    device: str,
    out: pathlib.Path,
    progress: bool,
    threads: int | None,
    rerun: bool,
    jobs: int,
    on_result: Callable[[ClaimResult], Any] | None,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
) -> list[ClaimResult]:
    from etude.runtime import distributed  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    _configure_torch(device, threads)
    distributed.init()  # under torchrun / srun: every rank runs the units together, rank 0 records
    main = distributed.is_main()
    store = ResultsStore(out, readonly=not main)
    if main:
        store.check_views()
    header = run_header([c for c, _ in plan])
    cache_dir = cache_dir_for(out)
    results: dict[str, ClaimResult] = {}
    pending: dict[str, _Pending] = {}
    units: list[Unit] = []

    def finish(result: ClaimResult) -> None:
        if not result.reused:
            store.write_claim(result)
            store.publish(header)
        results[result.id] = result
        if on_result is not None:
            on_result(result)

    for claim, seed_list in plan:
        if scale not in claim.scales:
            finish(_not_run(claim, scale, seed_list, device))
            continue
        records = {s: None if rerun else store.read_unit(claim.id, scale, s) for s in seed_list}
        missing = {s for s, r in records.items() if not unit_ok(r, device)}
        if not missing:
            previous = None if rerun else store.read_claim(claim.id, scale)
            if (previous is not None and previous.status == "completed" and previous.seeds == seed_list
                    and previous.device == device):
                previous.reused = True
                finish(previous)
            else:
                finish(judge_claim(claim, scale, seed_list, [records[s] for s in seed_list], device=device, out=out,
                                   progress=progress))
            continue
        pending[claim.id] = _Pending(claim, seed_list, records, missing)
        version = _plugin_version(claim.plugin)
        units += [Unit(claim_id=claim.id, run=claim.run, scale=scale, seed=s, device=device,
                       cache_dir=None if cache_dir is None else str(cache_dir), progress=progress and jobs == 1 and executor == "local",
                       threads=threads, plugin_version=version) for s in sorted(missing)]

    def unit_done(record: dict[str, Any]) -> None:
        store.write_unit(record)
        state = pending[record["claim"]]
        state.records[record["seed"]] = record
        state.missing.discard(record["seed"])
        if not state.missing:
            del pending[record["claim"]]
            finish(judge_claim(state.claim, scale, state.seeds, [state.records[s] for s in state.seeds],
                               device=device, out=out, progress=progress))

    from .executors import execute  # noqa: PLC0415

    execute(units, unit_done, jobs=jobs, progress=progress, threads=threads, executor=executor,
            options=executor_options, out=out)
    store.publish(header)
    return [results[c.id] for c, _ in plan if c.id in results]


def _base_result(claim: ClaimSpec, scale: str, seeds: list[int], device: str) -> ClaimResult:
    return ClaimResult(
        id=claim.id,
        plugin=claim.plugin,
        scale=scale,
        holds=None,
        paper=dict(jsonable(claim.paper)),
        statement=claim.statement,
        source=claim.source,
        seeds=list(seeds),
        device=device,
        plugin_version=_plugin_version(claim.plugin),
    )


def _not_run(claim: ClaimSpec, scale: str, seeds: list[int], device: str) -> ClaimResult:
    result = _base_result(claim, scale, seeds, device)
    result.status = "not-run"
    result.notes = f"not run at this scale: this claim runs at {', '.join(claim.scales)}"
    return result


def judge_claim(
    claim: ClaimSpec,
    scale: str,
    seeds: list[int],
    records: list[dict[str, Any] | None],
    *,
    device: str,
    out: pathlib.Path,
    progress: bool = False,
) -> ClaimResult:
    """The claim's result from its units' records (one per seed, in ``seeds`` order)."""
    result = _base_result(claim, scale, seeds, device)
    result.seconds = round(sum(float(r.get("seconds", 0.0)) for r in records if r), 3)
    missing_data = [r for r in records if r and r.get("status") == "data-not-found"]
    if missing_data:  # the dataset's files are not on this machine: not run, with where they go
        result.status = "not-run"
        result.notes = f"not run: data not found. {missing_data[0]['error']}"
        return result
    failed = [(s, r) for s, r in zip(seeds, records, strict=True) if r is None or r.get("status") != "ok"]
    if failed:
        result.status = "error"
        result.failed_seeds = [s for s, _ in failed]
        first_seed, first = failed[0]
        text = first["error"] if first and first.get("error") else "the unit did not finish (no record)"
        result.error = text
        result.notes = f"{len(failed)} of {len(seeds)} seed(s) failed: {result.failed_seeds}; first (seed {first_seed}) shown"
        return result
    from etude.runtime import distributed  # noqa: PLC0415

    figures = out / FIGURES if distributed.is_main() else pathlib.Path(tempfile.mkdtemp(prefix="etude-rank-figures-"))
    ctx = JudgeContext(claim_id=claim.id, scale=scale, seeds=list(seeds), device=device, out_dir=figures,
                       progress=progress)
    start = time.perf_counter()
    try:
        outcome = claim.load_judge()(ctx, [r["measurements"] for r in records])  # type: ignore[index]
        if not isinstance(outcome, Outcome):
            raise TypeError(f"a claim's judge must return etude.claims.Outcome, got {type(outcome).__name__}")
        result.holds = outcome.holds
        result.metrics = dict(jsonable(dict(outcome.metrics)))
        result.notes = outcome.notes
    except Exception as exc:  # noqa: BLE001 - one failing claim must not stop the run
        result.status = "error"
        result.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-4)}"
    result.seconds = round(result.seconds + time.perf_counter() - start, 3)
    result.figures = [os.path.relpath(f, out) for f in ctx.figures]
    return result


def run_header(claims: Sequence[ClaimSpec] = ()) -> dict[str, Any]:
    """What ``results.json`` records about the run: versions, host, date and the source's git commit."""
    import sys  # noqa: PLC0415

    try:
        import torch  # noqa: PLC0415

        torch_version = str(torch.__version__)
    except ImportError:  # pragma: no cover
        torch_version = None
    registry = get_registry()
    return {
        "etude_version": _version(),
        "python": platform.python_version(),
        "torch": torch_version,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": git_commit(),
        "plugins": {p.name: p.version for p in registry.plugins() if p.status == "loaded"},
        "command": " ".join(["etude", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("etude") else None,
    }


def git_commit(path: str | os.PathLike | None = None) -> str | None:
    """The commit of the git checkout holding ``path`` (default: etude's own source), or None."""
    folder = pathlib.Path(path) if path is not None else pathlib.Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def _plugin_version(name: str) -> str | None:
    for record in get_registry().plugins():
        if record.name == name:
            return record.version
    return None


def _configure_torch(device: str, threads: int | None) -> None:
    import torch  # noqa: PLC0415

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch.cuda.is_available() is False")
    if device == "cpu" and threads is not None:
        torch.set_num_threads(threads)


def _version() -> str:
    from etude._version import __version__  # noqa: PLC0415

    return __version__
