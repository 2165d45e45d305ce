"""``report.html``: one self-contained page (figures as ``data:`` URIs, inline CSS and JS) per run.

Templated with Jinja2 from the templates shipped in ``etude/report/templates``;
no network access and no JavaScript framework: a few lines of vanilla JS
sort the summary table and filter claims by plugin, verdict and text.

Examples:
    >>> from etude.claims import ClaimResult
    >>> from etude.report.runs import make_run
    >>> run = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=True)], rules=False)
    >>> page = render_html(run)
    >>> page.startswith("<!DOCTYPE html>") and 'data-verdict="holds"' in page
    True
"""

from __future__ import annotations

import functools
import math
import os
import pathlib
from collections.abc import Iterable, Mapping
from typing import Any

from etude.claims.outcome import ClaimResult
from etude.runtime.atomic import atomic_write_text

from .compare import Comparison, compare_runs
from .model import VERDICT_LABELS, VERDICT_ORDER, VERDICT_SYMBOLS, Interval, format_value, is_number
from .runs import Run, load_run, make_run

HTML = "report.html"


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2  # noqa: PLC0415

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("etude.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = format_value
    env.filters["signed"] = _signed
    env.globals.update(VERDICT_ORDER=VERDICT_ORDER, VERDICT_LABELS=VERDICT_LABELS, VERDICT_SYMBOLS=VERDICT_SYMBOLS,
                       interval_svg=interval_svg, is_number=is_number, sort_value=_sort_value)
    return env


def _signed(value: Any) -> str:
    if not is_number(value) or math.isnan(float(value)):
        return ""
    return f"{float(value):+.4g}"


def _sort_value(value: Any) -> str:
    if is_number(value) and math.isfinite(float(value)):
        return repr(float(value))
    return ""


def interval_svg(interval: Interval, width: int = 220, height: int = 22) -> str:
    """A small inline SVG of the interval and its centre against 0 ('' when a bound is not finite)."""
    from markupsafe import Markup  # noqa: PLC0415

    low, high, centre = interval.low, interval.high, interval.centre
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    lo, hi = min(low, 0.0, centre if math.isfinite(centre) else low), max(high, 0.0, centre if math.isfinite(centre) else high)
    span = (hi - lo) or 1.0
    pad = 8

    def x(v: float) -> float:
        return round(pad + (v - lo) / span * (width - 2 * pad), 2)

    colour = "#1a7f37" if low > 0 else ("#cf222e" if high < 0 else "#9a6700")
    parts = [f'<svg class="interval" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="interval [{low:.4g}, {high:.4g}] against 0">',
             f'<line x1="{x(0)}" y1="2" x2="{x(0)}" y2="{height - 2}" stroke="#57606a" stroke-dasharray="2,2"/>',
             f'<line x1="{x(low)}" y1="{height / 2}" x2="{x(high)}" y2="{height / 2}" stroke="{colour}" stroke-width="4"/>']
    if math.isfinite(centre):
        parts.append(f'<circle cx="{x(centre)}" cy="{height / 2}" r="4" fill="{colour}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def render_html(run: Run, *, comparison: Comparison | None = None, title: str | None = None) -> str:
    """The HTML page of ``run`` (compared with earlier runs when ``comparison`` is given)."""
    if comparison is not None and comparison.current is not run:
        raise ValueError("comparison.current must be the run being rendered")
    template = _environment().get_template("report.html.j2")
    return template.render(run=run, comparison=comparison, title=title or f"etude reproduce: {run.label}")


def write_html_report(out: str | os.PathLike, rows: Iterable[ClaimResult | Mapping[str, Any]] | None = None, *,
                      compare_with: Iterable[str | os.PathLike] = (), path: str | os.PathLike | None = None,
                      header: Mapping[str, Any] | None = None) -> pathlib.Path:
    """Write ``report.html`` for the run in ``out`` and return its path.

    ``rows``: the run's result rows (read from ``out/results.json`` when None).
    ``compare_with``: earlier run folders; the first is the baseline.
    ``path``: where to write (default ``out/report.html``).
    """
    out = pathlib.Path(out)
    if rows is None:
        run = load_run(out)
    else:
        run = make_run(rows, path=out, label=str(out), header=header)
    earlier = [load_run(p) for p in compare_with]
    comparison = compare_runs([*earlier, run]) if earlier else None
    target = pathlib.Path(path) if path is not None else out / HTML
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, render_html(run, comparison=comparison))
    return target
