"""The hooks an etude plugin may implement.

A plugin is a module (or any object) named by an entry point in group
``etude.plugins``. It implements one or more of the hooks below, marked with
``@etude.hookimpl``. Every hook receives what it needs as a keyword argument;
a plugin implements only the hooks it uses.
"""

from __future__ import annotations

import pluggy

PROJECT = "etude"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def plugin_info():
    """Called once, before registration: return the plugin's metadata.

    Return a mapping (or :class:`etude.registry.PluginInfo`) with any of
    ``paper`` (a mapping with ``authors``, ``title``, ``venue``, ``year``,
    ``arxiv``), ``requires_core`` (a PEP 440 specifier such as ``">=0.1,<0.2"``,
    checked against the installed etude) and ``docs`` (a one-paragraph summary).
    """


@hookspec
def register_components(registry):
    """Called once at discovery: add components with ``registry.add(kind, name, factory, **metadata)``."""


@hookspec
def register_claims(registry):
    """Called once at discovery: add the paper's claims with ``registry.add_claim(id, run=..., judge=..., ...)``."""
