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
import traceback
from collections.abc import Mapping
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
        except _ISOLATED as exc:  # noqa: BLE001 - isolation is the point
            self._fail(PluginRecord(ep.name, distribution, version, module=ep.value), exc, "import")
            return
        self.register(plugin, ep.name, distribution=distribution, version=version)

    def register(
        self, plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None
    ) -> PluginRecord:
        """Register one plugin object and run its hooks; failures are recorded, not raised.

        Registration is a transaction: the plugin's additions are validated
        against the live registry and committed together, or not at all.
        """
        record = PluginRecord(name, distribution, version, module=getattr(plugin, "__name__", None))
        if name in {p.name for p in self.registry.plugins()}:
            self._fail(record, RegistryError(f"a plugin named {name!r} is already registered"), "register")
            return record
        try:
            self.manager.register(plugin, name=name)
        except _ISOLATED as exc:  # noqa: BLE001
            self._fail(record, exc, "register")
            return record
        snapshot = self.registry.snapshot()
        try:
            self._apply(plugin, record)
        except _ISOLATED as exc:  # noqa: BLE001
            self.registry.restore(snapshot)
            self.manager.unregister(plugin)
            self._fail(record, exc, record.hook or "register")
            return record
        self.registry.record_plugin(record)
        return record

    def _apply(self, plugin: Any, record: PluginRecord) -> None:
        info = self._call(plugin, "plugin_info", record) or {}
        record.hook = "plugin_info"
        info = _check_info(info)
        record.paper = info.get("paper")
        record.requires_core = info.get("requires_core")
        record.docs = info.get("docs")
        if record.requires_core:
            _check_core_version(record.requires_core)
        staged = Registration(record.name)
        try:
            self._call(plugin, "register_components", record, registry=staged)
            self._call(plugin, "register_claims", record, registry=staged)
        finally:
            record.components = [spec.key for spec in staged.components]
        record.hook = "register"
        # Commit into the live registry; any error rolls the whole plugin back (see register).
        for spec in staged.components:
            self.registry.add_spec(spec)
        for claim in staged.claim_specs:
            self.registry.add_claim_spec(claim)
        for spec in staged.components:
            for other in self.registry.conflicts(spec):
                record.conflicts.append(f"{spec.key} (also registered by plugin {other.plugin!r}; use {spec.qualname!r})")
                owner = self.registry._plugins.get(other.plugin)
                if owner is not None:
                    owner.conflicts.append(
                        f"{other.key} (also registered by plugin {spec.plugin!r}; use {other.qualname!r})"
                    )
        record.hook = None

    def _call(self, plugin: Any, hook_name: str, record: PluginRecord, **kwargs: Any) -> Any:
        record.hook = hook_name
        caller = getattr(self.manager.hook, hook_name)
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                return impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        return None

    def _fail(self, record: PluginRecord, exc: BaseException, stage: str) -> None:
        record.status = "failed"
        record.hook = stage
        record.location = _raised_at(exc)
        record.traceback = "".join(traceback.format_exception(exc))
        where = f" at {record.location}" if record.location else ""
        record.error = f"{type(exc).__name__} during {stage}{where}: {exc}"
        if strict_mode():
            raise PluginLoadError(
                f"plugin {record.name!r} ({record.distribution or 'no distribution'}) failed: {record.error}"
            ) from exc
        self.registry.record_plugin(record)


# A plugin's SystemExit (and any other exception) is that plugin's failure;
# only KeyboardInterrupt (and GeneratorExit) still reach the host.
_ISOLATED = (Exception, SystemExit)


def _raised_at(exc: BaseException) -> str | None:
    """``file:line`` of the innermost frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    return f"{last.filename}:{last.lineno}"


def _check_info(info: Any) -> Mapping[str, Any]:
    """``plugin_info``'s return value as a mapping, or a RegistryError naming what is wrong."""
    if hasattr(info, "as_dict"):
        info = info.as_dict()
    if not isinstance(info, Mapping):
        raise RegistryError(f"plugin_info must return a mapping (or None), got {type(info).__name__}: {info!r}")
    expected = {"paper": Mapping, "requires_core": str, "docs": str}
    for key, value in info.items():
        kind = expected.get(key)
        if kind is not None and value is not None and not isinstance(value, kind):
            what = "a mapping" if kind is Mapping else "a string"
            raise RegistryError(f"plugin_info returned {key}={value!r}: {key} must be {what} or None")
    return info


def _check_core_version(specifier: str) -> None:
    from packaging.specifiers import SpecifierSet  # noqa: PLC0415

    from etude._version import __version__  # noqa: PLC0415

    if __version__ not in SpecifierSet(specifier, prereleases=True):
        raise RegistryError(
            f"requires etude{specifier} but etude {__version__} is installed; "
            f"install a matching etude or a plugin version made for {__version__}"
        )
