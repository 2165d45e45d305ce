"""Config structuring: precise errors, and property-based: valid config or ConfigError, nothing else."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etude.config import (
    ConfigError,
    configclass,
    config_fields,
    evolve_config,
    field,
    in_range,
    load_config,
    one_of,
    positive,
    structure_config,
)


@configclass
class ExampleConfig:
    dim: int = field(validator=positive, doc="width")
    rate: float = field(default=0.1, validator=in_range(0.0, 1.0), doc="a rate")
    mode: str = field(default="auto", validator=one_of("auto", "gram", "feature"), doc="how")
    flag: bool = field(default=False, doc="a flag")
    hidden: tuple[int, ...] = field(default=(8, 8), doc="layer widths")


def test_valid_and_defaults():
    cfg = structure_config(ExampleConfig, {"dim": 4, "hidden": [3, 2]})
    assert cfg == ExampleConfig(dim=4, hidden=(3, 2))
    assert attrs.has(ExampleConfig) and cfg.rate == 0.1


def test_frozen_and_keyword_only():
    cfg = ExampleConfig(dim=2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cfg.dim = 3
    with pytest.raises(TypeError):
        ExampleConfig(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "field_name", "pattern"),
    [
        ({"dim": 4, "rtae": 0.2}, "rtae", r"unknown field 'rtae'. Did you mean 'rate'\?"),
        ({"dim": 0}, "dim", r"'dim' must be a number > 0, got 0"),
        ({"dim": 4, "rate": 2.0}, "rate", r"'rate' must be a number in \[0.0, 1.0\], got 2.0"),
        ({"dim": 4, "mode": "fast"}, "mode", r"'mode' must be one of 'auto', 'gram', 'feature', got 'fast'"),
        ({"dim": 2.5}, "dim", r"field 'dim' must be an integer, got 2.5"),
        ({"dim": True}, "dim", r"field 'dim' must be an integer, got True"),
        ({}, "dim", r"missing required field\(s\): dim"),
    ],
)
def test_errors_name_component_field_value(data, field_name, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        structure_config(ExampleConfig, data, component="similarity/example")
    assert info.value.component == "similarity/example"
    assert info.value.field == field_name
    assert str(info.value).startswith("similarity/example: ")


def test_strings_from_yaml_or_cli_are_converted():
    cfg = structure_config(ExampleConfig, {"dim": "7", "rate": "0.5", "flag": "true"})
    assert (cfg.dim, cfg.rate, cfg.flag) == (7, 0.5, True)


def test_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dim: 3\nmode: gram\nhidden: [1, 2]\n")
    assert load_config(ExampleConfig, str(path)) == ExampleConfig(dim=3, mode="gram", hidden=(1, 2))
    assert load_config(ExampleConfig, "dim: 5\n").dim == 5
    with pytest.raises(ConfigError, match="unknown field 'dimm'"):
        load_config(ExampleConfig, "dimm: 5\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(ExampleConfig, "dim: [\n")


def test_evolve_validates():
    cfg = ExampleConfig(dim=2)
    assert evolve_config(cfg, {"dim": 3}).dim == 3
    with pytest.raises(ConfigError, match="'dim' must be"):
        evolve_config(cfg, {"dim": -3})


def test_config_fields_for_docs():
    rows = {r["name"]: r for r in config_fields(type("F", (), {"Config": ExampleConfig}))}
    assert rows["dim"]["required"] and rows["rate"]["default"] == 0.1 and rows["mode"]["doc"] == "how"


values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.integers(-3, 30), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
keys = st.sampled_from(["dim", "rate", "mode", "flag", "hidden", "dmi", "extra", ""])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=5))
def test_random_dicts_give_config_or_config_error(data):
    try:
        cfg = structure_config(ExampleConfig, data)
    except ConfigError as exc:
        assert exc.component and str(exc)
        return
    assert isinstance(cfg, ExampleConfig)
    assert cfg.dim > 0 and 0 <= cfg.rate <= 1 and cfg.mode in {"auto", "gram", "feature"}


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_non_mapping_gives_config_error(data):
    if data is None:
        with pytest.raises(ConfigError, match="missing required"):
            structure_config(ExampleConfig, data)
        return
    with pytest.raises(ConfigError, match="must be a mapping"):
        structure_config(ExampleConfig, data)
