"""Comparison of runs: per claim, every run's verdict and the metric deltas against the baseline.

The first run is the baseline, the last the current one. A claim whose
verdict differs between any two runs is *changed*; one that held in the
baseline and does not hold now (or errs) is a *regression*. A metric
*moved* when its current value differs from the baseline's (relative
difference above ``tolerance``; NaN counts as a value, so a metric that
became NaN moved).

Examples:
    >>> from etude.claims import ClaimResult
    >>> from etude.report.runs import make_run
    >>> a = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=True, metrics={"acc": 0.9})],
    ...              label="a", rules=False)
    >>> b = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=False, metrics={"acc": 0.8})],
    ...              label="b", rules=False)
    >>> row = compare_runs([a, b]).claims[0]
    >>> row.changed, row.regression, [(d.name, round(d.delta, 3)) for d in row.moved]
    (True, True, [('acc', -0.1)])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from .model import VERDICT_LABELS, ClaimView, as_float, is_number
from .runs import Run


@attrs.frozen
class MetricDelta:
    name: str
    before: Any
    after: Any
    is_paper: bool = False

    @property
    def delta(self) -> float:
        return as_float(self.after) - as_float(self.before)

    @property
    def relative(self) -> float:
        before = as_float(self.before)
        return self.delta / abs(before) if before not in (0.0,) and math.isfinite(before) else math.nan

    def moved(self, tolerance: float = 0.0) -> bool:
        a, b = as_float(self.before), as_float(self.after)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) != math.isnan(b)
        scale = max(abs(a), abs(b), 1e-12)
        return abs(b - a) / scale > max(tolerance, 1e-12)


@attrs.frozen
class ClaimComparison:
    """One claim (id, scale) across the runs; ``views[i]`` is None where run ``i`` lacks it."""

    id: str
    scale: str
    plugin: str
    views: list[ClaimView | None]
    deltas: list[MetricDelta]
    tolerance: float = 0.0

    @property
    def verdicts(self) -> list[str | None]:
        return [v.verdict_class if v is not None else None for v in self.views]

    @property
    def verdict_labels(self) -> list[str]:
        return [VERDICT_LABELS[v] if v else "absent" for v in self.verdicts]

    @property
    def changed(self) -> bool:
        present = [v for v in self.verdicts if v is not None]
        return len(set(present)) > 1

    @property
    def regression(self) -> bool:
        """Held in the baseline, and the current run has it not holding (or erring)."""
        first, last = self.verdicts[0], self.verdicts[-1]
        return first == "holds" and last in {"fails", "error", "inconclusive"}

    @property
    def improvement(self) -> bool:
        first, last = self.verdicts[0], self.verdicts[-1]
        return first is not None and first != "holds" and last == "holds"

    def delta(self, name: str) -> MetricDelta | None:
        return next((d for d in self.deltas if d.name == name), None)

    @property
    def moved(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.moved(self.tolerance)]

    @property
    def status(self) -> str:
        if self.views[0] is None:
            return "new"
        if self.views[-1] is None:
            return "gone"
        if self.regression:
            return "regression"
        if self.improvement:
            return "improvement"
        if self.changed:
            return "changed"
        if self.moved:
            return "moved"
        return "same"

    @property
    def anchor(self) -> str:
        view = next(v for v in reversed(self.views) if v is not None)
        return view.anchor


@attrs.frozen
class Comparison:
    runs: list[Run]
    claims: list[ClaimComparison]

    @property
    def baseline(self) -> Run:
        return self.runs[0]

    @property
    def current(self) -> Run:
        return self.runs[-1]

    @property
    def changed(self) -> list[ClaimComparison]:
        return [c for c in self.claims if c.changed or c.status in {"new", "gone"}]

    @property
    def regressions(self) -> list[ClaimComparison]:
        return [c for c in self.claims if c.regression]

    def for_key(self, key: tuple[str, str]) -> ClaimComparison | None:
        return next((c for c in self.claims if (c.id, c.scale) == key), None)


def metric_deltas(before: ClaimView | None, after: ClaimView | None) -> list[MetricDelta]:
    """Numeric metrics present in both (paper-aligned ones first), with NaN (None) kept as NaN."""
    if before is None or after is None:
        return []
    old, new = dict(before.result.metrics or {}), dict(after.result.metrics or {})
    paper_names = [m.ours_name for m in after.metrics if m.has_paper and m.ours_name]
    names = [n for n in paper_names if n in old] + [n for n in new if n in old and n not in paper_names]
    deltas = []
    for name in names:
        a, b = old[name], new[name]
        if (is_number(a) or a is None) and (is_number(b) or b is None) and not (a is None and b is None):
            deltas.append(MetricDelta(name=name, before=a, after=b, is_paper=name in paper_names))
    return deltas


def compare_runs(runs: Sequence[Run], *, tolerance: float = 0.0) -> Comparison:
    """Compare runs claim by claim (keyed by claim id and scale); the first run is the baseline."""
    if len(runs) < 2:
        raise ValueError(f"a comparison needs at least two runs, got {len(runs)}")
    keys: dict[tuple[str, str], str] = {}
    for run in runs:
        for view in run.claims:
            keys.setdefault(view.key, view.result.plugin)
    rows = []
    for (claim_id, scale), plugin in sorted(keys.items(), key=lambda kv: (kv[1], kv[0])):
        views = [run.by_key.get((claim_id, scale)) for run in runs]
        rows.append(ClaimComparison(id=claim_id, scale=scale, plugin=plugin, views=views,
                                    deltas=metric_deltas(views[0], views[-1]), tolerance=tolerance))
    return Comparison(runs=list(runs), claims=rows)


def comparison_text(comparison: Comparison) -> str:
    """A terminal summary: claims whose verdict changed, then claims whose metrics moved."""
    labels = [r.label for r in comparison.runs]
    lines = [f"compared {len(comparison.claims)} claims across {' -> '.join(labels)}"]
    changed = comparison.changed
    if changed:
        lines.append(f"verdict changed ({len(changed)}):")
        for c in changed:
            flag = "REGRESSION " if c.regression else ""
            lines.append(f"  {flag}{c.id} [{c.scale}]: {' -> '.join(c.verdict_labels)}")
    else:
        lines.append("no verdict changed")
    moved = [c for c in comparison.claims if c.moved and c not in changed]
    for c in moved:
        parts = ", ".join(f"{d.name} {_fmt(d.before)} -> {_fmt(d.after)}" for d in c.moved[:4])
        more = f" (+{len(c.moved) - 4} more)" if len(c.moved) > 4 else ""
        lines.append(f"  metrics moved: {c.id} [{c.scale}]: {parts}{more}")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    from .model import format_value  # noqa: PLC0415

    return format_value(value)
