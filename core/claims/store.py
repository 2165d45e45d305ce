"""The results store of ``etude reproduce``: one file per unit and per judged claim.

Layout under the run's ``--out`` folder::

    units/<plugin>__<claim>/<scale>/seed-00003.json   one (claim, scale, seed) unit
    claims/<plugin>__<claim>__<scale>.json            the judged claim (a results.json row)
    results.json, report.md                           views of claims/, rewritten under a lock
    figures/                                          the judges' PNGs (named by claim and scale)

Every file is written atomically (temp file, fsync, rename), so a crash
leaves the old file or the new one. Units and claims are separate files,
so any number of processes may write one folder at once; only the views
are shared, and they are rebuilt from ``claims/`` under an exclusive file
lock (``.etude.lock``), so the last writer always publishes every claim.
A file that does not parse is named in a warning, kept aside as
``<name>.corrupt-<time>`` and treated as missing: the run goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from etude.runtime.atomic import atomic_write_text

from .artefacts import file_lock
from .outcome import ClaimResult
from .report import render_report

RESULTS = "results.json"
REPORT = "report.md"
FIGURES = "figures"
UNITS = "units"
CLAIMS = "claims"
LOCK = ".etude.lock"


class CorruptFileWarning(UserWarning):
    """A results file did not parse and was kept aside."""


def claim_stem(claim_id: str) -> str:
    return claim_id.replace("/", "__")


def keep_aside(path: pathlib.Path, reason: str) -> pathlib.Path | None:
    """Rename a damaged file to ``<name>.corrupt-<UTC time>`` and warn, naming it."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.replace(path, aside)
    except FileNotFoundError:  # another process moved it first
        return None
    warnings.warn(f"{path} is not valid ({reason}); kept aside as {aside.name}, going on without it",
                  CorruptFileWarning, stacklevel=3)
    return aside


def read_json(path: pathlib.Path, *, expect: type = dict) -> Any | None:
    """The parsed content of ``path``, or None if missing; a damaged file is kept aside (None)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        keep_aside(path, f"not UTF-8: {exc}")
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        keep_aside(path, f"{exc}")
        return None
    if not isinstance(data, expect):
        keep_aside(path, f"expected a JSON {expect.__name__}, got {type(data).__name__}")
        return None
    return data


class ResultsStore:
    """Per-unit and per-claim result files under one output folder (safe for concurrent writers)."""

    def __init__(self, out: str | os.PathLike, *, readonly: bool = False) -> None:
        self.out = pathlib.Path(out)
        #: a non-zero rank of a distributed run reads but never writes (rank 0 records)
        self.readonly = readonly

    # -- units ----------------------------------------------------------------
    def unit_path(self, claim_id: str, scale: str, seed: int) -> pathlib.Path:
        return self.out / UNITS / claim_stem(claim_id) / scale / f"seed-{seed:05d}.json"

    def read_unit(self, claim_id: str, scale: str, seed: int) -> dict[str, Any] | None:
        path = self.unit_path(claim_id, scale, seed)
        record = read_json(path)
        if record is not None and not {"claim", "scale", "seed", "status"} <= set(record):
            keep_aside(path, "not a unit record (claim, scale, seed, status missing)")
            return None
        return record

    def write_unit(self, record: Mapping[str, Any]) -> pathlib.Path:
        path = self.unit_path(record["claim"], record["scale"], record["seed"])
        if self.readonly:
            return path
        # NaN and inf are kept (Python's JSON extension): the judge sees exactly what the run returned
        atomic_write_text(path, json.dumps(record, indent=1, allow_nan=True) + "\n")
        return path

    # -- claims ---------------------------------------------------------------
    def claim_path(self, claim_id: str, scale: str) -> pathlib.Path:
        return self.out / CLAIMS / f"{claim_stem(claim_id)}__{scale}.json"

    def read_claim(self, claim_id: str, scale: str) -> ClaimResult | None:
        data = read_json(self.claim_path(claim_id, scale))
        return None if data is None else _claim_from(data, self.claim_path(claim_id, scale))

    def write_claim(self, result: ClaimResult) -> None:
        if self.readonly:
            return
        atomic_write_text(self.claim_path(result.id, result.scale), json.dumps(result.as_dict(), indent=2) + "\n")

    def claims(self) -> list[ClaimResult]:
        folder = self.out / CLAIMS
        rows = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            data = read_json(path)
            result = None if data is None else _claim_from(data, path)
            if result is not None:
                rows.append(result)
        return sorted(rows, key=lambda r: (r.id, r.scale))

    # -- views ----------------------------------------------------------------
    def check_views(self) -> None:
        """Keep a damaged ``results.json`` aside (it is a view: the next publish rewrites it)."""
        read_json(self.out / RESULTS)

    def publish(self, header: Mapping[str, Any]) -> list[ClaimResult]:
        """Rewrite ``results.json`` and ``report.md`` from every claim file, under the folder's lock."""
        if self.readonly:
            return self.claims()
        with file_lock(self.out / LOCK):
            self.check_views()
            rows = self.claims()
            payload = {**header, "claims": [r.as_dict() for r in rows]}
            atomic_write_text(self.out / RESULTS, json.dumps(payload, indent=2) + "\n")
            atomic_write_text(self.out / REPORT, render_report(rows))
            _write_html(self.out, rows, header)
        return rows


def _write_html(out: pathlib.Path, rows: list[ClaimResult], header: Mapping[str, Any]) -> None:
    from etude.report import write_html_report  # noqa: PLC0415 - etude.report imports etude.claims

    write_html_report(out, rows, header=header)


def _claim_from(data: Mapping[str, Any], path: pathlib.Path) -> ClaimResult | None:
    try:
        return ClaimResult.from_dict(data)
    except (TypeError, ValueError) as exc:
        keep_aside(path, f"not a claim result: {exc}")
        return None


def plain(value: Any, where: str = "measurements") -> Any:
    """A run's return value as plain JSON values (tensors and numpy to lists and numbers; keys to str).

    NaN and inf stay floats. Anything else is a ``TypeError`` naming where it is.
    """
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int, float, bool)):
                raise TypeError(f"{where}: dict key {k!r} is a {type(k).__name__}; use str keys")
            out[str(k)] = plain(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # torch / numpy
        return plain(value.tolist(), where)
    raise TypeError(
        f"{where} is a {type(value).__name__}; a claim's run must return plain JSON-able values "
        "(numbers, str, bool, None, lists, dicts with str keys; tensors and arrays are converted)"
    )


def roundtrip(value: Any) -> Any:
    """What a stored measurement reads back as (so fresh and resumed runs judge the same data)."""
    return json.loads(json.dumps(value, allow_nan=True))


def unit_ok(record: Mapping[str, Any] | None, device: str) -> bool:
    return record is not None and record.get("status") == "ok" and record.get("device") == device


__all__ = ["CorruptFileWarning", "ResultsStore", "keep_aside", "plain", "read_json", "roundtrip", "unit_ok"]


def iter_units(store: ResultsStore, claim_id: str, scale: str, seeds: Iterable[int]) -> list[dict[str, Any] | None]:
    return [store.read_unit(claim_id, scale, s) for s in seeds]
