"""etude.testing: fixtures and conformance suites for plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin's tests
get the ``etude_registry`` fixture without importing anything. The
conformance suites live in :mod:`etude.testing.conformance`; subclass the one
for your component's kind and define its ``make_*`` methods.
:func:`check_plugin` runs the repository's own plugin checks (a light entry
point, clean registration, importable factories) on any installed plugin.
"""

from .registry import TemporaryRegistry, temporary_registry


def check_plugin(name: str, **options):
    """Lightness, registration and factory-import checks on installed plugin ``name``.

    See :mod:`etude.testing.plugin_check`; raises one AssertionError listing every problem.
    """
    from .plugin_check import check_plugin as run  # noqa: PLC0415

    return run(name, **options)


__all__ = ["TemporaryRegistry", "check_plugin", "temporary_registry"]
