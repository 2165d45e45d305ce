"""What a report shows, computed from result rows: runs, claims, aligned metrics, seeds, intervals.

The report modules never run anything; they read ``results.json`` rows
(:class:`etude.claims.ClaimResult` or the plain dicts of the file) and turn
them into the views the HTML and Markdown templates render. Rows written by
older or newer runners are read the same way: unknown keys are ignored,
missing ones default.

Examples:
    >>> from etude.claims import ClaimResult
    >>> row = ClaimResult(id="p/c", plugin="p", scale="quick", holds=True, seeds=[0, 1],
    ...                   paper={"acc": 0.9}, metrics={"acc": 0.88, "per_seed_acc": [0.87, 0.89]})
    >>> view = ClaimView.from_row(row)
    >>> view.verdict_class, [m.name for m in view.metrics], view.per_seed.columns
    ('holds', ['acc'], ['acc'])
"""

from __future__ import annotations

import json
import math
import pathlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from etude.claims.outcome import ClaimResult

#: verdict text (``ClaimResult.verdict``) -> the CSS / filter class of the report
VERDICT_CLASSES = {
    "holds": "holds",
    "does not hold": "fails",
    "inconclusive": "inconclusive",
    "not run at this scale": "not-run",
    "error": "error",
}
VERDICT_ORDER = ["holds", "fails", "inconclusive", "not-run", "error"]
VERDICT_LABELS = {"holds": "holds", "fails": "does not hold", "inconclusive": "inconclusive",
                  "not-run": "not run", "error": "error"}
VERDICT_SYMBOLS = {"holds": "✓", "fails": "✗", "inconclusive": "?", "not-run": "–", "error": "!"}
#: prefixes a paper figure's key may carry that the measured metric does not (``pilot_acc`` ~ ``acc``)
PAPER_PREFIXES = ("paper_", "pilot_", "table_", "reported_")
_INTERVAL = re.compile(r"^(?P<prefix>.*?)(?P<side>ci_low|ci_high)$")
_NUMBER = (int, float)


def is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def as_float(value: Any) -> float:
    """A metric value as a float: numbers as they are, None (NaN/inf in JSON) as NaN."""
    if is_number(value):
        return float(value)
    return math.nan


def format_value(value: Any, digits: int = 4) -> str:
    """A short human rendering of a metric value (``nan`` for None, 4 significant digits)."""
    if value is None:
        return "nan"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return "0" if value == 0 else f"{value:.{digits}g}"  # never "-0"
    if isinstance(value, (list, tuple)):
        if len(value) > 8:
            return "[" + ", ".join(format_value(v, digits) for v in value[:6]) + f", … ({len(value)} values)]"
        return "[" + ", ".join(format_value(v, digits) for v in value) + "]"
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


@attrs.frozen
class MetricRow:
    """One line of the paper-versus-ours table: the paper's figure and ours for one quantity."""

    name: str
    ours: Any = None
    paper: Any = None
    ours_name: str | None = None  # the metric aligned to a paper key (None: not measured)
    has_paper: bool = False

    @property
    def delta(self) -> float:
        """ours - paper when both are numbers (NaN otherwise)."""
        if is_number(self.ours) and is_number(self.paper):
            return float(self.ours) - float(self.paper)
        return math.nan


@attrs.frozen
class Interval:
    """The interval a verdict used: ``<prefix>ci_low`` / ``<prefix>ci_high`` around ``<prefix>mean_diff``."""

    name: str
    low: float
    high: float
    centre: float = math.nan
    n: int | None = None

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@attrs.frozen
class PerSeed:
    """Per-seed values: ``values[column][i]`` is the value at ``seeds[i]`` (None where missing)."""

    seeds: list[int] = attrs.field(factory=list)
    columns: list[str] = attrs.field(factory=list)
    values: dict[str, list[Any]] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns)


@attrs.frozen
class Figure:
    name: str
    path: str
    data_uri: str | None = None  # None when the PNG could not be read
    missing: str = ""


def align_metrics(paper: Mapping[str, Any], metrics: Mapping[str, Any], skip: Iterable[str] = ()) -> list[MetricRow]:
    """The paper's keys first (each with the measured metric of the same quantity), then our other metrics.

    A paper key ``k`` is matched with the metric named ``k``, else ``k`` without
    a prefix of :data:`PAPER_PREFIXES`, else the longest metric name that ends
    ``k`` at a ``_`` boundary. Per-seed lists and the names in ``skip`` are
    left to the per-seed table.
    """
    skip = set(skip)
    used: set[str] = set()
    rows = []
    candidates = [m for m in metrics if m not in skip]
    for key, value in paper.items():
        match = _match(key, candidates, used)
        if match is not None:
            used.add(match)
        rows.append(MetricRow(name=key, paper=value, ours=metrics.get(match) if match else None,
                              ours_name=match, has_paper=True))
    for name in candidates:
        if name not in used:
            rows.append(MetricRow(name=name, ours=metrics[name], ours_name=name))
    return rows


def _match(key: str, names: Sequence[str], used: set[str]) -> str | None:
    free = [n for n in names if n not in used]
    if key in free:
        return key
    for prefix in PAPER_PREFIXES:
        if key.startswith(prefix) and key[len(prefix):] in free:
            return key[len(prefix):]
    tails = [n for n in free if key.endswith("_" + n)]
    return max(tails, key=len) if tails else None


def intervals(metrics: Mapping[str, Any]) -> list[Interval]:
    """Every ``<prefix>ci_low`` / ``<prefix>ci_high`` pair of the metrics (``paired_comparison().as_dict``)."""
    found = []
    for name, value in metrics.items():
        m = _INTERVAL.match(name)
        if not m or m["side"] != "ci_low":
            continue
        prefix = m["prefix"]
        high = metrics.get(f"{prefix}ci_high")
        if high is None and value is None:
            continue
        centre = metrics.get(f"{prefix}mean_diff", metrics.get(f"{prefix}mean"))
        n = metrics.get(f"{prefix}n")
        found.append(Interval(name=(prefix.rstrip("_") or "mean difference"), low=as_float(value),
                              high=as_float(high), centre=as_float(centre), n=n if is_number(n) else None))
    return found


def _flatten(measurements: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in measurements.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        elif is_number(value) or value is None or isinstance(value, bool):
            flat[name] = value
    return flat


def per_seed(row: Mapping[str, Any], seeds: Sequence[int], max_columns: int = 12) -> tuple[PerSeed, set[str]]:
    """The per-seed table of a row, and the metric names it took over.

    Sources, in order: the judge's ``per_seed`` metric (a list of dicts, one
    per seed), else the row's per-seed measurement records (``measurements``,
    from the run's unit files: a list ordered like ``seeds`` or a mapping
    seed -> dict); their scalar leaves become columns. Then metrics that are
    lists with one number per seed (``per_seed_acc`` becomes column ``acc``).
    """
    seeds = list(seeds)
    columns: dict[str, list[Any]] = {}
    taken: set[str] = set()
    metrics = row.get("metrics") or {}
    # the judge's own per-seed summary (what the verdict used) first, else the units' raw measurements
    sources = [("metrics.per_seed", metrics.get("per_seed"))] + [(f, row.get(f)) for f in ("per_seed", "measurements", "runs")]
    for field, records in sources:
        if isinstance(records, Mapping):
            records = [records.get(str(s), records.get(s)) for s in seeds]  # type: ignore[call-overload]
        if isinstance(records, list) and records and len(records) == len(seeds):
            flats = [_flatten(r) if isinstance(r, Mapping) else {} for r in records]
            if not any(flats):
                continue
            for name in dict.fromkeys(k for f in flats for k in f):
                values = [f.get(name) for f in flats]
                if name.rsplit(".", 1)[-1] != "seed" or values != seeds:  # the seed column is the table's own
                    columns[name] = values
            if field == "metrics.per_seed":
                taken.add("per_seed")
            break
    for name, value in metrics.items():
        if (isinstance(value, list) and len(value) == len(seeds) and len(seeds) > 0
                and all(is_number(v) or v is None for v in value)):
            column = name[len("per_seed_"):] if name.startswith("per_seed_") else name
            columns.setdefault(column, list(value))
            taken.add(name)
    names = list(columns)[:max_columns]
    return PerSeed(seeds=seeds, columns=names, values={n: columns[n] for n in names}), taken


def verdict_class(result: ClaimResult) -> str:
    return VERDICT_CLASSES.get(result.verdict, "inconclusive")


@attrs.define
class ClaimView:
    """One claim of one run, ready to render."""

    result: ClaimResult
    row: dict[str, Any]
    metrics: list[MetricRow]
    per_seed: PerSeed
    intervals: list[Interval]
    figures: list[Figure] = attrs.field(factory=list)
    rule: str = ""
    doc: str = ""

    @classmethod
    def from_row(cls, row: ClaimResult | Mapping[str, Any], *, base: pathlib.Path | None = None,
                 rules: Mapping[str, tuple[str, str]] | None = None, embed: bool = True) -> ClaimView:
        if isinstance(row, ClaimResult):
            result, data = row, row.as_dict()
        else:
            data = dict(row)
            result = ClaimResult.from_dict({**data, "holds": data.get("holds"), "id": data.get("id", "?/?"),
                                            "plugin": data.get("plugin", str(data.get("id", "?")).split("/")[0]),
                                            "scale": data.get("scale", "?")})
        metrics = dict(result.metrics or {})
        table, taken = per_seed(data, result.seeds)
        rows = align_metrics(dict(result.paper or {}), metrics, skip=taken)
        prefixes = (result.id.replace("/", "__"), result.scale)
        figures = [load_figure(f, base, embed=embed, prefixes=prefixes) for f in result.figures]
        rule, doc = (rules or {}).get(result.id, (str(data.get("rule") or ""), str(data.get("doc") or "")))
        return cls(result=result, row=data, metrics=rows, per_seed=table, intervals=intervals(metrics),
                   figures=figures, rule=rule, doc=doc)

    @property
    def id(self) -> str:
        return self.result.id

    @property
    def key(self) -> tuple[str, str]:
        return (self.result.id, self.result.scale)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{self.result.id}-{self.result.scale}").strip("-")

    @property
    def short_name(self) -> str:
        return self.result.id.split("/", 1)[-1]

    @property
    def verdict_class(self) -> str:
        return verdict_class(self.result)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict_class]

    @property
    def symbol(self) -> str:
        return VERDICT_SYMBOLS[self.verdict_class]

    @property
    def headline(self) -> MetricRow | None:
        """The first paper figure we measured (else the first paper figure, else our first number)."""
        measured = [m for m in self.metrics if m.has_paper and m.ours_name is not None]
        if measured:
            return measured[0]
        papers = [m for m in self.metrics if m.has_paper]
        if papers:
            return papers[0]
        numbers = [m for m in self.metrics if is_number(m.ours)]
        return numbers[0] if numbers else None

    @property
    def first_number(self) -> MetricRow | None:
        """Our first numeric metric (what to show beside a paper figure we could not align)."""
        return next((m for m in self.metrics if m.ours_name and is_number(m.ours)), None)

    @property
    def error_summary(self) -> str:
        error = self.result.error or ""
        lines = [line for line in error.splitlines() if line.strip()]
        return lines[0] if lines else ""

    @property
    def search_text(self) -> str:
        r = self.result
        return " ".join([r.id, r.statement, r.source, r.notes, self.verdict_label, r.scale]).lower()


def load_figure(path: str, base: pathlib.Path | None, *, embed: bool = True, prefixes: Sequence[str] = ()) -> Figure:
    """A figure of a row, its PNG read from ``base / path`` and embedded as a ``data:`` URI.

    Its caption is the file's stem without the ``prefixes`` (the claim's stem and scale).
    """
    import base64  # noqa: PLC0415

    name = pathlib.Path(path).stem
    for prefix in prefixes:
        if name.startswith(prefix + "-") and len(name) > len(prefix) + 1:
            name = name[len(prefix) + 1:]
    file = pathlib.Path(path) if base is None else base / path
    if not embed:
        return Figure(name=name, path=path, missing="figures are not embedded in this page")
    try:
        data = file.read_bytes()
    except OSError as exc:
        return Figure(name=name, path=path, missing=f"figure file not found: {file} ({type(exc).__name__})")
    kind = "image/svg+xml" if file.suffix.lower() == ".svg" else "image/png"
    return Figure(name=name, path=path, data_uri=f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}")
