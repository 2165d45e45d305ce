"""etude.registry: hookspecs, plugin discovery and the component registry.

The process-wide registry is built on first use (not on ``import etude``)
by discovering entry points in group ``etude.plugins``.
"""

from __future__ import annotations

from .errors import (
    ComponentLoadError,
    ComponentNotFoundError,
    EtudeError,
    PluginLoadError,
    RegistryError,
)
from .hookspecs import hookimpl, hookspec
from .loader import GROUP, PluginLoader
from .registry import Registration, Registry
from .specs import KINDS, SCALES, ClaimSpec, ComponentSpec, PluginRecord

_REGISTRY: Registry | None = None
_LOADER: PluginLoader | None = None


def get_registry() -> Registry:
    """The process-wide registry, discovering plugins on first call."""
    global _REGISTRY, _LOADER
    if _REGISTRY is None:
        registry = Registry()
        loader = PluginLoader(registry)
        loader.discover()
        _REGISTRY, _LOADER = registry, loader
    return _REGISTRY


def set_registry(registry: Registry | None, loader: PluginLoader | None = None) -> tuple:
    """Replace the process-wide registry (None: rediscover on next use); returns the previous pair."""
    global _REGISTRY, _LOADER
    previous = (_REGISTRY, _LOADER)
    _REGISTRY, _LOADER = registry, loader
    return previous


def reload_plugins() -> Registry:
    """Forget the current registry and rediscover every plugin."""
    set_registry(None)
    return get_registry()


__all__ = [
    "GROUP",
    "KINDS",
    "SCALES",
    "ClaimSpec",
    "ComponentLoadError",
    "ComponentNotFoundError",
    "ComponentSpec",
    "EtudeError",
    "PluginLoadError",
    "PluginLoader",
    "PluginRecord",
    "Registration",
    "Registry",
    "RegistryError",
    "get_registry",
    "hookimpl",
    "hookspec",
    "reload_plugins",
    "set_registry",
]
