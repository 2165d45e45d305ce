"""The documentation builds with warnings as errors, with one page per installed plugin."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

import etude

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    for plugin in (p for p in etude.plugins() if p["status"] == "loaded"):
        assert (tmp_path / "plugins" / f"{plugin['name']}.html").exists(), plugin["name"]
    reproductions = (tmp_path / "reproductions" / "index.html").read_text()
    reference = json.loads((ROOT / "docs" / "reproductions" / "quick-cpu.json").read_text())
    assert "Reproductions" in reproductions
    assert all(row["id"] in reproductions for row in reference["claims"])
    for notebook in ROOT.glob("tutorials/*.ipynb"):
        page = tmp_path / "tutorials" / f"{notebook.stem}.html"
        assert page.exists(), f"{notebook.name} is not in the docs' Tutorials section"
    figures = [p.name for p in (tmp_path / "tutorials").glob("*.html") if "<img" in p.read_text()]
    assert len(figures) >= len(list(ROOT.glob("tutorials/*.ipynb"))) - 1, f"executed tutorials with figures: {figures}"
