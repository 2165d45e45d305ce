"""The component and claim registry that plugins fill and users query."""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import ComponentNotFoundError, EtudeError, RegistryError, did_you_mean
from .known import install_hint
from .specs import KINDS, SCALES, ClaimSpec, ComponentSpec, PluginRecord


class Registry:
    """Components by ``(kind, name)``, claims by id, and the plugins that added them.

    Plugins never construct this: their hooks receive a registration view
    whose ``add`` and ``add_claim`` record which plugin added what.
    """

    def __init__(self) -> None:
        self._components: dict[tuple[str, str, str], ComponentSpec] = {}  # (kind, plugin, name)
        self._claims: dict[str, ClaimSpec] = {}
        self._plugins: dict[str, PluginRecord] = {}

    # -- plugins -----------------------------------------------------------
    def plugins(self) -> list[PluginRecord]:
        """Every plugin discovery saw, loaded or failed, sorted by name."""
        return sorted(self._plugins.values(), key=lambda p: p.name)

    def record_plugin(self, record: PluginRecord) -> None:
        self._plugins[record.name] = record

    def plugin(self, name: str) -> PluginRecord:
        try:
            return self._plugins[name]
        except KeyError:
            raise ComponentNotFoundError(
                f"No plugin named {name!r}.{did_you_mean(name, self._plugins)} "
                f"{self._plugins_summary()}"
            ) from None

    def _plugins_summary(self) -> str:
        loaded = [p.name for p in self.plugins() if p.status == "loaded"]
        failed = [f"{p.name} ({p.error})" for p in self.plugins() if p.status == "failed"]
        text = "Installed plugins: " + (", ".join(loaded) or "none") + "."
        if failed:
            text += " Failed plugins: " + "; ".join(failed) + " (run `etude plugins` for details)."
        return text

    # -- components ----------------------------------------------------------
    # Names are owned: every component is stored under its qualified name
    # ``plugin:name``. The short ``name`` is an alias that resolves only while
    # exactly one plugin registers it; when two plugins register the same short
    # name, both keep their components (under their qualified names), the short
    # name becomes ambiguous (lookups list both qualified names) and each
    # plugin's record lists the conflict (shown by ``etude plugins``).
    def add_spec(self, spec: ComponentSpec) -> None:
        check_spec(spec)
        if (spec.kind, spec.plugin, spec.name) in self._components:
            raise RegistryError(f"{spec.key} is registered twice by plugin {spec.plugin!r}")
        self._components[(spec.kind, spec.plugin, spec.name)] = spec

    def snapshot(self) -> tuple:
        """A copy of the registry's tables, for :meth:`restore` (the loader's transactions)."""
        return dict(self._components), dict(self._claims), dict(self._plugins)

    def restore(self, snapshot: tuple) -> None:
        """Put back the tables :meth:`snapshot` returned."""
        self._components, self._claims, self._plugins = (dict(t) for t in snapshot)

    def conflicts(self, spec: ComponentSpec) -> list[ComponentSpec]:
        """Components of other plugins with the same kind and short name as ``spec``."""
        return [
            s for (k, p, n), s in self._components.items() if k == spec.kind and n == spec.name and p != spec.plugin
        ]

    def add_claim_spec(self, claim: ClaimSpec) -> None:
        plugin_prefix = claim.id.split("/", 1)[0]
        if "/" not in claim.id or not claim.id.split("/", 1)[1]:
            raise RegistryError(f"claim id must look like '<plugin>/<claim-name>', got {claim.id!r}")
        if plugin_prefix != claim.plugin:
            raise RegistryError(f"claim {claim.id!r} must start with its plugin's name {claim.plugin!r}")
        bad = [s for s in claim.scales if s not in SCALES]
        if bad:
            raise RegistryError(f"claim {claim.id!r}: unknown scales {bad}; scales are {list(SCALES)}")
        for role in ("run", "judge"):
            ref = getattr(claim, role)
            if not (callable(ref) or (isinstance(ref, str) and ":" in ref)):
                raise RegistryError(
                    f"claim {claim.id!r}: {role}= must be a 'package.module:function' string or a callable, got {ref!r}"
                )
        if claim.id in self._claims:
            raise RegistryError(f"claim {claim.id!r} is registered twice")
        self._claims[claim.id] = claim

    def components(self, kind: str | None = None, pattern: str = "*") -> list[ComponentSpec]:
        """Registered components of ``kind`` (all kinds if None) whose name matches ``pattern`` (fnmatch)."""
        if kind is not None:
            check_kind(kind)
        found = [
            s
            for (k, _p, n), s in self._components.items()
            if (kind is None or k == kind) and (fnmatch.fnmatchcase(n, pattern) or fnmatch.fnmatchcase(s.qualname, pattern))
        ]
        return sorted(found, key=lambda s: (s.kind, s.name, s.plugin))

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The spec of ``kind/name``, or a :class:`ComponentNotFoundError` that says what to do.

        ``name`` is a short name (``linear-cka``), resolved when exactly one
        plugin registers it, or a qualified one (``cka:linear-cka``).
        """
        check_kind(kind)
        plugin, sep, short = name.rpartition(":")
        if sep:
            spec = self._components.get((kind, plugin, short))
            if spec is not None:
                return spec
        else:
            matches = [s for (k, _p, n), s in self._components.items() if k == kind and n == name]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                choices = " or ".join(repr(s.qualname) for s in sorted(matches, key=lambda s: s.plugin))
                raise ComponentNotFoundError(
                    f"{kind}/{name} is ambiguous: plugins {', '.join(sorted(s.plugin for s in matches))} "
                    f"each register it. Use the qualified name, {choices}, or uninstall (or disable with "
                    "ETUDE_DISABLE_PLUGINS) the one you do not want."
                )
        specs = [s for (k, _p, _n), s in self._components.items() if k == kind]
        shorts = [s.name for s in specs]
        names = sorted(
            s.qualname if sep or shorts.count(s.name) > 1 else s.name for s in specs
        )
        message = f"No {kind} named {name!r}.{did_you_mean(name, names)}"
        if not specs:
            message += f" No {kind} component is installed."
        message += install_hint(kind, short or name)
        raise ComponentNotFoundError(message + " " + self._plugins_summary())

    def create(self, kind: str, name: str, /, **config: Any) -> Any:
        """Build ``kind/name`` from keyword configuration (validated against its config class)."""
        from etude.config import build_component  # noqa: PLC0415 - keeps listing free of cattrs

        spec = self.get(kind, name)
        return build_component(spec.load(), config, component=spec.key)

    def describe(self, kind: str, name: str) -> dict[str, Any]:
        """Plugin, paper, docstring and config fields (with defaults and docs) of ``kind/name``."""
        from etude.config import config_fields  # noqa: PLC0415

        spec = self.get(kind, name)
        factory = spec.load()
        doc = inspect.getdoc(factory) or ""
        record = self._plugins.get(spec.plugin)
        return {
            "kind": kind,
            "name": spec.name,
            "qualname": spec.qualname,
            "plugin": spec.plugin,
            "factory": spec.factory if isinstance(spec.factory, str) else _qualname(factory),
            "summary": spec.summary or (doc.splitlines()[0] if doc else ""),
            "doc": doc,
            "paper": dict(record.paper) if record and record.paper else None,
            "config": config_fields(factory),
            "metadata": {k: v for k, v in spec.metadata.items() if k != "summary"},
        }

    # -- claims ------------------------------------------------------------
    def claims(self, plugin: str | None = None, pattern: str = "*") -> list[ClaimSpec]:
        """Registered claims, optionally of one plugin, whose id matches ``pattern``."""
        if plugin is not None and plugin not in self._plugins:
            self.plugin(plugin)  # raises with suggestions
        found = [
            c
            for c in self._claims.values()
            if (plugin is None or c.plugin == plugin) and fnmatch.fnmatchcase(c.id, pattern)
        ]
        return sorted(found, key=lambda c: c.id)

    def claim(self, claim_id: str) -> ClaimSpec:
        try:
            return self._claims[claim_id]
        except KeyError:
            raise ComponentNotFoundError(
                f"No claim {claim_id!r}.{did_you_mean(claim_id, self._claims)}"
            ) from None

    def __iter__(self) -> Iterator[ComponentSpec]:
        return iter(self.components())


class Registration:
    """The ``registry`` argument a plugin's hooks receive.

    Additions are staged and committed only if every hook of the plugin
    succeeds, so a plugin that fails half-way leaves nothing behind.
    """

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.components: list[ComponentSpec] = []
        self.claim_specs: list[ClaimSpec] = []

    def add(self, kind: str, name: str, factory: str | Callable[..., Any], **metadata: Any) -> None:
        """Register ``factory`` as ``kind/name``.

        ``factory`` is a class or callable, or a ``"module:attr"`` string
        imported on first :func:`etude.create`. ``metadata`` is free-form;
        etude reads ``summary`` (one line for listings) and ``example``
        (a config mapping used by the conformance suites and docs).
        """
        check_kind(kind)
        self.components.append(ComponentSpec(kind, name, factory, self.plugin, dict(metadata)))

    def add_claim(
        self,
        id: str,  # noqa: A002 - the contract's name
        *legacy: Any,
        run: str | Callable[..., Any] | None = None,
        judge: str | Callable[..., Any] | None = None,
        statement: str,
        source: str,
        paper: Mapping[str, Any] | None = None,
        scales: tuple[str, ...] = SCALES,
        seeds: Mapping[str, int] | None = None,
    ) -> None:
        """Register a claim ``"<plugin>/<name>"`` as per-seed units.

        ``run`` (a ``"module:function"``) measures one seed:
        ``run(ctx: SeedContext) -> dict`` of JSON-able values; ``judge``
        returns the :class:`etude.claims.Outcome` from every seed's dict:
        ``judge(ctx: JudgeContext, runs: list[dict])``. ``statement`` quotes
        the paper, ``source`` says where (table, figure, section), ``paper``
        holds the paper's own numbers, ``scales`` lists the scales at which
        the experiment runs, and ``seeds`` maps each scale to its default
        number of seeds.

        The single-function form ``add_claim(id, fn)`` (one function looping
        over every seed) was removed: a claim is split into ``run`` and
        ``judge`` so that seeds can run anywhere and resume.
        """
        if legacy or run is None or judge is None:
            raise RegistryError(
                f"claim {id!r}: register it as add_claim(id, run='module:seed_function', judge='module:judge_function', "
                "...); the single-function form add_claim(id, fn) was removed: split fn into a per-seed run "
                "(ctx: SeedContext) -> dict and a judge (ctx: JudgeContext, runs) -> Outcome (see the plugin guide)"
            )
        kwargs: dict[str, Any] = {"paper": dict(paper or {}), "scales": tuple(scales)}
        if seeds is not None:
            kwargs["seeds"] = {"smoke": 1, "quick": 3, "full": 5, **seeds}
        self.claim_specs.append(ClaimSpec(id, run, judge, statement, source, self.plugin, **kwargs))


def check_spec(spec: ComponentSpec) -> None:
    """Raise :class:`RegistryError` when ``spec`` is malformed (on its own, before any registry)."""
    check_kind(spec.kind)
    if not isinstance(spec.name, str) or not spec.name or spec.name != spec.name.strip() or any(
        c in spec.name for c in "/:"
    ):
        raise RegistryError(f"component name must be a non-empty string without '/' or ':': {spec.name!r}")
    if not (isinstance(spec.factory, str) or callable(spec.factory)):
        raise RegistryError(
            f"factory of {spec.key} must be a class, a callable or a 'module:attr' string, "
            f"got {type(spec.factory).__name__}"
        )
    if isinstance(spec.factory, str) and ":" not in spec.factory:
        raise RegistryError(f"factory of {spec.key} must look like 'package.module:attr', got {spec.factory!r}")


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ComponentNotFoundError(
            f"Unknown kind {kind!r}.{did_you_mean(kind, KINDS)} Kinds are: {', '.join(KINDS)}."
        )


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


__all__ = ["EtudeError", "Registration", "Registry", "check_kind"]
