"""``report.md``: the verdict matrix and one line per claim, the paper's headline number beside ours.

The details (every metric, per-seed values, intervals, figures) live in
``report.html``; this file is the summary that reads well in a terminal, a
pull request or a chat message.

Examples:
    >>> from etude.claims import ClaimResult
    >>> from etude.report.runs import make_run
    >>> run = make_run([ClaimResult(id="p/c", plugin="p", scale="quick", holds=True,
    ...                             paper={"acc": 0.9}, metrics={"acc": 0.88})], rules=False)
    >>> print(render_markdown(run).splitlines()[-1])
    - ✓ **holds** `p/c` [quick]: acc: paper 0.9, ours 0.88
"""

from __future__ import annotations

from .model import VERDICT_LABELS, VERDICT_ORDER, VERDICT_SYMBOLS, ClaimView, format_value
from .runs import Run


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def headline_text(view: ClaimView) -> str:
    """``name: paper X, ours Y`` for the claim's headline quantity (or why there is none)."""
    r = view.result
    if r.error:
        return f"error: {view.error_summary}"
    if r.status == "not-run":
        return r.notes or "not run at this scale"
    h = view.headline
    if h is None:
        return "no metrics"
    if h.has_paper:
        if h.ours_name is None:
            first = view.first_number
            ours = f"{first.name} = {format_value(first.ours)}" if first else "not measured"
            return f"{h.name}: paper {format_value(h.paper)}; ours {ours}"
        ours = format_value(h.ours)
        name = h.name if h.ours_name in (None, h.name) else f"{h.name} (ours: {h.ours_name})"
        return f"{name}: paper {format_value(h.paper)}, ours {ours}"
    return f"{h.name}: ours {format_value(h.ours)}"


def render_markdown(run: Run, *, title: str = "etude reproduce", html_name: str | None = "report.html") -> str:
    """The short Markdown report of a run."""
    counts = run.counts
    lines = [f"# {title}", ""]
    lines.append("Verdicts: " + ", ".join(f"{VERDICT_SYMBOLS[v]} {VERDICT_LABELS[v]}: {counts[v]}" for v in VERDICT_ORDER)
                 + f" ({len(run.claims)} claims; scale {', '.join(run.scales) or '-'}, "
                 f"device {', '.join(run.devices) or '-'}, {run.seconds:.0f} s)")
    if html_name:
        lines.append(f"Details (every metric, per-seed values, intervals, figures): `{html_name}`.")
    lines.append("")
    if run.claims:
        lines += ["| plugin | " + " | ".join(VERDICT_SYMBOLS[v] for v in VERDICT_ORDER) + " | claims |",
                  "|---|" + "---|" * len(VERDICT_ORDER) + "---|"]
        for plugin in run.plugins:
            views = run.plugin_claims(plugin)
            per = [sum(1 for c in views if c.verdict_class == v) for v in VERDICT_ORDER]
            cells = " ".join(f"{c.symbol}&nbsp;{c.short_name}" for c in views)
            lines.append(f"| {plugin} | " + " | ".join(str(n) if n else "" for n in per) + f" | {_cell(cells)} |")
        lines.append("")
    for plugin in run.plugins:
        lines += [f"## {plugin}", ""]
        for c in run.plugin_claims(plugin):
            lines.append(f"- {c.symbol} **{c.verdict_label}** `{c.id}` [{c.result.scale}]: {_cell(headline_text(c))}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
