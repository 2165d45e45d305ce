"""etude: a plugin-based scientific modeling framework.

Each research paper is a plugin that registers its components and its claims.
Compose components in PyTorch with :func:`create`; check a paper's claims with
``etude reproduce``.

``import etude`` is light: it imports neither torch nor any plugin. Plugins
are discovered on the first registry access, and the torch-based parts
(component base classes, runtime helpers) load on first attribute access.

Example:
    >>> import etude
    >>> attention = etude.create("attention", "multihead", embed_dim=16, num_heads=4)
    >>> sorted(c["name"] for c in etude.list_components("neuron"))[:2]
    ['relu', 'sigmoid']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from etude._version import __version__
from etude.registry import (
    ComponentNotFoundError,
    EtudeError,
    PluginLoadError,
    RegistryError,
    get_registry,
    hookimpl,
    hookspec,
)

if TYPE_CHECKING:  # pragma: no cover
    from etude.claims import JudgeContext, Outcome, SeedContext
    from etude.config import ConfigError
    from etude.kinds import (
        AttentionMechanism,
        Augmenter,
        Environment,
        Estimator,
        Model,
        Neuron,
        Procedure,
        Sampler,
        SimilarityMetric,
        Target,
        Task,
    )


def list_components(kind: str | None = None, pattern: str = "*") -> list[dict[str, Any]]:
    """Registered components as ``{"kind", "name", "plugin", "summary"}`` dicts.

    ``kind`` restricts to one kind; ``pattern`` is an fnmatch pattern on names.
    Imports no component implementation.
    """
    return [
        {"kind": s.kind, "name": s.name, "plugin": s.plugin, "summary": s.summary}
        for s in get_registry().components(kind, pattern)
    ]


def create(kind: str, name: str, /, **config: Any) -> Any:
    """Build component ``kind/name`` from keyword configuration.

    Unknown names and bad configuration raise an error naming the problem
    and the closest valid choices.
    """
    return get_registry().create(kind, name, **config)


def describe(kind: str, name: str) -> dict[str, Any]:
    """Plugin, paper, summary, docstring and config fields of ``kind/name``."""
    return get_registry().describe(kind, name)


def plugins() -> list[dict[str, Any]]:
    """Every discovered plugin: name, distribution, version, status, error, paper."""
    return [p.as_dict() for p in get_registry().plugins()]


def list_claims(plugin: str | None = None) -> list[dict[str, Any]]:
    """Registered claims (optionally of one plugin): id, plugin, statement, source, paper, scales."""
    return [
        {
            "id": c.id,
            "plugin": c.plugin,
            "statement": c.statement,
            "source": c.source,
            "paper": dict(c.paper),
            "scales": list(c.scales),
        }
        for c in get_registry().claims(plugin)
    ]


_LAZY = {
    # kinds (torch)
    "Augmenter": "etude.kinds",
    "AttentionMechanism": "etude.kinds",
    "Estimator": "etude.kinds",
    "Sampler": "etude.kinds",
    "SimilarityMetric": "etude.kinds",
    "Neuron": "etude.kinds",
    "Target": "etude.kinds",
    "Task": "etude.kinds",
    "Model": "etude.kinds",
    "Procedure": "etude.kinds",
    "Environment": "etude.kinds",
    # configs
    "ConfigError": "etude.config",
    "configclass": "etude.config",
    # claims
    "SeedContext": "etude.claims",
    "JudgeContext": "etude.claims",
    "Outcome": "etude.claims",
    "reproduce": "etude.claims",
}
_SUBMODULES = {"kinds", "config", "claims", "runtime", "testing", "builtin", "cli", "registry"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"etude.{name}")
    raise AttributeError(f"module 'etude' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "AttentionMechanism",
    "Augmenter",
    "ComponentNotFoundError",
    "ConfigError",
    "Environment",
    "Estimator",
    "EtudeError",
    "JudgeContext",
    "Model",
    "Neuron",
    "Outcome",
    "PluginLoadError",
    "Procedure",
    "RegistryError",
    "Sampler",
    "SeedContext",
    "SimilarityMetric",
    "Target",
    "Task",
    "__version__",
    "configclass",
    "create",
    "describe",
    "hookimpl",
    "hookspec",
    "list_claims",
    "list_components",
    "plugins",
    "reproduce",
]
