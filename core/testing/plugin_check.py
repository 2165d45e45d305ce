"""``check_plugin("<name>")``: the checks etude's own repository runs on its plugins, for any plugin.

Third-party authors call it from their test suite::

    from etude.testing import check_plugin

    def test_plugin_is_well_formed():
        check_plugin("toy")

It checks, for the installed entry point ``<name>`` of group ``etude.plugins``:

1. **lightness**: importing the entry-point module (in a fresh interpreter)
   imports neither torch, numpy, pyro, scikit-learn, scipy nor matplotlib, nor
   any implementation module of the plugin's package, so that ``etude list``
   stays fast. The usual cause is an eager re-export in ``__init__.py``; use
   :func:`etude.lazy.lazy_exports` there.
2. **registration**: the plugin's hooks run without error (through the real
   loader, isolated from other installed plugins).
3. **factories**: every registered component's ``"module:attr"`` factory
   imports, and builds from its ``example=`` config when it has one; every
   claim's ``"module:function"`` references import.

Every problem found is collected and reported in one ``AssertionError``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from typing import Any

from etude.registry import GROUP

HEAVY = ("torch", "numpy", "pyro", "sklearn", "scipy", "matplotlib")

_PROBE = """
import importlib, json, sys
module = sys.argv[1]
importlib.import_module(module)
parts = module.split(".")
package = ".".join(parts[:-1]) or module  # the package holding the entry-point module
allowed = {module} | {".".join(parts[:i]) for i in range(1, len(parts))}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in %r and "." not in m)
impl = sorted(m for m in sys.modules if (m == package or m.startswith(package + ".")) and m not in allowed)
print(json.dumps({"heavy": heavy, "impl": impl}))
""" % (HEAVY,)


def entry_point(name: str) -> Any:
    """The installed entry point ``name`` of group ``etude.plugins`` (AssertionError naming those installed)."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        installed = sorted(ep.name for ep in entry_points(group=GROUP))
        raise AssertionError(
            f"no entry point {name!r} in group {GROUP!r}; installed: {', '.join(installed) or 'none'}. "
            f'Declare it in pyproject.toml under [project.entry-points."{GROUP}"] and reinstall'
        )
    return found[0]


def check_light(name: str) -> list[str]:
    """Problems with importing plugin ``name``'s entry-point module (empty when it is light)."""
    module = entry_point(name).value.split(":")[0]
    proc = subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"importing the entry-point module {module!r} failed:\n{proc.stderr.strip()}"]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    problems = []
    if result["heavy"]:
        problems.append(
            f"importing the entry-point module {module!r} imports {', '.join(result['heavy'])}: `etude list` "
            "would pay for it on every call. Keep plugin.py to registration with 'module:attr' factory strings, "
            "and re-export lazily in __init__.py with etude.lazy.lazy_exports"
        )
    if result["impl"]:
        problems.append(
            f"importing the entry-point module {module!r} also imports {', '.join(result['impl'])}; "
            "re-export lazily in __init__.py (etude.lazy.lazy_exports) and name factories as 'module:attr' strings"
        )
    return problems


def check_plugin(name: str, *, light: bool = True, factories: bool = True, examples: bool = True) -> None:
    """Run the lightness, registration and factory-import checks on installed plugin ``name``.

    Raises one ``AssertionError`` listing every problem; returns None when there is none.
    """
    from etude.registry import PluginLoader, Registry, set_registry  # noqa: PLC0415

    problems: list[str] = check_light(name) if light else []
    entry_point(name)
    # A fresh registry with every installed plugin (components may use other plugins' tasks or models).
    registry = Registry()
    PluginLoader(registry).discover()
    previous = set_registry(registry)
    try:
        records = {p.name: p for p in registry.plugins()}
        record = records.get(name)
        if record is None:
            problems.append(f"plugin {name!r} was not loaded (excluded by ETUDE_PLUGINS or ETUDE_DISABLE_PLUGINS?)")
        elif record.status == "failed":
            problems.append(f"registration failed: {record.error}\n{record.traceback or ''}")
        elif factories:
            problems += _check_factories(registry, name, examples=examples)
    finally:
        set_registry(*previous)
    if problems:
        raise AssertionError(f"plugin {name!r} has {len(problems)} problem(s):\n- " + "\n- ".join(problems))


def _check_factories(registry: Any, name: str, *, examples: bool) -> list[str]:
    import etude  # noqa: PLC0415
    from etude.registry.specs import resolve_reference  # noqa: PLC0415

    problems = []
    for spec in registry.components():
        if spec.plugin != name:
            continue
        try:
            spec.load()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{exc}; cause: {exc.__cause__!r}")
            continue
        if examples and "example" in spec.metadata:
            try:
                etude.create(spec.kind, spec.qualname, **spec.metadata["example"])
            except Exception as exc:  # noqa: BLE001
                problems.append(
                    f"{spec.key}: does not build from its example {spec.metadata['example']!r}: "
                    f"{type(exc).__name__}: {exc}"
                )
    for claim in registry.claims(name):
        for attr in ("run", "judge"):
            ref = getattr(claim, attr, None)
            if isinstance(ref, str):
                try:
                    resolve_reference(ref)
                except Exception as exc:  # noqa: BLE001
                    problems.append(f"claim {claim.id!r}: {attr}={ref!r} does not import: {type(exc).__name__}: {exc}")
    return problems


__all__ = ["HEAVY", "check_light", "check_plugin", "entry_point"]
