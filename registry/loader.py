"""Lazy, isolated plugin discovery through the ``etude.plugins`` entry-point group.

Each plugin is imported and asked to register on its own: one that raises is
recorded (name, distribution, version, error) and skipped, so a broken plugin
never takes the host down. Environment variables:

- ``ETUDE_STRICT_PLUGINS=1``: a failing plugin raises :class:`PluginLoadError`.
- ``ETUDE_PLUGINS=a,b``: load only these plugins (allow-list).
- ``ETUDE_DISABLE_PLUGINS=a,b``: never load these (deny-list).
"""

from __future__ import annotations

import os
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginLoadError, RegistryError
from .registry import Registration, Registry
from .specs import PluginRecord

GROUP = "etude.plugins"


def _env_list(name: str) -> set[str] | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def strict_mode() -> bool:
    return os.environ.get("ETUDE_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


def selected(name: str) -> bool:
    """Whether the allow/deny variables let plugin ``name`` load."""
    allow, deny = _env_list("ETUDE_PLUGINS"), _env_list("ETUDE_DISABLE_PLUGINS")
    if allow is not None and name not in allow:
        return False
    return not (deny is not None and name in deny)


class PluginLoader:
    """Registers plugin objects with pluggy and runs their hooks one plugin at a time."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)

    def discover(self) -> None:
        """Load every selected entry point of group ``etude.plugins``."""
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            if not selected(ep.name):
                continue
            dist = getattr(ep, "dist", None)
            distribution = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            self._load_entry_point(ep, distribution, version)

    def _load_entry_point(self, ep: EntryPoint, distribution: str | None, version: str | None) -> None:
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            self._fail(PluginRecord(ep.name, distribution, version, module=ep.value), exc, "import")
            return
        self.register(plugin, ep.name, distribution=distribution, version=version)

    def register(
        self, plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None
    ) -> PluginRecord:
        """Register one plugin object and run its hooks; failures are recorded, not raised."""
        record = PluginRecord(name, distribution, version, module=getattr(plugin, "__name__", None))
        if name in {p.name for p in self.registry.plugins()}:
            self._fail(record, RegistryError(f"a plugin named {name!r} is already registered"), "register")
            return record
        try:
            self.manager.register(plugin, name=name)
        except Exception as exc:  # noqa: BLE001
            self._fail(record, exc, "register")
            return record
        try:
            self._apply(plugin, record)
        except Exception as exc:  # noqa: BLE001
            self.manager.unregister(plugin)
            self._fail(record, exc, "register")
            return record
        self.registry.record_plugin(record)
        return record

    def _apply(self, plugin: Any, record: PluginRecord) -> None:
        info = self._call(plugin, "plugin_info") or {}
        if hasattr(info, "as_dict"):
            info = info.as_dict()
        record.paper = info.get("paper")
        record.requires_core = info.get("requires_core")
        record.docs = info.get("docs")
        if record.requires_core:
            _check_core_version(record.requires_core)
        staged = Registration(record.name)
        self._call(plugin, "register_components", registry=staged)
        self._call(plugin, "register_claims", registry=staged)
        # Validate everything before committing anything.
        probe = Registry()
        for spec in staged.components:
            probe.add_spec(spec)
        for claim in staged.claim_specs:
            probe.add_claim_spec(claim)
        for spec in staged.components:
            self.registry.add_spec(spec)
        for claim in staged.claim_specs:
            self.registry.add_claim_spec(claim)

    def _call(self, plugin: Any, hook_name: str, **kwargs: Any) -> Any:
        caller = getattr(self.manager.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                return impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        return None

    def _fail(self, record: PluginRecord, exc: BaseException, stage: str) -> None:
        record.status = "failed"
        record.error = f"{type(exc).__name__} during {stage}: {exc}"
        if strict_mode():
            raise PluginLoadError(
                f"plugin {record.name!r} ({record.distribution or 'no distribution'}) failed: {record.error}"
            ) from exc
        self.registry.record_plugin(record)


def _check_core_version(specifier: str) -> None:
    from packaging.specifiers import SpecifierSet  # noqa: PLC0415

    from etude._version import __version__  # noqa: PLC0415

    if __version__ not in SpecifierSet(specifier, prereleases=True):
        raise RegistryError(
            f"requires etude{specifier} but etude {__version__} is installed; "
            f"install a matching etude or a plugin version made for {__version__}"
        )
