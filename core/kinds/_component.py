"""The mixin every component kind shares: a validated, frozen ``config``."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

from etude.config import ConfigError, check_config_values, config_class, evolve_config, structure_config


class Component:
    """Holds ``self.config``, an instance of the class's attrs ``Config``.

    A component is built three equivalent ways::

        LinearCKA()                                 # defaults
        LinearCKA(method="gram")                    # keyword overrides
        LinearCKA(LinearCKAConfig(method="gram"))   # a config object
        etude.create("similarity", "linear-cka", method="gram")

    Subclasses set ``Config`` and call ``super().__init__(config, **overrides)``
    first in their ``__init__``. Device and dtype are never config fields.
    """

    Config: ClassVar[type | None] = None
    config: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("fit", "run"):
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "_etude_checks_arguments", False):
                setattr(cls, name, _checking_run_arguments(method))

    def _init_config(self, config: Any = None, overrides: Mapping[str, Any] | None = None) -> None:
        overrides = dict(overrides or {})
        cls = config_class(type(self))
        label = type(self).__qualname__
        if cls is None:
            if config is not None or overrides:
                raise ConfigError(
                    "this component declares no Config class, so it takes no configuration",
                    component=label,
                )
            self.config = None
            return
        if config is None or isinstance(config, Mapping):
            self.config = structure_config(cls, {**dict(config or {}), **overrides}, component=label)
        elif isinstance(config, cls):
            if not overrides:
                check_config_values(config, component=label)
            self.config = evolve_config(config, overrides, component=label) if overrides else config
        else:
            raise ConfigError(
                f"config must be a {cls.__qualname__} or a mapping, got {type(config).__name__}",
                component=label,
            )


def check_run_arguments(owner: str, method: str, kwargs: Mapping[str, Any]) -> None:
    """``steps`` (None or an integer >= 0) and ``seed`` (an integer in [0, 2**63 - 1]) of ``fit``/``run``."""
    steps = kwargs.get("steps")
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 0):
        raise ValueError(f"{owner}.{method}: steps must be an integer >= 0 (or None for the config's), got {steps!r}")
    if "seed" in kwargs:
        seed = kwargs["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**63 - 1:
            raise ValueError(f"{owner}.{method}: seed must be an integer in [0, 2**63 - 1], got {seed!r}")


def _checking_run_arguments(method: Any) -> Any:
    @functools.wraps(method)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        check_run_arguments(type(self).__name__, method.__name__, kwargs)
        return method(self, *args, **kwargs)

    checked._etude_checks_arguments = True  # type: ignore[attr-defined]
    return checked
