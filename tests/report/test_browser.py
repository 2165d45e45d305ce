"""report.html in headless Chromium: no console errors, every figure loads, filters and sorting work."""

from __future__ import annotations

import json

import pytest

from etude.report import compare_runs, load_run, render_html
from etude.testing.browser import Browser


@pytest.fixture(scope="module")
def browser(chromium):
    with Browser(chromium) as b:
        yield b


def _visible(page, selector: str) -> list[str]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll({json.dumps(selector)})).filter(e => !e.hidden)"
        ".map(e => e.getAttribute('data-claim'))")


def _set(page, element_id: str, value) -> None:
    prop = "checked" if isinstance(value, bool) else "value"
    page.evaluate(f"(() => {{ const e = document.getElementById({json.dumps(element_id)}); e.{prop} = {json.dumps(value)};"
                  " e.dispatchEvent(new Event('input', {bubbles: true})); })()")


def test_report_opens_without_errors_and_loads_every_figure(browser, synthetic_run, tmp_path):
    path = synthetic_run / "report.html"
    path.write_text(render_html(load_run(synthetic_run)))
    page = browser.open(path.as_uri())
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) == 3
    assert all(complete and width > 0 for complete, width, _ in images), images
    assert page.evaluate("document.getElementById('shown-count').textContent") == "6 of 6 shown"
    shot = page.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert page.console_errors == []


def test_filters_hide_and_show_the_right_rows(browser, synthetic_run):
    path = synthetic_run / "report.html"
    path.write_text(render_html(load_run(synthetic_run)))
    page = browser.open(path.as_uri())
    rows, cards = "#summary-table tbody tr", "article.claim"
    every = ["alpha-fails-quick", "alpha-holds-quick", "beta-error-quick", "beta-inconclusive-quick",
             "beta-not-run-quick", "gamma-no-figures-quick"]
    assert _visible(page, rows) == every and _visible(page, cards) == every
    _set(page, "filter-plugin", "beta")
    assert _visible(page, rows) == every[2:5] == _visible(page, cards)
    assert page.evaluate("document.getElementById('shown-count').textContent") == "3 of 6 shown"
    _set(page, "filter-verdict", "error")
    assert _visible(page, rows) == ["beta-error-quick"] == _visible(page, cards)
    _set(page, "filter-plugin", "")
    _set(page, "filter-verdict", "holds")
    assert _visible(page, rows) == ["alpha-holds-quick", "gamma-no-figures-quick"]
    _set(page, "filter-verdict", "")
    _set(page, "filter-text", "statement of gamma")
    assert _visible(page, rows) == ["gamma-no-figures-quick"] == _visible(page, cards)
    dimmed = page.evaluate("Array.from(document.querySelectorAll('a.cell.dim')).length")
    assert dimmed == 5
    _set(page, "filter-text", "")
    assert _visible(page, rows) == every
    # sorting: the seconds column, then the verdict column (in verdict order)
    page.evaluate("document.querySelectorAll('#summary-table thead th')[3].click()")
    order = page.evaluate("Array.from(document.querySelectorAll('#summary-table tbody tr')).map(r => r.dataset.verdict)")
    assert order == ["holds", "holds", "fails", "inconclusive", "not-run", "error"]
    page.evaluate("document.querySelectorAll('#summary-table thead th')[3].click()")
    order = page.evaluate("Array.from(document.querySelectorAll('#summary-table tbody tr')).map(r => r.dataset.verdict)")
    assert order[0] == "error"
    assert page.console_errors == []


def test_changed_only_filter_of_a_comparison(browser, synthetic_run, tmp_path, write_run, baseline_rows):
    rows = baseline_rows()
    rows[0]["holds"] = False
    later = write_run(tmp_path / "later", rows)
    runs = [load_run(synthetic_run), load_run(later)]
    path = later / "report.html"
    path.write_text(render_html(runs[-1], comparison=compare_runs(runs)))
    page = browser.open(path.as_uri())
    _set(page, "filter-changed", True)
    assert _visible(page, "#summary-table tbody tr") == ["alpha-holds-quick"]
    assert page.console_errors == []


def test_a_console_error_would_be_caught(browser, tmp_path):
    path = tmp_path / "broken.html"
    path.write_text("<!DOCTYPE html><html><head><title>x</title></head><body>"
                    "<script>console.error('boom'); undefinedFunction();</script></body></html>")
    page = browser.open(path.as_uri())
    assert any("boom" in e for e in page.console_errors)
    assert any("undefinedFunction" in e for e in page.console_errors)
