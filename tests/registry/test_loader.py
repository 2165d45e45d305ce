"""Entry-point discovery: isolation, allow/deny lists, strict mode, and a real pip-installed plugin."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import etude
from etude.registry import PluginLoader, PluginLoadError, Registry


class FakeDist:
    def __init__(self, name, version="1.0"):
        self.metadata = {"Name": name}
        self.version = version


class FakeEntryPoint:
    def __init__(self, name, value, loader):
        self.name, self.value, self._loader = name, value, loader
        self.dist = FakeDist(f"etude-{name}")

    def load(self):
        return self._loader()


def _good_module():
    import types

    module = types.ModuleType("good")

    @etude.hookimpl
    def register_components(registry):
        registry.add("model", "good-model", "json:dumps")

    module.register_components = register_components
    return module


def _raising():
    raise ImportError("No module named 'missing_dependency'")


@pytest.fixture
def fake_entry_points(monkeypatch):
    eps = [
        FakeEntryPoint("good", "good", _good_module),
        FakeEntryPoint("broken", "broken", _raising),
    ]
    monkeypatch.setattr("etude.registry.loader.entry_points", lambda group: eps)
    return eps


def _discover():
    registry = Registry()
    PluginLoader(registry).discover()
    return registry


def test_plugin_raising_on_import_is_recorded_and_skipped(fake_entry_points, monkeypatch):
    monkeypatch.delenv("ETUDE_STRICT_PLUGINS", raising=False)
    registry = _discover()
    records = {p.name: p for p in registry.plugins()}
    assert records["good"].status == "loaded"
    assert records["broken"].status == "failed"
    assert records["broken"].distribution == "etude-broken" and records["broken"].version == "1.0"
    assert "missing_dependency" in records["broken"].error
    assert [s.name for s in registry.components()] == ["good-model"]


def test_strict_mode_raises(fake_entry_points, monkeypatch):
    monkeypatch.setenv("ETUDE_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="broken"):
        _discover()


def test_allow_list(fake_entry_points, monkeypatch):
    monkeypatch.setenv("ETUDE_PLUGINS", "good")
    assert [p.name for p in _discover().plugins()] == ["good"]


def test_deny_list(fake_entry_points, monkeypatch):
    monkeypatch.setenv("ETUDE_DISABLE_PLUGINS", "broken")
    assert [p.name for p in _discover().plugins()] == ["good"]


def test_cli_list_works_with_a_broken_plugin(fake_entry_points, monkeypatch, capsys):
    from etude.cli import main
    from etude.registry import set_registry

    previous = set_registry(None)
    try:
        assert main(["list", "--json"]) == 0
        assert '"good-model"' in capsys.readouterr().out
        assert main(["plugins", "--json"]) == 0
        assert '"failed"' in capsys.readouterr().out
    finally:
        set_registry(*previous)


GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "guide" / "writing-a-plugin.md"


def _build_plugin_from_guide(root: pathlib.Path) -> pathlib.Path:
    """Write the plugin exactly as the docs' guide lists it: every fenced file block, in order."""
    text = GUIDE.read_text()
    src = root / "etude-toy"
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S)
    written = []
    for lang, body in blocks:
        if lang == "toml" and "[project]" in body:
            path = src / "pyproject.toml"
        elif lang == "python" and body.startswith("# etude_toy/") or body.startswith("# tests/"):
            path = src / body.splitlines()[0][2:].strip()
        else:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        written.append(path.relative_to(src).as_posix())
    (src / "etude_toy" / "__init__.py").touch()
    (src / "README.md").write_text("# etude-toy\n")
    assert {"pyproject.toml", "etude_toy/plugin.py", "etude_toy/cosine.py", "etude_toy/claims.py",
            "tests/test_cosine.py"} <= set(written), written
    return src


@pytest.mark.slow
def test_guide_plugin_is_pip_installed_discovered_tested_and_uninstalled(tmp_path):
    """The plugin of docs/guide/writing-a-plugin.md, built from the guide alone, works end to end.

    It is pip-installed into its own site folder layered on the test
    environment (``--target`` plus ``PYTHONPATH``) so that tests running in
    parallel never see the shared environment change under them; removing
    the folder uninstalls it.
    """
    src = _build_plugin_from_guide(tmp_path)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", "--target", str(site), str(src)], check=True)
    env = {**os.environ, "PYTHONPATH": str(site), "ETUDE_STRICT_PLUGINS": "1", "ETUDE_PLUGINS": "builtin,toy"}

    def etude_cli(*argv):
        return subprocess.run([sys.executable, "-m", "etude.cli", *argv], capture_output=True, text=True, env=env)

    plugins = json.loads(etude_cli("plugins", "--json").stdout)
    toy = next(p for p in plugins if p["name"] == "toy")
    assert toy["status"] == "loaded" and toy["distribution"] == "etude-toy" and toy["version"] == "0.1.0"
    assert "mean-cosine" in etude_cli("list", "similarity").stdout
    probe = "import etude, torch; X = torch.randn(9, 3); print(float(etude.create('similarity', 'mean-cosine')(X, X)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert abs(float(out) - 1.0) < 1e-6
    smoke = etude_cli("reproduce", "toy", "--scale", "smoke", "--out", str(tmp_path / "run"), "--quiet")
    assert smoke.returncode == 0, smoke.stderr
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(src / "tests")],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout[-3000:]
    shutil.rmtree(site)  # uninstall
    after = etude_cli("plugins", "--json")
    assert after.returncode == 0 and "toy" not in {p["name"] for p in json.loads(after.stdout)}
