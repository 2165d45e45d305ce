"""The docs' reproductions pages: MyST Markdown from committed reference results files.

A reference file is the ``results.json`` of a run (``make reference-results``
writes ``docs/reproductions/quick-cpu.json`` from ``make demo``'s run;
``full-gpu.json`` when a GPU run exists), without figure paths. The
Reproductions page shows, per reference file, the verdict matrix and every
claim with the paper's numbers beside ours; each plugin's page shows its own
claims' latest verdicts from the same files.

Examples:
    >>> from etude.claims import ClaimResult
    >>> from etude.report.runs import make_run
    >>> run = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=True)], rules=False)
    >>> "| `p/c` | quick | ✓ holds |" in plugin_section({"quick on CPU": run}, "p")
    True
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from typing import Any

from .markdown import headline_text
from .model import VERDICT_LABELS, VERDICT_ORDER, VERDICT_SYMBOLS, ClaimView, format_value
from .runs import Run, load_run, make_run

#: reference files in the order the page shows them, with their section titles
REFERENCE_TITLES = {"quick-cpu": "quick scale on CPU", "full-gpu": "full scale on a GPU"}


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else format_value(value)
    return text.replace("|", "\\|").replace("\n", " ").replace("{", "&#123;").replace("}", "&#125;") or " "


def load_references(folder: str | os.PathLike) -> dict[str, Run]:
    """``{title: run}`` for every ``*.json`` reference file of ``folder`` (quick-cpu first, then full-gpu, then others)."""
    folder = pathlib.Path(folder)
    files = sorted(folder.glob("*.json"), key=lambda p: (list(REFERENCE_TITLES).index(p.stem)
                                                         if p.stem in REFERENCE_TITLES else len(REFERENCE_TITLES), p.stem))
    return {REFERENCE_TITLES.get(f.stem, f.stem): load_run(f, label=f.name, embed=False) for f in files}


def reference_rows(results: str | os.PathLike) -> dict[str, Any]:
    """A run's results file as a reference file: every row, the header, no figure paths (they are not committed)."""
    data = json.loads((pathlib.Path(results) / "results.json" if pathlib.Path(results).is_dir()
                       else pathlib.Path(results)).read_text(encoding="utf-8"))
    rows = []
    for row in data.get("claims", []):
        row = dict(row)
        row["figures"] = []
        rows.append(row)
    header = {k: v for k, v in data.items() if k != "claims"}
    return {**header, "claims": sorted(rows, key=lambda r: (r.get("id", ""), r.get("scale", "")))}


def write_reference(results: str | os.PathLike, target: str | os.PathLike) -> pathlib.Path:
    """Write the reference file ``target`` from a run folder's ``results.json``."""
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(reference_rows(results), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def _matrix(run: Run) -> list[str]:
    lines = ["| plugin | " + " | ".join(f"{VERDICT_SYMBOLS[v]} {VERDICT_LABELS[v]}" for v in VERDICT_ORDER)
             + " | claims |", "|---|" + "---|" * len(VERDICT_ORDER) + "---|"]
    for plugin in run.plugins:
        views = run.plugin_claims(plugin)
        per = [sum(1 for c in views if c.verdict_class == v) for v in VERDICT_ORDER]
        cells = " ".join(f"{c.symbol}&nbsp;{c.short_name}" for c in views)
        lines.append(f"| [{plugin}](../plugins/{plugin}.md) | " + " | ".join(str(n) if n else "" for n in per)
                     + f" | {_cell(cells)} |")
    return lines


def _claim_block(view: ClaimView, level: str = "###") -> list[str]:
    r = view.result
    lines = [f"{level} {view.symbol} `{r.id}` [{r.scale}]: {view.verdict_label}", ""]
    if r.statement:
        lines += [f"> {r.statement}" + (f" ({r.source})" if r.source else ""), ""]
    facts = [f"{len(r.seeds)} seed(s)", r.device, f"{float(r.seconds or 0):.1f} s"]
    lines += [" · ".join(facts), ""]
    if r.error:
        lines += [f"**Error**: `{view.error_summary}`", ""]
    if view.metrics:
        lines += ["| quantity | paper | ours |", "|---|---|---|"]
        for m in view.metrics:
            ours = format_value(m.ours) if m.ours_name else "not measured"
            name = m.name if m.ours_name in (None, m.name) else f"{m.name} (ours: {m.ours_name})"
            lines.append(f"| {_cell(name)} | {_cell(m.paper) if m.has_paper else ' '} | {_cell(ours)} |")
        lines.append("")
    for interval in view.intervals:
        lines.append(f"- interval the verdict used, {interval.name}: {format_value(interval.centre)} "
                     f"[{format_value(interval.low)}, {format_value(interval.high)}]")
    if view.intervals:
        lines.append("")
    if view.per_seed:
        cols = view.per_seed.columns
        lines += ["| seed | " + " | ".join(_cell(c) for c in cols) + " |", "|---|" + "---|" * len(cols)]
        for i, seed in enumerate(view.per_seed.seeds):
            lines.append(f"| {seed} | " + " | ".join(_cell(view.per_seed.values[c][i]) for c in cols) + " |")
        lines.append("")
    if view.rule:
        lines += [f"**Verdict rule**: {_cell(view.rule)}", ""]
    if r.notes:
        lines += [f"**Notes**: {_cell(r.notes)}", ""]
    return lines


def _header(run: Run) -> list[str]:
    items = [f"scale {', '.join(run.scales) or '-'}", f"device {', '.join(run.devices) or '-'}",
             f"{len(run.claims)} claims", f"{run.seconds:.0f} s of claim time"]
    items += [f"{k.replace('_', ' ')} `{v}`" for k, v in run.header_items]
    counts = ", ".join(f"{VERDICT_SYMBOLS[v]} {VERDICT_LABELS[v]}: {run.counts[v]}" for v in VERDICT_ORDER)
    return [f"From `{run.label}`: " + "; ".join(items) + ".", "", f"Verdicts: {counts}.", ""]


def render_reproductions_page(references: Mapping[str, Run]) -> str:
    """The Reproductions page: per reference file the matrix, then every claim by plugin."""
    lines = ["# Reproductions", "",
             "Every claim of every installed plugin, run by `etude reproduce` and judged by the rule in its "
             "docstring, with the paper's numbers beside ours. The numbers come from the committed reference "
             "results files in `docs/reproductions/` (refresh them with `make reference-results`); "
             "`etude report OUT` renders the same content, with the figures, as a self-contained HTML page.", ""]
    if not references:
        lines += ["No reference results file is committed yet: run `make reference-results`.", ""]
    for title, run in references.items():
        lines += [f"## {title[:1].upper()}{title[1:]}", ""] + _header(run) + _matrix(run) + [""]
        for plugin in run.plugins:
            lines += [f"### {plugin} ({title})", ""]
            for view in run.plugin_claims(plugin):
                lines += _claim_block(view, "####")
    return "\n".join(lines).rstrip() + "\n"


def plugin_section(references: Mapping[str, Run], plugin: str) -> str:
    """The "Reproduction status" section of a plugin's docs page ('' when no reference has its claims)."""
    lines: list[str] = []
    for title, run in references.items():
        views = run.plugin_claims(plugin)
        if not views:
            continue
        lines += [f"From the reference run at {title} (`{run.label}`"
                  + (f", {run.header['date']}" if run.header.get("date") else "") + "):", "",
                  "| claim | scale | verdict | paper vs ours |", "|---|---|---|---|"]
        for v in views:
            lines.append(f"| `{v.id}` | {v.result.scale} | {v.symbol} {v.verdict_label} | {_cell(headline_text(v))} |")
        lines.append("")
    if not lines:
        return ""
    return "\n".join(["## Reproduction status", "",
                      "Every claim's numbers, intervals and verdict rule: [Reproductions](../reproductions/index.md).",
                      "", *lines])


def main(argv: list[str] | None = None) -> int:
    """``python -m etude.report.docs RUN_FOLDER TARGET.json``: write a reference file from a run."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m etude.report.docs")
    parser.add_argument("run", help="a run folder (or its results.json)")
    parser.add_argument("target", help="the reference file to write, e.g. docs/reproductions/quick-cpu.json")
    args = parser.parse_args(argv)
    path = write_reference(args.run, args.target)
    run = make_run(json.loads(path.read_text())["claims"], rules=False, embed=False)
    print(f"{path}: {len(run.claims)} claims, " + ", ".join(f"{VERDICT_LABELS[k]} {n}" for k, n in run.counts.items()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
