"""etude.testing: fixtures and conformance suites for plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin's tests
get the ``etude_registry`` fixture without importing anything. The
conformance suites live in :mod:`etude.testing.conformance`; subclass the one
for your component's kind and define its ``make_*`` methods.
"""

from .registry import TemporaryRegistry, temporary_registry

__all__ = ["TemporaryRegistry", "temporary_registry"]
