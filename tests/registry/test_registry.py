"""Registry behaviour through temporary plugins (the etude_registry fixture)."""

from __future__ import annotations

import sys
import types

import pytest

import etude
from etude.config import ConfigError, configclass, field, positive
from etude.registry import ComponentNotFoundError


@configclass
class WidgetConfig:
    width: int = field(default=3, validator=positive, doc="how wide")


class Widget:
    """A widget with a config class."""

    Config = WidgetConfig

    def __init__(self, config: WidgetConfig) -> None:
        self.config = config


def gadget(size: int = 2, colour: str = "red") -> dict:
    """A plain function factory: its keywords are its config."""
    return {"size": size, "colour": colour}


def _plugin(**hooks):
    module = types.ModuleType("tmp_plugin")
    for name, fn in hooks.items():
        setattr(module, name, etude.hookimpl(fn))
    return module


def test_add_create_describe_list(etude_registry):
    def register_components(registry):
        registry.add("model", "widget", Widget, summary="a widget", example={})
        registry.add("model", "gadget", gadget)

    record = etude_registry.add_plugin(_plugin(register_components=register_components), "tmp")
    assert record.status == "loaded"
    assert etude.create("model", "widget", width=5).config.width == 5
    assert etude.create("model", "gadget", size=4) == {"size": 4, "colour": "red"}
    assert [c["name"] for c in etude.list_components("model")] == ["gadget", "widget"]
    assert [c["name"] for c in etude.list_components(pattern="g*")] == ["gadget"]
    info = etude.describe("model", "widget")
    assert info["plugin"] == "tmp" and info["config"][0]["name"] == "width"
    assert info["config"][0]["doc"] == "how wide"
    assert [f["name"] for f in etude.describe("model", "gadget")["config"]] == ["size", "colour"]


def test_string_factory_is_imported_lazily(etude_registry, tmp_path, monkeypatch):
    pkg = tmp_path / "lazy_widget_mod.py"
    pkg.write_text("IMPORTED = True\ndef make(x: int = 1):\n    return x * 10\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def register_components(registry):
        registry.add("model", "lazy", "lazy_widget_mod:make")

    etude_registry.add_plugin(_plugin(register_components=register_components), "tmp")
    etude.list_components()
    assert "lazy_widget_mod" not in sys.modules
    assert etude.create("model", "lazy", x=2) == 20
    assert "lazy_widget_mod" in sys.modules


def test_unknown_name_suggests_and_lists_plugins(etude_builtin_registry):
    with pytest.raises(ComponentNotFoundError) as info:
        etude.create("neuron", "rleu")
    text = str(info.value)
    assert "'relu'" in text and "Installed plugins: builtin" in text


def test_unknown_kind_lists_kinds(etude_registry):
    with pytest.raises(ComponentNotFoundError, match="Kinds are: augmenter"):
        etude.list_components("neurons")


def test_known_uninstalled_plugin_gets_pip_hint(etude_registry):
    with pytest.raises(ComponentNotFoundError, match="pip install etude-cka"):
        etude.create("similarity", "linear-cka")


def test_failed_plugin_is_listed_in_lookup_errors(etude_registry):
    def register_components(registry):
        raise RuntimeError("kaboom")

    etude_registry.add_plugin(_plugin(register_components=register_components), "broken", expect_failure=True)
    with pytest.raises(ComponentNotFoundError, match=r"Failed plugins: broken \(RuntimeError during register_components at .*: kaboom\)"):
        etude.create("model", "x")


def test_plugin_failing_half_way_leaves_nothing(etude_registry):
    def register_components(registry):
        registry.add("model", "first", gadget)
        registry.add("model", "first", gadget)  # duplicate: the plugin fails

    record = etude_registry.add_plugin(_plugin(register_components=register_components), "dup", expect_failure=True)
    assert record.status == "failed" and "registered twice" in record.error
    assert etude.list_components() == []


def test_duplicate_across_plugins_keeps_both_under_qualified_names(etude_registry):
    def reg(registry):
        registry.add("model", "same", gadget)

    assert etude_registry.add_plugin(_plugin(register_components=reg), "one").status == "loaded"
    second = etude_registry.add_plugin(_plugin(register_components=reg), "two")
    assert second.status == "loaded" and "'one'" in second.conflicts[0]
    assert etude.create("model", "two:same") == {"size": 2, "colour": "red"}


def test_bad_kind_and_factory_are_plugin_errors(etude_registry):
    def bad_kind(registry):
        registry.add("neurons", "x", gadget)

    def bad_factory(registry):
        registry.add("model", "x", "no_colon_here")

    assert "Unknown kind" in etude_registry.add_plugin(_plugin(register_components=bad_kind), "a", expect_failure=True).error
    assert "module:attr" in etude_registry.add_plugin(_plugin(register_components=bad_factory), "b", expect_failure=True).error


def test_requires_core_mismatch_is_reported(etude_registry):
    def plugin_info():
        return {"requires_core": ">=99"}

    def register_components(registry):
        registry.add("model", "future", gadget)

    record = etude_registry.add_plugin(_plugin(plugin_info=plugin_info, register_components=register_components), "fut", expect_failure=True)
    assert record.status == "failed"
    assert "requires etude>=99" in record.error and etude.__version__ in record.error
    assert etude.list_components() == []


def test_paper_metadata_is_recorded(etude_registry):
    paper = {"authors": "A", "title": "T", "venue": "V", "year": 2020, "arxiv": "1234.5678"}

    def plugin_info():
        return {"paper": paper, "requires_core": ">=0.1"}

    etude_registry.add_plugin(_plugin(plugin_info=plugin_info), "p")
    assert etude.plugins()[0]["paper"] == paper


def test_claims_registration_rules(etude_registry):
    def good(registry):
        registry.add_claim("ok/one", run="m:f", judge="m:g", statement="s", source="Table 1")

    def wrong_prefix(registry):
        registry.add_claim("other/one", run="m:f", judge="m:g", statement="s", source="T")

    def bad_scale(registry):
        registry.add_claim("bs/one", run="m:f", judge="m:g", statement="s", source="T", scales=("huge",))

    assert etude_registry.add_plugin(_plugin(register_claims=good), "ok").status == "loaded"
    assert etude.list_claims()[0]["id"] == "ok/one"
    assert "must start with its plugin" in etude_registry.add_plugin(_plugin(register_claims=wrong_prefix), "wp", expect_failure=True).error
    assert "unknown scales" in etude_registry.add_plugin(_plugin(register_claims=bad_scale), "bs", expect_failure=True).error


def test_config_errors_name_component(etude_registry):
    def reg(registry):
        registry.add("model", "widget", Widget)
        registry.add("model", "gadget", gadget)

    etude_registry.add_plugin(_plugin(register_components=reg), "tmp")
    with pytest.raises(ConfigError, match=r"model/widget: unknown field 'widht'. Did you mean 'width'\?"):
        etude.create("model", "widget", widht=3)
    with pytest.raises(ConfigError, match=r"model/widget: 'width' must be a number > 0, got -1"):
        etude.create("model", "widget", width=-1)
    with pytest.raises(ConfigError, match=r"model/gadget: unknown field 'colour_'. Did you mean 'colour'\?"):
        etude.create("model", "gadget", colour_="blue")
