"""What the registry stores: component, claim and plugin records (no heavy imports)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

KINDS: tuple[str, ...] = (
    "augmenter",
    "attention",
    "estimator",
    "sampler",
    "similarity",
    "neuron",
    "target",
    "task",
    "model",
    "procedure",
    "environment",
)

SCALES: tuple[str, ...] = ("smoke", "quick", "full")


def resolve_reference(ref: str | Callable[..., Any]) -> Any:
    """Import ``"package.module:attr"`` (dotted attr allowed) or return ``ref`` itself."""
    if not isinstance(ref, str):
        return ref
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"factory reference must look like 'package.module:attr', got {ref!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@attrs.define(eq=False)
class ComponentSpec:
    """One registered component: ``kind/name`` built by ``factory``.

    ``factory`` stays a ``"module:attr"`` string until :meth:`load` is
    called, so that listing components imports nothing heavy.
    """

    kind: str
    name: str
    factory: str | Callable[..., Any]
    plugin: str
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    _loaded: Any = attrs.field(default=None, alias="_loaded")

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def qualname(self) -> str:
        """``plugin:name``, the name no other plugin can take."""
        return f"{self.plugin}:{self.name}"

    def load(self) -> Any:
        """The factory object, importing its module on first use.

        A factory that cannot be imported raises :class:`ComponentLoadError`
        naming ``kind/name``, the plugin and the module, with the original
        exception chained.
        """
        if self._loaded is None:
            try:
                self._loaded = resolve_reference(self.factory)
            except Exception as exc:
                from .errors import ComponentLoadError  # noqa: PLC0415

                module = self.factory.partition(":")[0] if isinstance(self.factory, str) else "?"
                raise ComponentLoadError(
                    f"{self.key} (plugin {self.plugin!r}) cannot be built: importing its factory "
                    f"{self.factory!r} from module {module!r} failed with {type(exc).__name__}: {exc}. "
                    f"Reinstall or fix the plugin {self.plugin!r}"
                ) from exc
        return self._loaded

    @property
    def summary(self) -> str:
        """The explicit ``summary`` metadata, else ''. Never imports the factory."""
        return str(self.metadata.get("summary", ""))


@attrs.define(eq=False)
class ClaimSpec:
    """A claim from a paper and the experiment that tests it, as per-seed units.

    ``run`` and ``judge`` are ``"module:function"`` references (or
    callables). ``run(ctx: etude.claims.SeedContext) -> dict`` measures one
    seed; ``judge(ctx: etude.claims.JudgeContext, runs: list[dict])`` turns
    every seed's measurements (ordered by seed) into an
    :class:`etude.claims.Outcome`.
    """

    id: str
    run: str | Callable[..., Any]
    judge: str | Callable[..., Any]
    statement: str
    source: str
    plugin: str
    paper: Mapping[str, Any] = attrs.field(factory=dict)
    scales: tuple[str, ...] = SCALES
    seeds: Mapping[str, int] = attrs.field(factory=lambda: {"smoke": 1, "quick": 3, "full": 5})

    def load_run(self) -> Callable[..., Any]:
        """The per-seed function, importing its module."""
        return resolve_reference(self.run)

    def load_judge(self) -> Callable[..., Any]:
        """The judge function, importing its module."""
        return resolve_reference(self.judge)

    def default_seeds(self, scale: str) -> int:
        return int(self.seeds.get(scale, 1))


@attrs.define(eq=False)
class PluginRecord:
    """What discovery learned about one plugin (loaded or failed)."""

    name: str
    distribution: str | None = None
    version: str | None = None
    status: str = "loaded"  # "loaded" | "failed" | "disabled"
    error: str | None = None
    paper: Mapping[str, Any] | None = None
    requires_core: str | None = None
    docs: str | None = None
    module: str | None = None
    hook: str | None = None  # the hook (or stage) that failed: import, plugin_info, register_components, ...
    location: str | None = None  # file:line where the failure was raised
    traceback: str | None = None  # the full traceback of the failure
    components: list[str] = attrs.field(factory=list)  # kind/name keys staged by a plugin that failed
    conflicts: list[str] = attrs.field(factory=list)  # "kind/name (also plugin X)" short-name collisions

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "paper": dict(self.paper) if self.paper else None,
            "requires_core": self.requires_core,
            "hook": self.hook,
            "location": self.location,
            "conflicts": list(self.conflicts),
        }
