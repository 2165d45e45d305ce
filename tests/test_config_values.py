"""Issue 14, items 10-11: non-finite, unallocatable and negative seed/steps values are rejected everywhere."""

from __future__ import annotations

import attrs
import pytest
import torch

import etude
from etude.config import ConfigError, check_config_values, config_class, configclass, field, structure_config


def _components_with_config():
    rows = []
    for spec in etude.get_registry().components():
        if "example" not in spec.metadata:
            continue
        cls = config_class(spec.load())
        if cls is not None:
            attrs.resolve_types(cls)
            rows.append((spec, cls))
    return rows


COMPONENTS = _components_with_config()


def _cases():
    for spec, cls in COMPONENTS:
        for f in attrs.fields(cls):
            if f.type is float and not f.metadata.get("allow_nonfinite"):
                yield pytest.param(spec, f.name, float("inf"), id=f"{spec.key}.{f.name}=inf")
                yield pytest.param(spec, f.name, float("nan"), id=f"{spec.key}.{f.name}=nan")
            elif f.type is int:
                seed = f.name == "seed" or f.name.endswith("_seed")
                if seed or f.name == "steps" or f.name.endswith("_steps"):
                    yield pytest.param(spec, f.name, -1, id=f"{spec.key}.{f.name}=-1")
                if not seed:
                    yield pytest.param(spec, f.name, 10**12, id=f"{spec.key}.{f.name}=1e12")


@pytest.mark.parametrize(("spec", "name", "value"), list(_cases()))
def test_every_registered_config_rejects_the_value_before_building(spec, name, value):
    config = {**spec.metadata["example"], name: value}
    with pytest.raises(ConfigError, match=rf"'?{name}'?"):
        etude.create(spec.kind, spec.name, **config)


def test_the_issue_examples():
    with pytest.raises(ConfigError, match="'std' must be finite"):
        etude.create("augmenter", "additive-noise", std=float("inf"))
    with pytest.raises(ConfigError, match="'alpha' must be finite"):
        etude.create("augmenter", "mixup", alpha=float("inf"))


@configclass
class Probe:
    rate: float = field(default=1.0)
    bound: float = field(default=float("inf"), allow_nonfinite=True)
    widths: tuple[float, ...] = field(default=(1.0,))
    seed: int = field(default=0)
    steps: int = field(default=1)
    count: int = field(default=1, max_int=10**15)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"rate": float("nan")}, "'rate' must be finite"),
        ({"widths": (1.0, float("-inf"))}, "'widths' must be finite"),
        ({"seed": -1}, r"'seed' must be a seed in \[0, 2\*\*63 - 1\]"),
        ({"seed": 2**64}, "'seed' must be a seed"),
        ({"steps": -1}, "'steps' must be >= 0"),
        ({"count": 10**16}, "larger than"),
    ],
)
def test_core_rules(data, match):
    with pytest.raises(ConfigError, match=match):
        structure_config(Probe, data)


def test_fields_may_allow_what_the_rules_forbid():
    assert structure_config(Probe, {"bound": float("inf"), "count": 10**14, "seed": 2**40}).count == 10**14


def test_a_config_object_passed_directly_is_checked_too():
    from etude.builtin.neurons import Softplus

    bad = attrs.evolve(Softplus.Config(), **{attrs.fields(Softplus.Config)[0].name: float("inf")})
    with pytest.raises(ConfigError, match="must be finite"):
        Softplus(bad)
    check_config_values(Softplus.Config())


def test_fit_and_run_reject_negative_steps_and_seeds():
    from etude.kinds import Estimator

    class Tiny(Estimator):
        def fit(self, *data, steps=None, progress=False, seed=0):
            return self

        def estimate(self, *data):
            return torch.zeros(())

    with pytest.raises(ValueError, match=r"Tiny.fit: steps must be an integer >= 0"):
        Tiny().fit(torch.zeros(2), steps=-1)
    with pytest.raises(ValueError, match=r"Tiny.fit: seed must be"):
        Tiny().fit(torch.zeros(2), seed=-1)
    assert isinstance(Tiny().fit(torch.zeros(2), steps=0, seed=3), Tiny)
