"""report.md: the matrix and one line per claim, the paper's headline number beside ours."""

from __future__ import annotations

from etude.report import load_run, render_markdown


def test_one_line_per_claim_with_the_headline(synthetic_run):
    text = render_markdown(load_run(synthetic_run))
    lines = text.splitlines()
    assert lines[0] == "# etude reproduce"
    assert "| alpha | 1 | 1 |  |  |  | ✗&nbsp;fails ✓&nbsp;holds |" in lines
    claims = [line for line in lines if line.startswith("- ")]
    assert len(claims) == 6
    assert "- ✓ **holds** `alpha/holds` [quick]: pilot_acc (ours: acc): paper 0.9, ours 0.91" in claims
    assert "- ! **error** `beta/error` [quick]: error: RuntimeError: the experiment broke" in claims
    assert "- ? **inconclusive** `beta/inconclusive` [quick]: direction: paper a < b; ours ratio = nan" in claims
    assert "- – **not run** `beta/not-run` [quick]: not run at this scale: this claim runs at full" in claims
    assert "- ✓ **holds** `gamma/no-figures` [quick]: value: ours 1.5" in claims
    assert len(text) < 2000
