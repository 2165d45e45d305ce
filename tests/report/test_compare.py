"""Comparison of runs: a changed verdict and a moved metric are flagged, in Python, HTML and the CLI."""

from __future__ import annotations

import copy

import pytest

from etude.cli import main
from etude.report import compare_runs, comparison_text, load_run, render_html


def _later_rows(baseline_rows) -> list[dict]:
    rows = copy.deepcopy(baseline_rows())
    by_id = {r["id"]: r for r in rows}
    by_id["alpha/holds"]["holds"] = False  # verdict changed: a regression
    by_id["alpha/holds"]["metrics"]["acc"] = 0.81  # and its headline metric moved
    by_id["alpha/fails"]["metrics"]["acc"] = 0.65  # metric moved, verdict the same
    rows.append({**by_id["gamma/no-figures"], "id": "gamma/new-claim"})
    return rows


@pytest.fixture
def two_runs(tmp_path, write_run, baseline_rows):
    a = write_run(tmp_path / "a", baseline_rows())
    b = write_run(tmp_path / "b", _later_rows(baseline_rows))
    return a, b


def test_changed_verdict_and_moved_metric_are_flagged(tmp_path, two_runs):
    a, b = two_runs
    comparison = compare_runs([load_run(a), load_run(b)])
    rows = {c.id: c for c in comparison.claims}
    holds = rows["alpha/holds"]
    assert holds.verdicts == ["holds", "fails"] and holds.changed and holds.regression
    assert holds.status == "regression"
    acc = holds.delta("acc")
    assert acc.is_paper and round(acc.delta, 6) == -0.1 and acc.moved()
    fails = rows["alpha/fails"]
    assert not fails.changed and fails.status == "moved" and [d.name for d in fails.moved] == ["acc"]
    assert rows["gamma/new-claim"].status == "new"
    for unchanged in ("beta/error", "beta/not-run", "gamma/no-figures", "beta/inconclusive"):
        assert rows[unchanged].status == "same", unchanged  # NaN -> NaN is not a move
    assert [c.id for c in comparison.regressions] == ["alpha/holds"]
    text = comparison_text(comparison)
    assert "REGRESSION alpha/holds [quick]: holds -> does not hold" in text
    assert "metrics moved: alpha/fails [quick]: acc 0.6 -> 0.65" in text


def test_the_html_shows_both_verdicts_and_deltas(tmp_path, two_runs):
    a, b = two_runs
    runs = [load_run(a), load_run(b)]
    page = render_html(runs[-1], comparison=compare_runs(runs))
    table = page[page.index('id="comparison-table"'):page.index("</table>", page.index('id="comparison-table"'))]
    row = table[table.index('status-regression'):]
    row = row[:row.index("</tr>")]
    assert 'data-changed="yes"' in row and "does not hold" in row and ">holds<" in row
    assert "acc 0.91 &rarr; 0.81 (-0.1)" in row
    assert "1 regression(s)" in page and 'id="filter-changed"' in page


def test_metric_turning_nan_is_a_move(tmp_path, write_run, baseline_rows):
    rows = copy.deepcopy(baseline_rows())
    rows[0]["metrics"]["gap"] = None
    a = write_run(tmp_path / "a", baseline_rows())
    b = write_run(tmp_path / "b", rows)
    (holds,) = [c for c in compare_runs([load_run(a), load_run(b)]).claims if c.id == "alpha/holds"]
    assert [d.name for d in holds.moved] == ["gap"] and not holds.changed


def test_etude_report_compares_folders(tmp_path, two_runs, capsys):
    a, b = two_runs
    assert main(["report", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "REGRESSION alpha/holds" in out and (b / "report.html").exists()
    assert "Compared with" in (b / "report.html").read_text()
    assert main(["report", str(a), str(b), "--fail-on-regression", "-o", str(tmp_path / "c.html")]) == 1
    assert (tmp_path / "c.html").exists()


def test_etude_report_single_folder_and_errors(tmp_path, two_runs, capsys):
    a, _ = two_runs
    assert main(["report", str(a), "--markdown"]) == 0
    assert capsys.readouterr().out.strip() == f"{a}/report.html"
    assert "alpha/holds" in (a / "report.md").read_text()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_reproduce_compare_flags_a_changed_verdict(tmp_path, etude_registry, capsys):
    import types

    import etude
    from etude.claims import Outcome

    state = {"holds": True, "value": 1.0}

    def measure(ctx):
        return {"value": state["value"]}

    def flips(ctx, runs):
        """Criterion: holds when the switch is on."""
        return Outcome(holds=state["holds"], metrics={"value": runs[0]["value"]})

    module = types.ModuleType("flip_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("flip/c", run=measure, judge=flips, statement="s", source="Table 1", paper={"value": 1.0})

    module.register_claims = register_claims
    etude_registry.add_plugin(module, "flip")
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["reproduce", "--scale", "smoke", "--out", str(first), "--quiet"]) == 0
    state.update(holds=False, value=0.5)
    code = main(["reproduce", "--scale", "smoke", "--out", str(second), "--quiet", "--compare", str(first),
                 "--fail-on-regression"])
    out = capsys.readouterr().out
    assert code == 1 and "REGRESSION flip/c [smoke]: holds -> does not hold" in out
    page = (second / "report.html").read_text()
    assert "Compared with" in page and "value 1 &rarr; 0.5 (-0.5)" in page
    assert "Criterion: holds when the switch is on." in page  # the judge's docstring is the verdict rule
    assert "<th>seed</th><th>value</th>" in page  # per-seed measurements from the run's unit records
