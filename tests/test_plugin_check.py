"""Issue 14, item 20: etude.testing.check_plugin, and meta-tests that tolerate third-party plugins."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from etude.testing import check_plugin

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _install_fake_plugin(folder: pathlib.Path, name: str, init: str, plugin: str, modules: dict | None = None) -> dict:
    """A plugin 'installed' through a dist-info folder on PYTHONPATH; returns the env to use."""
    package = folder / f"etude_{name}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(init))
    (package / "plugin.py").write_text(textwrap.dedent(plugin))
    for module, text in (modules or {}).items():
        (package / f"{module}.py").write_text(textwrap.dedent(text))
    dist = folder / f"etude_{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: etude-{name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[etude.plugins]\n{name} = etude_{name}.plugin\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


HEAVY_INIT = "import numpy\nfrom .metric import Metric\n"  # the guide's old layout: an eager re-export
PLUGIN = """
import etude

@etude.hookimpl
def register_components(registry):
    registry.add("similarity", "third-party-metric", "etude_{name}.metric:Metric", example={{}})
    registry.add("similarity", "broken-metric", "etude_{name}.broken:Metric", example={{}})
"""
METRIC = """
from etude.kinds import SimilarityMetric

class Metric(SimilarityMetric):
    \"\"\"A third-party metric.\"\"\"

    def compute(self, X, Y):
        return (X * 0).sum()
"""


def test_check_plugin_reports_heavy_imports_and_broken_factories(tmp_path):
    env = _install_fake_plugin(
        tmp_path, "thirdparty", HEAVY_INIT, PLUGIN.format(name="thirdparty"),
        {"metric": METRIC, "broken": "def oops(:\n"},
    )
    probe = "from etude.testing import check_plugin\ncheck_plugin('thirdparty')\n"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "imports numpy" in proc.stderr and "lazy_exports" in proc.stderr
    assert "etude_thirdparty.metric" in proc.stderr  # the implementation module imported by the entry point
    assert "similarity/broken-metric (plugin 'thirdparty')" in proc.stderr and "SyntaxError" in proc.stderr


def test_check_plugin_passes_on_a_repository_plugin():
    check_plugin("cka")


def test_check_plugin_names_a_missing_entry_point():
    with pytest.raises(AssertionError, match="no entry point 'ckaa'.*cka"):
        check_plugin("ckaa")


def test_repository_meta_tests_pass_with_a_third_party_plugin_installed(tmp_path):
    env = _install_fake_plugin(tmp_path, "thirdparty", HEAVY_INIT, PLUGIN.format(name="thirdparty"),
                               {"metric": METRIC, "broken": "def oops(:\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_meta.py"),
         "-k", "loaded or installed or conformance_suite or claims_docs or light or builds or docs_entry"],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
