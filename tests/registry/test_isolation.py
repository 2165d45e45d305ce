"""Issue 14, items 2-4, 9 and 22: names are owned, registration is a transaction, hooks are isolated."""

from __future__ import annotations

import json
import sys
import types

import pytest

import etude
from etude.registry import ComponentLoadError, ComponentNotFoundError, PluginLoadError


def gadget(size: int = 2) -> dict:
    """A plain factory."""
    return {"size": size}


def impostor(size: int = 2) -> str:
    """Another plain factory."""
    return "impostor"


def _plugin(**hooks):
    module = types.ModuleType("tmp_plugin")
    for name, fn in hooks.items():
        setattr(module, name, etude.hookimpl(fn))
    return module


def _adds(*items):
    def register_components(registry):
        for kind, name, factory in items:
            registry.add(kind, name, factory)

    return _plugin(register_components=register_components)


# -- item 2: names are owned -------------------------------------------------
def test_a_colliding_plugin_does_not_take_over_a_name(etude_registry):
    # The impostor loads first (alphabetical order would do that for "aaa").
    first = etude_registry.add_plugin(_adds(("model", "shared", impostor)), "aaa")
    real = etude_registry.add_plugin(_adds(("model", "shared", gadget), ("model", "own", gadget)), "real")
    assert first.status == real.status == "loaded"  # neither fails as a whole, neither is dropped
    with pytest.raises(ComponentNotFoundError, match=r"ambiguous.*'aaa:shared' or 'real:shared'"):
        etude.create("model", "shared")
    assert etude.create("model", "real:shared") == {"size": 2}
    assert etude.create("model", "aaa:shared") == "impostor"
    assert etude.create("model", "own") == {"size": 2}  # short names stay aliases while unambiguous
    assert etude.create("model", "real:own") == {"size": 2}
    with pytest.raises(ComponentNotFoundError):
        etude.create("model", "aaa:own")  # the first owner keeps nothing it did not register
    records = {p["name"]: p for p in etude.plugins()}
    assert any("model/shared" in c and "'aaa'" in c for c in records["real"]["conflicts"])
    assert any("model/shared" in c and "'real'" in c for c in records["aaa"]["conflicts"])
    assert {(c["name"], c["plugin"]) for c in etude.list_components("model")} == {
        ("shared", "aaa"), ("shared", "real"), ("own", "real")
    }


def test_plugins_command_shows_conflicts(etude_registry, capsys):
    from etude.cli import main

    etude_registry.add_plugin(_adds(("model", "shared", impostor)), "aaa")
    etude_registry.add_plugin(_adds(("model", "shared", gadget)), "real")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "conflicts" in out and "model/shared" in out


# -- item 3: a failing plugin leaves nothing behind (validated against the live registry) --
def test_failure_while_committing_rolls_back_everything(etude_registry, monkeypatch):
    def register_components(registry):
        registry.add("neuron", "extra", gadget)
        registry.add("neuron", "relu", gadget)

    def register_claims(registry):
        registry.add_claim("half/one", "m:f", statement="s", source="T")

    etude_registry.add_plugin(_adds(("neuron", "relu", gadget)), "builtin")
    from etude.registry import Registry

    original = Registry.add_claim_spec

    def fail_on_live(self, claim):
        if self is etude_registry.registry:
            raise RuntimeError("the live registry refused the claim")
        return original(self, claim)

    monkeypatch.setattr(Registry, "add_claim_spec", fail_on_live)
    record = etude_registry.add_plugin(
        _plugin(register_components=register_components, register_claims=register_claims), "half", expect_failure=True
    )
    assert "refused" in record.error
    assert [(c["name"], c["plugin"]) for c in etude.list_components("neuron")] == [("relu", "builtin")]
    assert etude.list_claims() == []
    assert record.components == ["neuron/extra", "neuron/relu"]


def test_duplicate_within_a_plugin_fails_it_and_keeps_nothing(etude_registry):
    record = etude_registry.add_plugin(
        _adds(("neuron", "extra", gadget), ("neuron", "twice", gadget), ("neuron", "twice", gadget)),
        "dup",
        expect_failure=True,
    )
    assert "registered twice" in record.error
    assert etude.list_components() == []


# -- item 4: SystemExit and malformed hook returns are the plugin's failure --
def test_sys_exit_in_a_hook_is_that_plugins_failure(etude_registry):
    def register_components(registry):
        sys.exit(3)

    record = etude_registry.add_plugin(_plugin(register_components=register_components), "exits", expect_failure=True)
    assert record.error.startswith("SystemExit during register_components")
    assert etude_registry.add_plugin(_adds(("model", "fine", gadget)), "fine").status == "loaded"


def test_keyboard_interrupt_still_reaches_the_host(etude_registry):
    def register_components(registry):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        etude_registry.add_plugin(_plugin(register_components=register_components), "ctrlc")


@pytest.mark.parametrize(
    ("info", "match"),
    [
        ({"paper": "not a mapping"}, "paper must be a mapping"),
        ("a string", "plugin_info must return a mapping"),
        ({"requires_core": 3}, "requires_core must be a string"),
    ],
)
def test_malformed_plugin_info_fails_only_that_plugin(etude_registry, capsys, info, match):
    from etude.cli import main

    etude_registry.add_plugin(_adds(("model", "fine", gadget)), "fine")
    record = etude_registry.add_plugin(_plugin(plugin_info=lambda: info), "bad", expect_failure=True)
    assert "during plugin_info" in record.error and match in record.error
    assert main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fine"]["status"] == "loaded" and rows["bad"]["status"] == "failed"


# -- item 9: failure records name the hook and where it raised; broken factories --
def test_failure_record_names_the_hook_and_file_line(etude_registry):
    def register_claims(registry):
        raise RuntimeError("kaboom")

    record = etude_registry.add_plugin(_plugin(register_claims=register_claims), "broken", expect_failure=True)
    assert record.hook == "register_claims"
    assert record.location.endswith(f"{__file__.rsplit('/', 1)[-1]}:{register_claims.__code__.co_firstlineno + 1}")
    assert f"during register_claims at {record.location}: kaboom" in record.error


def test_broken_factory_module_names_component_plugin_and_module(etude_registry, tmp_path, monkeypatch):
    (tmp_path / "etude_broken_factory.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    etude_registry.add_plugin(
        _adds(("model", "syntax", "etude_broken_factory:Thing"), ("model", "missing", "etude_no_such_module:Thing")),
        "brk",
    )
    for name, module, cause in (("syntax", "etude_broken_factory", SyntaxError), ("missing", "etude_no_such_module", ModuleNotFoundError)):
        for call in (etude.create, etude.describe):
            with pytest.raises(ComponentLoadError, match=rf"model/{name} \(plugin 'brk'\).*module '{module}'") as info:
                call("model", name)
            assert isinstance(info.value.__cause__, cause)


# -- item 22: the test fixture raises when a plugin fails to register --------
def test_add_plugin_raises_when_registration_fails(etude_registry):
    def register_components(registry):
        registry.add("neurons", "typo-kind", gadget)

    with pytest.raises(PluginLoadError, match="Unknown kind 'neurons'"):
        etude_registry.add_plugin(_plugin(register_components=register_components), "typo")
