"""report.md: one table per plugin with the paper's figure beside our measurement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .outcome import ClaimResult


def format_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return "0" if value == 0 else f"{value:.4g}"  # never "-0"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_mapping(values: Mapping[str, Any]) -> str:
    return "; ".join(f"{k} = {format_value(v)}" for k, v in values.items()) or "-"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(results: Iterable[ClaimResult], *, title: str = "etude reproduce") -> str:
    """Markdown report: per plugin, claim / paper / measured / verdict, then figures."""
    results = list(results)
    lines = [f"# {title}", ""]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    lines.append("Verdicts: " + (", ".join(f"{v}: {n}" for v, n in sorted(counts.items())) or "none"))
    lines.append("")
    by_plugin: dict[str, list[ClaimResult]] = {}
    for r in results:
        by_plugin.setdefault(r.plugin, []).append(r)
    for plugin, rows in sorted(by_plugin.items()):
        lines += [f"## {plugin}", "", "| claim | scale | paper | measured | verdict | seconds |", "|---|---|---|---|---|---|"]
        for r in sorted(rows, key=lambda r: r.id):
            measured = format_mapping(r.metrics) if not r.error else f"error: {r.error.splitlines()[-1]}"
            lines.append(
                f"| `{r.id}` | {r.scale} | {_cell(format_mapping(r.paper))} | {_cell(measured)} "
                f"| **{r.verdict}** | {r.seconds:.1f} |"
            )
        lines.append("")
        for r in sorted(rows, key=lambda r: r.id):
            if r.statement:
                lines.append(f"- `{r.id}` ({r.source}): {r.statement}")
            if r.notes:
                lines.append(f"  - notes: {r.notes}")
            for fig in r.figures:
                lines.append(f"  - ![{r.id}]({fig})")
        lines.append("")
    return "\n".join(lines)
