"""Reports of ``etude reproduce`` results: a self-contained HTML page, a short Markdown summary,
comparisons of runs, and the docs' reproductions pages.

Examples:
    >>> from etude.claims import ClaimResult
    >>> from etude.report import make_run, render_html, render_markdown
    >>> run = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=True)], rules=False)
    >>> "p/c" in render_html(run) and "p/c" in render_markdown(run)
    True
"""

from .compare import ClaimComparison, Comparison, MetricDelta, compare_runs, comparison_text
from .html import HTML, render_html, write_html_report
from .markdown import render_markdown
from .model import ClaimView, align_metrics, format_value
from .runs import ResultsNotFoundError, Run, load_run, make_run

__all__ = [
    "HTML",
    "ClaimComparison",
    "ClaimView",
    "Comparison",
    "MetricDelta",
    "ResultsNotFoundError",
    "Run",
    "align_metrics",
    "compare_runs",
    "comparison_text",
    "format_value",
    "load_run",
    "make_run",
    "render_html",
    "render_markdown",
    "write_html_report",
]
