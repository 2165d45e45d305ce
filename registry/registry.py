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
        self._components: dict[tuple[str, str], ComponentSpec] = {}
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

    # -- components --------------------------------------------------------
    def add_spec(self, spec: ComponentSpec) -> None:
        check_kind(spec.kind)
        if not spec.name or spec.name != spec.name.strip() or "/" in spec.name:
            raise RegistryError(f"component name must be a non-empty string without '/': {spec.name!r}")
        if not (isinstance(spec.factory, str) or callable(spec.factory)):
            raise RegistryError(
                f"factory of {spec.key} must be a class, a callable or a 'module:attr' string, "
                f"got {type(spec.factory).__name__}"
            )
        if isinstance(spec.factory, str) and ":" not in spec.factory:
            raise RegistryError(f"factory of {spec.key} must look like 'package.module:attr', got {spec.factory!r}")
        existing = self._components.get((spec.kind, spec.name))
        if existing is not None:
            raise RegistryError(
                f"{spec.key} is registered twice: by plugin {existing.plugin!r} and by {spec.plugin!r}"
            )
        self._components[(spec.kind, spec.name)] = spec

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
            for (k, n), s in self._components.items()
            if (kind is None or k == kind) and fnmatch.fnmatchcase(n, pattern)
        ]
        return sorted(found, key=lambda s: (s.kind, s.name))

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The spec of ``kind/name``, or a :class:`ComponentNotFoundError` that says what to do."""
        check_kind(kind)
        spec = self._components.get((kind, name))
        if spec is not None:
            return spec
        names = [n for (k, n) in self._components if k == kind]
        message = f"No {kind} named {name!r}.{did_you_mean(name, names)}"
        if not names:
            message += f" No {kind} component is installed."
        message += install_hint(kind, name)
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
            "name": name,
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


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ComponentNotFoundError(
            f"Unknown kind {kind!r}.{did_you_mean(kind, KINDS)} Kinds are: {', '.join(KINDS)}."
        )


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', repr(obj))}"


__all__ = ["EtudeError", "Registration", "Registry", "check_kind"]
