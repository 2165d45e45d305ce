"""The mixin every component kind shares: a validated, frozen ``config``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from etude.config import ConfigError, config_class, evolve_config, structure_config


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
            self.config = evolve_config(config, overrides, component=label) if overrides else config
        else:
            raise ConfigError(
                f"config must be a {cls.__qualname__} or a mapping, got {type(config).__name__}",
                component=label,
            )
