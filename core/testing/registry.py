"""A registry isolated from installed plugins, for tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from etude.registry import PluginLoader, PluginLoadError, PluginRecord, Registry, set_registry


class TemporaryRegistry:
    """A fresh registry with entry-point discovery blocked, installed as etude's global one.

    Use :meth:`add_plugin` to register a module, class or object with
    ``@etude.hookimpl`` functions through the real loading path (hooks,
    validation, failure isolation).
    """

    def __init__(self, *, builtin: bool = False) -> None:
        self.registry = Registry()
        self.loader = PluginLoader(self.registry)
        if builtin:
            from etude.builtin import plugin  # noqa: PLC0415

            self.add_plugin(plugin, name="builtin")

    def add_plugin(self, plugin: Any, name: str, *, expect_failure: bool = False, **kwargs: Any) -> PluginRecord:
        """Register ``plugin`` as ``name``; raise :class:`PluginLoadError` if it fails to register.

        Pass ``expect_failure=True`` to get the failed record back instead
        (for tests of failure reporting); it then raises if the plugin loads.
        """
        record = self.loader.register(plugin, name, **kwargs)
        if expect_failure and record.status != "failed":
            raise AssertionError(f"plugin {name!r} was expected to fail to register, but it loaded")
        if not expect_failure and record.status == "failed":
            raise PluginLoadError(f"plugin {name!r} failed to register: {record.error}\n{record.traceback or ''}")
        return record


@contextlib.contextmanager
def temporary_registry(*, builtin: bool = False) -> Iterator[TemporaryRegistry]:
    """Context manager: install a :class:`TemporaryRegistry`, restore the previous one after."""
    temp = TemporaryRegistry(builtin=builtin)
    previous = set_registry(temp.registry, temp.loader)
    try:
        yield temp
    finally:
        set_registry(*previous)
