"""``etude reproduce``: run claims, record results, never crash on one claim."""

from __future__ import annotations

import json
import os
import pathlib
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from etude.registry import SCALES, ClaimSpec, get_registry
from etude.runtime.atomic import atomic_write_text

from .context import ClaimContext
from .outcome import ClaimResult, Outcome, jsonable
from .report import render_report

RESULTS = "results.json"
REPORT = "report.md"
FIGURES = "figures"


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


def load_results(out: pathlib.Path) -> dict[tuple[str, str], ClaimResult]:
    path = out / RESULTS
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {(r["id"], r["scale"]): ClaimResult.from_dict(r) for r in data.get("claims", [])}


def write_results(out: pathlib.Path, results: dict[tuple[str, str], ClaimResult]) -> None:
    rows = sorted(results.values(), key=lambda r: (r.id, r.scale))
    payload = {"etude_version": _version(), "claims": [r.as_dict() for r in rows]}
    atomic_write_text(out / RESULTS, json.dumps(payload, indent=2, sort_keys=False) + "\n")
    atomic_write_text(out / REPORT, render_report(rows))
    _write_html(out, rows)


def _write_html(out: pathlib.Path, rows: list[ClaimResult]) -> None:
    from etude.report import write_html_report  # noqa: PLC0415 - etude.report imports etude.claims

    write_html_report(out, rows)


def run_claim(
    claim: ClaimSpec, *, scale: str, seeds: list[int], device: str, out: pathlib.Path, progress: bool
) -> ClaimResult:
    """Run one claim in isolation: any exception becomes the result's ``error``."""
    result = ClaimResult(
        id=claim.id,
        plugin=claim.plugin,
        scale=scale,
        holds=None,
        paper=dict(jsonable(claim.paper)),
        statement=claim.statement,
        source=claim.source,
        seeds=list(seeds),
        device=device,
    )
    if scale not in claim.scales:
        result.status = "not-run"
        result.notes = f"not run at this scale: this claim runs at {', '.join(claim.scales)}"
        return result
    ctx = ClaimContext(claim_id=claim.id, scale=scale, seeds=list(seeds), device=device, out_dir=out / FIGURES, progress=progress)
    start = time.perf_counter()
    try:
        _seed_all(seeds[0] if seeds else 0)
        outcome = claim.load()(ctx)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"claim function must return etude.claims.Outcome, got {type(outcome).__name__}")
        result.holds = outcome.holds
        result.metrics = dict(jsonable(dict(outcome.metrics)))
        result.notes = outcome.notes
    except Exception as exc:  # noqa: BLE001 - one failing claim must not stop the run
        result.status = "error"
        result.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
    result.seconds = round(time.perf_counter() - start, 3)
    result.figures = [os.path.relpath(f, out) for f in ctx.figures]
    return result


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
    on_result: Callable[[ClaimResult], Any] | None = None,
) -> list[ClaimResult]:
    """Run the selected claims at ``scale`` and write ``results.json`` and ``report.md`` into ``out``.

    Claims already completed in ``out`` at the same scale and seed count are
    skipped unless ``rerun``. ``threads`` sets ``torch.set_num_threads`` on
    CPU (None leaves torch's default). ``seeds`` overrides each claim's
    default number of seeds (seeds are 0..N-1).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if device not in {"cpu", "cuda"}:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if seeds is not None and seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    out_path = pathlib.Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    _configure_torch(device, threads)
    selected = select_claims(plugins, claims)
    results = load_results(out_path)
    ran: list[ClaimResult] = []
    iterator: Any = selected
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        iterator = tqdm(selected, desc="claims", unit="claim")
    for claim in iterator:
        n = seeds if seeds is not None else claim.default_seeds(scale)
        seed_list = list(range(n))
        previous = results.get((claim.id, scale))
        if (
            not rerun
            and previous is not None
            and previous.status != "error"
            and len(previous.seeds) == n
            and previous.device == device
        ):
            ran.append(previous)
            continue
        if progress and hasattr(iterator, "set_postfix_str"):
            iterator.set_postfix_str(claim.id)
        result = run_claim(claim, scale=scale, seeds=seed_list, device=device, out=out_path, progress=progress)
        results[(claim.id, scale)] = result
        write_results(out_path, results)
        ran.append(result)
        if on_result is not None:
            on_result(result)
    write_results(out_path, results)
    return ran


def _configure_torch(device: str, threads: int | None) -> None:
    import torch  # noqa: PLC0415

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch.cuda.is_available() is False")
    if device == "cpu" and threads is not None:
        torch.set_num_threads(threads)


def _seed_all(seed: int) -> None:
    from etude.runtime.seeding import seed_everything  # noqa: PLC0415

    seed_everything(seed)


def _version() -> str:
    from etude._version import __version__  # noqa: PLC0415

    return __version__
