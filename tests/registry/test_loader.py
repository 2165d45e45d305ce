"""Entry-point discovery: isolation, allow/deny lists, strict mode, and a real pip-installed plugin."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

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


THROWAWAY_PYPROJECT = """
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "etude-throwaway"
version = "0.0.1"
dependencies = []

[project.entry-points."etude.plugins"]
throwaway = "etude_throwaway.plugin"

[tool.setuptools.packages.find]
include = ["etude_throwaway*"]
"""

THROWAWAY_PLUGIN = """
import etude

@etude.hookimpl
def register_components(registry):
    registry.add("neuron", "throwaway-relu", "etude_throwaway.impl:ThrowawayReLU", summary="test neuron")
"""

THROWAWAY_IMPL = """
import torch
from etude.kinds import Neuron

class ThrowawayReLU(Neuron):
    '''ReLU from a throwaway distribution.'''
    def activate(self, x, state):
        return torch.relu(x), state
"""


@pytest.mark.slow
def test_real_distribution_is_discovered_then_uninstalled(tmp_path):
    """Build and pip-install a plugin distribution, discover it in a fresh process, uninstall it."""
    src = tmp_path / "etude-throwaway"
    pkg = src / "etude_throwaway"
    pkg.mkdir(parents=True)
    (src / "pyproject.toml").write_text(THROWAWAY_PYPROJECT)
    (pkg / "__init__.py").write_text("")
    (pkg / "plugin.py").write_text(textwrap.dedent(THROWAWAY_PLUGIN))
    (pkg / "impl.py").write_text(textwrap.dedent(THROWAWAY_IMPL))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(src)], check=True)
    try:
        probe = (
            "import etude, torch;"
            "print([p['name'] for p in etude.plugins() if p['status']=='loaded']);"
            "n = etude.create('neuron', 'throwaway-relu');"
            "print(float(n(torch.tensor([-1.0, 2.0]))[0].sum()))"
        )
        out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
        assert "'throwaway'" in out and out.strip().endswith("2.0")
        listing = subprocess.run([sys.executable, "-m", "etude.cli", "list", "neuron"], capture_output=True, text=True)
        assert "throwaway-relu" in listing.stdout
    finally:
        subprocess.run([*pip, "uninstall", "-y", "etude-throwaway"], check=True)
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("etude-throwaway")
