"""Meta-tests of the docs' reproductions: the committed reference results match the registered claims,
and the Tutorials section lists every plugin's tutorial."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re

import pytest

from etude.registry import get_registry
from etude.report.docs import load_references, plugin_section, render_reproductions_page

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reproductions" / "quick-cpu.json"
REFRESH = ("refresh it with `make reference-results` (runs `etude reproduce --scale quick --out runs/demo`, "
           "reusing the claims already completed there, and rewrites docs/reproductions/quick-cpu.json), "
           "then commit the file")


def _docs_extension():
    spec = importlib.util.spec_from_file_location("plugin_pages", ROOT / "docs" / "_ext" / "plugin_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows() -> list[dict]:
    assert REFERENCE.exists(), f"{REFERENCE.relative_to(ROOT)} is missing: {REFRESH}"
    return json.loads(REFERENCE.read_text())["claims"]


def test_every_registered_claim_has_a_reference_row():
    registered = {c.id for c in get_registry().claims()}
    rows = {r["id"] for r in _rows()}
    missing = sorted(registered - rows)
    assert not missing, f"claims without a row in {REFERENCE.relative_to(ROOT)}: {missing}; {REFRESH}"


def test_every_reference_row_names_a_registered_claim():
    registered = {c.id for c in get_registry().claims()}
    stale = sorted({r["id"] for r in _rows()} - registered)
    assert not stale, (f"rows of {REFERENCE.relative_to(ROOT)} name claims that no longer exist: {stale}; {REFRESH} "
                       f"(rows of removed claims: delete them from runs/demo/results.json or use a fresh --out)")


def test_the_reference_is_quick_on_cpu_and_commits_no_figure_paths():
    rows = _rows()
    assert {r["scale"] for r in rows} == {"quick"} and {r.get("device", "cpu") for r in rows} == {"cpu"}, REFRESH
    assert not [r["id"] for r in rows if r.get("figures")], "figures are not committed: write the file with make reference-results"
    assert len({(r["id"], r["scale"]) for r in rows}) == len(rows), "one row per claim"


def test_the_reproductions_page_and_plugin_sections_show_every_claim():
    references = load_references(REFERENCE.parent)
    page = render_reproductions_page(references)
    for row in _rows():
        assert f"`{row['id']}` [quick]" in page, row["id"]
    for plugin in {r["plugin"] for r in _rows()}:
        section = plugin_section(references, plugin)
        assert section.startswith("## Reproduction status")
        assert all(f"| `{r['id']}` |" in section for r in _rows() if r["plugin"] == plugin)


def _repo_plugins_with_tutorials() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("plugins/*/pyproject.toml"))


@pytest.mark.parametrize("plugin", _repo_plugins_with_tutorials())
def test_every_plugin_tutorial_is_in_the_tutorials_section(plugin, tmp_path):
    ext = _docs_extension()
    stems = ext.write_tutorials(tmp_path / "tutorials")
    index = (tmp_path / "tutorials" / "index.md").read_text()
    toctree = re.search(r"```\{toctree\}\n(.*?)```", index, re.S)
    assert toctree, "the Tutorials index has no toctree"
    entries = [line.strip() for line in toctree.group(1).splitlines() if line.strip() and not line.startswith(":")]
    assert plugin in stems and plugin in entries, (
        f"tutorials/{plugin}.ipynb is not in the docs' Tutorials section (docs/_ext/plugin_pages.py): "
        f"write the tutorial; every notebook of tutorials/ is listed")
    assert (tmp_path / "tutorials" / f"{plugin}.ipynb").read_bytes() == (ROOT / "tutorials" / f"{plugin}.ipynb").read_bytes()


def test_tutorials_leave_the_matplotlib_backend_to_the_kernel():
    """A tutorial that calls matplotlib.use("Agg") shows no figure in the docs (MyST-NB keeps inline outputs)."""
    forcing = [p.name for p in ROOT.glob("tutorials/*.ipynb")
               if any("matplotlib.use(" in "".join(c["source"]) for c in json.loads(p.read_text())["cells"]
                      if c["cell_type"] == "code")]
    assert not forcing, (f"{forcing} force a matplotlib backend: drop matplotlib.use(...) (the test suite sets "
                         f"MPLBACKEND=Agg; the docs build shows the figures inline)")
