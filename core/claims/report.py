"""report.md: the verdict matrix and one line per claim (the details are in report.html).

The rendering lives in :mod:`etude.report.markdown`; this module keeps the
runner's entry point.
"""

from __future__ import annotations

from collections.abc import Iterable

from .outcome import ClaimResult


def render_report(results: Iterable[ClaimResult], *, title: str = "etude reproduce") -> str:
    """The short Markdown report: matrix of verdicts per plugin, then one line per claim."""
    from etude.report.markdown import render_markdown  # noqa: PLC0415 - etude.report imports etude.claims
    from etude.report.runs import make_run  # noqa: PLC0415

    return render_markdown(make_run(results, rules=False, embed=False), title=title)
