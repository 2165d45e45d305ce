"""report.html: valid HTML, self-contained, every kind of row rendered."""

from __future__ import annotations

import json
import re

import html5lib
import pytest

from etude.claims import ClaimResult
from etude.report import load_run, make_run, render_html, write_html_report


def _parse_strict(page: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(page)  # raises html5lib.html5parser.ParseError on the first error
    assert not parser.errors


def test_the_page_is_valid_html(synthetic_run):
    _parse_strict(render_html(load_run(synthetic_run)))


def test_invalid_html_is_caught_by_the_check():
    with pytest.raises(html5lib.html5parser.ParseError):
        _parse_strict("<!DOCTYPE html><html><head><title>x</title></head><body><p>a</div></body></html>")


def test_the_page_is_self_contained(synthetic_run):
    page = render_html(load_run(synthetic_run))
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page), "no network resource may be referenced"
    assert "<script src" not in page and "<link rel=\"stylesheet\"" not in page
    imgs = re.findall(r'<img src="([^"]+)"', page)
    assert len(imgs) == 3 and all(src.startswith("data:image/png;base64,") for src in imgs)


def test_every_kind_of_row_is_rendered(synthetic_run):
    run = load_run(synthetic_run)
    page = render_html(run)
    assert run.counts == {"holds": 2, "fails": 1, "inconclusive": 1, "not-run": 1, "error": 1}
    for verdict in ("holds", "fails", "inconclusive", "not-run", "error"):
        assert f'data-verdict="{verdict}"' in page
    assert "RuntimeError: the experiment broke" in page
    assert "not run at this scale: this claim runs at full" in page
    assert ">nan<" in page  # NaN (null in JSON) metrics shown as nan, not as a crash or a blank
    # header: scale, device, seeds, wall time, versions and the git commit
    for text in ("quick", "cpu", "0123456789abcdef", "testhost", "alpha 1.0", "6.0 s"):
        assert text in page, text


def test_paper_keys_come_first_and_align_with_ours(synthetic_run):
    view = load_run(synthetic_run).by_key[("alpha/holds", "quick")]
    assert [(m.name, m.ours_name) for m in view.metrics[:2]] == [("pilot_acc", "acc"), ("gap", "gap")]
    assert view.per_seed.columns == ["acc"] and view.per_seed.values["acc"] == [0.9, 0.91, 0.92]
    (interval,) = view.intervals
    assert (interval.low, interval.high, interval.centre) == (0.01, 0.07, 0.04)
    page = render_html(load_run(synthetic_run))
    section = page[page.index('id="alpha-holds-quick"'):]
    section = section[:section.index("</article>")]
    assert "Interval the verdict used" in section and "<svg" in section
    assert section.index("pilot_acc") < section.index("gap") < section.index("mean_diff")


def test_a_missing_figure_is_named_not_broken(synthetic_run):
    (synthetic_run / "figures" / "alpha__fails-bars.png").unlink()
    page = render_html(load_run(synthetic_run))
    assert "figure file not found" in page and page.count("<img ") == 2


def test_nan_in_a_results_file_reads(synthetic_run):
    text = (synthetic_run / "results.json").read_text()
    assert "NaN" in text
    view = load_run(synthetic_run).by_key[("beta/inconclusive", "quick")]
    assert view.result.metrics["ratio"] != view.result.metrics["ratio"]  # NaN
    _parse_strict(render_html(load_run(synthetic_run)))


def test_empty_run_and_text_is_escaped(tmp_path):
    run = make_run([], rules=False)
    _parse_strict(render_html(run))
    nasty = ClaimResult(id="x/<script>", plugin="x", scale="smoke", holds=True, statement="<b>bold</b> & co",
                        notes="</article><script>alert(1)</script>")
    page = render_html(make_run([nasty], rules=False))
    assert "<script>alert(1)" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    _parse_strict(page)


def test_verdict_rule_comes_from_the_installed_claims_docstring(tmp_path, etude_registry):
    import types

    import etude
    from etude.claims import Outcome

    def measure(ctx):
        """Measures one seed (not the verdict rule)."""
        return {"x": 1.0}

    def judged(ctx, runs):
        """Something measured.

        Criterion: holds when the interval lies above 0.
        """
        return Outcome(holds=True)

    module = types.ModuleType("rule_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("ruled/c", run=measure, judge=judged, statement="s", source="Fig. 1")

    module.register_claims = register_claims
    etude_registry.add_plugin(module, "ruled")
    run = make_run([ClaimResult(id="ruled/c", plugin="ruled", scale="smoke", holds=True)])
    assert run.claims[0].rule == "Criterion: holds when the interval lies above 0."
    assert "Criterion: holds when the interval lies above 0." in render_html(run)


def test_write_html_report_defaults_beside_results(synthetic_run):
    path = write_html_report(synthetic_run)
    assert path == synthetic_run / "report.html" and path.read_text().startswith("<!DOCTYPE html>")
    assert json.loads((synthetic_run / "results.json").read_text())["claims"]
