"""A run of ``etude reproduce`` as the report sees it: its header, its claims, its figures.

Examples:
    >>> import json, pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (out / "results.json").write_text(json.dumps({"etude_version": "0.1.0", "claims": [
    ...     {"id": "p/c", "plugin": "p", "scale": "quick", "holds": False, "metrics": {}, "seconds": 1.5,
    ...      "error": None}]}))
    >>> run = load_run(out)
    >>> run.counts["fails"], run.scales, run.seconds
    (1, ['quick'], 1.5)
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from etude.claims.outcome import ClaimResult

from .model import VERDICT_ORDER, ClaimView

RESULTS = "results.json"
#: keys of a run's header shown in the overview, in this order (others follow)
HEADER_KEYS = ("etude_version", "date", "git_commit", "host", "python", "torch", "platform", "command")


class ResultsNotFoundError(FileNotFoundError, ValueError):
    """A report was asked of a folder without ``results.json``."""


@attrs.define
class Run:
    """The claims of one results file, in plugin then claim order."""

    path: pathlib.Path | None
    label: str
    header: dict[str, Any]
    claims: list[ClaimView]

    @property
    def by_key(self) -> dict[tuple[str, str], ClaimView]:
        return {c.key: c for c in self.claims}

    @property
    def plugins(self) -> list[str]:
        return sorted({c.result.plugin for c in self.claims})

    def plugin_claims(self, plugin: str) -> list[ClaimView]:
        return [c for c in self.claims if c.result.plugin == plugin]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(VERDICT_ORDER, 0)
        for c in self.claims:
            counts[c.verdict_class] += 1
        return counts

    @property
    def scales(self) -> list[str]:
        return sorted({c.result.scale for c in self.claims})

    @property
    def devices(self) -> list[str]:
        return sorted({c.result.device for c in self.claims})

    @property
    def seconds(self) -> float:
        return round(sum(float(c.result.seconds or 0.0) for c in self.claims), 3)

    @property
    def seed_counts(self) -> list[int]:
        return sorted({len(c.result.seeds) for c in self.claims if c.result.status != "not-run"})

    @property
    def plugin_versions(self) -> dict[str, str]:
        versions = dict(self.header.get("plugins") or {})
        for c in self.claims:
            version = c.row.get("plugin_version")
            if version and c.result.plugin not in versions:
                versions[c.result.plugin] = version
        return {k: str(v) for k, v in sorted(versions.items()) if v}

    @property
    def header_items(self) -> list[tuple[str, str]]:
        keys = [k for k in HEADER_KEYS if self.header.get(k)]
        keys += [k for k, v in self.header.items() if k not in keys and k != "plugins" and isinstance(v, (str, int, float))]
        return [(k, str(self.header[k])) for k in keys]


def read_results(path: str | os.PathLike) -> tuple[pathlib.Path, dict[str, Any]]:
    """The parsed ``results.json`` of a run folder (or the file itself) and the folder figures are relative to."""
    path = pathlib.Path(path)
    file = path / RESULTS if path.is_dir() else path
    if not file.exists():
        raise ResultsNotFoundError(
            f"no {RESULTS} in {path}: run `etude reproduce --out {path}` first, or give a folder that has one")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not valid JSON ({exc}); rerun `etude reproduce` into a fresh folder") from exc
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise ValueError(f"{file} has no 'claims' list: is it a results file of etude reproduce?")
    return file.parent, data


def load_run(path: str | os.PathLike, *, label: str | None = None, rules: bool = True, embed: bool = True) -> Run:
    """Read a run folder's ``results.json`` (and its figures, and its per-seed unit records when present)."""
    base, data = read_results(path)
    rows = [dict(r) for r in data["claims"] if isinstance(r, dict)]
    header = {k: v for k, v in data.items() if k != "claims"}
    if isinstance(header.get("run"), Mapping):  # a nested header
        header = {**header, **header.pop("run")}
    return make_run(rows, path=base, label=label or _label(pathlib.Path(path)), header=header, rules=rules, embed=embed)


def make_run(rows: Iterable[ClaimResult | Mapping[str, Any]], *, path: pathlib.Path | None = None, label: str = "run",
             header: Mapping[str, Any] | None = None, rules: bool = True, embed: bool = True) -> Run:
    """A :class:`Run` from result rows in memory (what ``reproduce`` has just recorded)."""
    rows = list(rows)
    if path is not None:  # the run's folder: its unit records give the per-seed measurements
        rows = [_with_units(path, r.as_dict() if isinstance(r, ClaimResult) else dict(r)) for r in rows]
    ids = [r.id if isinstance(r, ClaimResult) else str(r.get("id", "")) for r in rows]
    known = claim_rules(ids) if rules else {}
    views = [ClaimView.from_row(r, base=path, rules=known, embed=embed) for r in rows]
    views.sort(key=lambda v: (v.result.plugin, v.result.id, v.result.scale))
    return Run(path=path, label=label, header=dict(header or {}), claims=views)


def _label(path: pathlib.Path) -> str:
    folder = path if path.is_dir() else path.parent
    return str(folder)


def _with_units(base: pathlib.Path, row: dict[str, Any]) -> dict[str, Any]:
    """Add the per-seed measurements of the run's unit records (``units/<claim>/<scale>/seed-N.json``)."""
    if row.get("measurements") is not None:
        return row
    folder = base / "units" / str(row.get("id", "")).replace("/", "__") / str(row.get("scale", ""))
    seeds = row.get("seeds") or []
    if not folder.is_dir() or not seeds:
        return row
    records = []
    for seed in seeds:
        file = folder / f"seed-{int(seed):05d}.json"
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        records.append(record.get("measurements") if isinstance(record, dict) else None)
    if any(r is not None for r in records):
        row["measurements"] = records
    return row


_CRITERION = re.compile(r"\b(criterion|criteria|verdict|holds when|holds if|holds iff|true if|false if)\b", re.IGNORECASE)
_POINTER = re.compile(r"\brule in\b", re.IGNORECASE)  # a judge's "Verdict of X (rule in the run's docstring)"


def criterion(doc: str) -> str:
    """The paragraphs of a docstring that state a verdict rule (criterion / verdict / holds when), joined."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc) if p.strip()]
    chosen = [p for p in paragraphs if _CRITERION.search(p) and not _POINTER.search(p)]
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in chosen)


def claim_rules(ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``{claim id: (criterion, docstrings)}`` from the installed claims' judge and run functions.

    The criterion is what the judge's docstring states, else what the run's
    states (judges often point there); the docstrings are both, the run's
    first. Claims that are not installed (a results file from elsewhere) are
    left out; the report then shows the row's own ``rule`` field if it has one.
    """
    try:
        from etude.registry import get_registry  # noqa: PLC0415
        from etude.registry.specs import resolve_reference  # noqa: PLC0415

        specs = {c.id: c for c in get_registry().claims()}
    except Exception:  # noqa: BLE001 - a report never fails because discovery did
        return {}
    found = {}
    for claim_id in set(ids) & set(specs):
        docs = {}
        for role in ("judge", "run"):
            ref = getattr(specs[claim_id], role, None)
            if ref is None:
                continue
            try:
                docs[role] = inspect.getdoc(resolve_reference(ref)) or ""
            except Exception:  # noqa: BLE001 - an unimportable claim module: no rule shown
                continue
        rule = criterion(docs.get("judge", "")) or criterion(docs.get("run", ""))
        text = "\n\n".join(f"{role}: {doc}" for role, doc in sorted(docs.items(), key=lambda kv: kv[0] != "run")
                            if doc and not (role == "judge" and _POINTER.search(doc) and len(doc) < 200))
        if rule or text:
            found[claim_id] = (rule, text)
    return found
