"""Component configuration: frozen, keyword-only attrs classes, structured with cattrs.

Every component declares its configuration as a class built with
:func:`configclass` and exposes it as ``Config`` on the component class.
Plain dictionaries (from Python, YAML or the command line) are structured
into it by :func:`structure_config`, which forbids unknown keys and turns
every failure into one :class:`ConfigError` naming the component, the field,
the bad value, what is allowed, and the closest valid field for a misspelt
name.

Example:
    >>> from etude.config import configclass, field, positive, structure_config
    >>> @configclass
    ... class WidthConfig:
    ...     width: int = field(default=8, validator=positive, doc="hidden units")
    >>> structure_config(WidthConfig, {"width": 16}).width
    16
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs

from etude.registry.errors import EtudeError, close_matches


class ConfigError(EtudeError, ValueError):
    """A configuration value or key was rejected.

    Attributes name the ``component`` (``kind/name`` or class), the ``field``,
    the bad ``value`` and the ``allowed`` values or range.
    """

    def __init__(
        self,
        message: str,
        *,
        component: str | None = None,
        field: str | None = None,
        value: Any = None,
        allowed: str | None = None,
    ) -> None:
        self.component, self.field, self.value, self.allowed = component, field, value, allowed
        where = f"{component}: " if component else ""
        super().__init__(where + message)


class FieldValueError(ValueError):
    """Raised by etude's validators; carries the allowed values for :class:`ConfigError`."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"'{field}' must be {allowed}, got {value!r}")


configclass = functools.partial(attrs.frozen, kw_only=True)
configclass.__doc__ = "Decorator: a frozen, keyword-only attrs class (a component's config)."


def field(
    *,
    default: Any = attrs.NOTHING,
    doc: str = "",
    validator: Any = None,
    allow_nonfinite: bool = False,
    max_int: int | None = None,
    **kwargs: Any,
) -> Any:
    """An attrs field whose ``doc`` appears in ``etude describe`` and the docs.

    Every config value is checked by :func:`check_config_values`: floats must
    be finite unless ``allow_nonfinite=True``; integers must be at most
    ``max_int`` (default :data:`MAX_INT`, so that a size of 10**12 is an
    error, not an allocation that never ends).
    """
    metadata = dict(kwargs.pop("metadata", {}) or {})
    metadata["doc"] = doc
    if allow_nonfinite:
        metadata["allow_nonfinite"] = True
    if max_int is not None:
        metadata["max_int"] = max_int
    return attrs.field(default=default, validator=validator, metadata=metadata, **kwargs)


#: The largest integer a config field accepts unless it sets ``max_int`` (sizes, counts, steps).
MAX_INT = 2**31 - 1
#: Seeds (fields named ``seed`` or ``*_seed``) are integers in [0, MAX_SEED].
MAX_SEED = 2**63 - 1


def _is_seed(name: str) -> bool:
    return name == "seed" or name.endswith("_seed")


def _is_steps(name: str) -> bool:
    return name == "steps" or name.endswith("_steps")


def check_config_values(config: Any, *, component: str | None = None) -> None:
    """The rules every config obeys, whatever its own validators say.

    - floats (also inside tuples/lists) are finite unless the field sets ``allow_nonfinite=True``;
    - integers are at most the field's ``max_int`` (default :data:`MAX_INT`);
    - seeds (``seed``, ``*_seed``) are integers in [0, :data:`MAX_SEED`];
    - step counts (``steps``, ``*_steps``) are >= 0.

    Raises :class:`ConfigError` naming the field, the value and what is allowed.
    """
    component = component or _component_label(type(config))
    for f in attrs.fields(type(config)):
        _check_field_value(f, getattr(config, f.name), component)


def _check_field_value(f: attrs.Attribute, value: Any, component: str) -> None:
    """:func:`check_config_values` for one field's value."""
    for item in _scalars(value):
        if isinstance(item, float) and not math.isfinite(item) and not f.metadata.get("allow_nonfinite"):
            raise ConfigError(
                f"'{f.name}' must be finite, got {value!r} (inf and NaN make every output NaN)",
                component=component, field=f.name, value=value, allowed="a finite number",
            )
        if isinstance(item, int) and not isinstance(item, bool):
            if _is_seed(f.name):
                if not 0 <= item <= MAX_SEED:
                    raise ConfigError(
                        f"'{f.name}' must be a seed in [0, 2**63 - 1], got {value!r}",
                        component=component, field=f.name, value=value, allowed="an integer in [0, 2**63 - 1]",
                    )
                continue
            if _is_steps(f.name) and item < 0:
                raise ConfigError(
                    f"'{f.name}' must be >= 0, got {value!r}",
                    component=component, field=f.name, value=value, allowed="an integer >= 0",
                )
            limit = f.metadata.get("max_int", MAX_INT)
            if item > limit:
                raise ConfigError(
                    f"'{f.name}' is {value!r}, larger than {limit}: it could not be allocated "
                    "(raise the field's max_int if a larger value is meaningful)",
                    component=component, field=f.name, value=value, allowed=f"an integer <= {limit}",
                )


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _scalars(v)]
    return [value]


# -- validators (tiny callables; messages name the field and the value) ------
def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not (_number(value) and value > 0):
        raise FieldValueError(attribute.name, value, "a number > 0")


def non_negative(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not (_number(value) and value >= 0):
        raise FieldValueError(attribute.name, value, "a number >= 0")


def in_range(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Callable:
    """Validator: ``low <= value <= high`` (either end open if asked)."""
    text = f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        ok = _number(value) and not math.isnan(value)
        ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not ok:
            raise FieldValueError(attribute.name, value, text)

    return check


def one_of(*choices: Any) -> Callable:
    """Validator: the value is one of ``choices``."""
    text = "one of " + ", ".join(repr(c) for c in choices)

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise FieldValueError(attribute.name, value, text)

    return check


def each(validator: Callable) -> Callable:
    """Validator: apply ``validator`` to every element of a sequence field."""

    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        for item in value:
            validator(instance, attribute, item)

    return check


# -- structuring -----------------------------------------------------------
def _strict_int(value: Any, _type: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a bool is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _strict_float(value: Any, _type: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _strict_bool(value: Any, _type: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0", "yes", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError(f"expected true or false, got {value!r}")


def _strict_str(value: Any, _type: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


converter = cattrs.Converter(forbid_extra_keys=True)
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(float, _strict_float)
converter.register_structure_hook(bool, _strict_bool)
converter.register_structure_hook(str, _strict_str)


def _component_label(cls: type) -> str:
    return getattr(cls, "__qualname__", str(cls))


def structure_config(cls: type, data: Mapping[str, Any] | None, *, component: str | None = None) -> Any:
    """Build config class ``cls`` from a mapping; every failure is a :class:`ConfigError`."""
    component = component or _component_label(cls)
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"configuration must be a mapping of field names to values, got {type(data).__name__}",
            component=component,
        )
    attrs.resolve_types(cls)
    fields = {f.name: f for f in attrs.fields(cls)}
    names = list(fields)
    for key in data:
        if key not in fields:
            hint = close_matches(str(key), names, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(
                f"unknown field {key!r}.{suggestion} Fields are: {', '.join(names) or 'none'}.",
                component=component,
                field=str(key),
                value=data[key],
                allowed=", ".join(names),
            )
    values: dict[str, Any] = {}
    for name, value in data.items():
        target = fields[name].type
        try:
            values[name] = value if target is None or target is Any else converter.structure(value, target)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one documented error
            allowed = _type_name(target)
            raise ConfigError(
                f"field {name!r} must be {allowed}, got {value!r} ({_reason(exc)})",
                component=component,
                field=name,
                value=value,
                allowed=allowed,
            ) from None
    missing = [n for n, f in fields.items() if f.default is attrs.NOTHING and n not in values]
    if missing:
        raise ConfigError(
            f"missing required field(s): {', '.join(missing)}",
            component=component,
            field=missing[0],
            allowed=_type_name(fields[missing[0]].type),
        )
    for name, value in values.items():  # before the class's own checks, which may derive from these values
        _check_field_value(fields[name], value, component)
    try:
        config = cls(**values)
    except FieldValueError as exc:
        raise ConfigError(
            str(exc), component=component, field=exc.field, value=exc.value, allowed=exc.allowed
        ) from None
    except Exception as exc:  # noqa: BLE001
        name = _attribute_name(exc)
        raise ConfigError(
            f"invalid value{f' for {name!r}' if name else ''}: {_reason(exc)}",
            component=component,
            field=name,
            value=values.get(name) if name else None,
        ) from None
    check_config_values(config, component=component)
    return config


def _attribute_name(exc: BaseException) -> str | None:
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, attrs.Attribute):
            return arg.name
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_reason(e) for e in exc.exceptions)
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}.get(
            tp.__name__, tp.__name__
        )
    return str(tp).replace("typing.", "")


def evolve_config(config: Any, overrides: Mapping[str, Any], *, component: str | None = None) -> Any:
    """A copy of ``config`` with ``overrides`` applied, validated like :func:`structure_config`."""
    merged = {f.name: getattr(config, f.name) for f in attrs.fields(type(config))}
    merged.update(overrides)
    return structure_config(type(config), merged, component=component)


def load_config(cls: type, source: str | Mapping[str, Any], *, component: str | None = None) -> Any:
    """Structure ``cls`` from a mapping, a YAML string, or a path to a YAML file."""
    if isinstance(source, Mapping):
        return structure_config(cls, source, component=component)
    import pathlib  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    text = source
    path = pathlib.Path(source)
    if "\n" not in source and path.suffix in {".yaml", ".yml"}:
        text = path.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", component=component or _component_label(cls)) from None
    return structure_config(cls, data or {}, component=component)


def config_class(factory: Any) -> type | None:
    """The attrs config class a factory declares as ``Config``, or None."""
    cls = getattr(factory, "Config", None)
    return cls if isinstance(cls, type) and attrs.has(cls) else None


def build_component(factory: Any, config: Mapping[str, Any], *, component: str) -> Any:
    """Call ``factory`` with validated configuration.

    A factory with an attrs ``Config`` receives the structured config object;
    any other callable receives the keywords, checked against its signature.
    """
    cls = config_class(factory)
    if cls is not None:
        return factory(structure_config(cls, config, component=component))
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return factory(**config)
    params = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    names = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not takes_any:
        for key in config:
            if key not in names:
                hint = close_matches(key, names, n=1)
                suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
                raise ConfigError(
                    f"unknown field {key!r}.{suggestion} Fields are: {', '.join(names) or 'none'}.",
                    component=component,
                    field=key,
                    value=config[key],
                    allowed=", ".join(names),
                )
    try:
        signature.bind(**config)
    except TypeError as exc:
        raise ConfigError(str(exc), component=component) from None
    return factory(**config)


def config_fields(factory: Any) -> list[dict[str, Any]]:
    """Name, type, default, doc and required flag of each configuration field of ``factory``."""
    cls = config_class(factory)
    rows: list[dict[str, Any]] = []
    if cls is not None:
        attrs.resolve_types(cls)
        for f in attrs.fields(cls):
            default = f.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory() if not default.takes_self else None
            rows.append(
                {
                    "name": f.name,
                    "type": _plain_type(f.type),
                    "default": None if default is attrs.NOTHING else default,
                    "required": default is attrs.NOTHING,
                    "doc": f.metadata.get("doc", ""),
                }
            )
        return rows
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return rows
    for name, p in params.items():
        if p.kind not in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            continue
        rows.append(
            {
                "name": name,
                "type": "" if p.annotation is p.empty else _plain_type(p.annotation),
                "default": None if p.default is p.empty else p.default,
                "required": p.default is p.empty,
                "doc": "",
            }
        )
    return rows


def _plain_type(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def config_as_dict(config: Any) -> dict[str, Any]:
    """A plain, JSON- and checkpoint-friendly dict of a config object."""
    return converter.unstructure(config)


__all__ = [
    "ConfigError",
    "FieldValueError",
    "MAX_INT",
    "MAX_SEED",
    "build_component",
    "check_config_values",
    "config_as_dict",
    "config_class",
    "config_fields",
    "configclass",
    "each",
    "evolve_config",
    "field",
    "in_range",
    "load_config",
    "non_negative",
    "one_of",
    "positive",
    "structure_config",
]
