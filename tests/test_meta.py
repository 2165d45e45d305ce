"""Meta-tests over every installed plugin: docs, conformance coverage, claims, light entry points."""

from __future__ import annotations

import ast
import inspect
import json
import pathlib

import pytest

import etude
from etude.docsgen import render_plugin_page
from etude.registry import get_registry, hookspecs

ROOT = pathlib.Path(__file__).resolve().parents[1]
REGISTRY = get_registry()
REPO_PLUGINS = sorted(p.parent.name for p in ROOT.glob("plugins/*/pyproject.toml"))
# The repository's own plugins: a third-party plugin installed beside them is its authors' to check
# (with etude.testing.check_plugin) and must not fail these tests.
OURS = {*REPO_PLUGINS, "builtin"}
COMPONENTS = [s for s in REGISTRY.components() if s.plugin in OURS]
IDS = [s.key for s in COMPONENTS]


def _suite_components() -> set[tuple[str, str]]:
    """(kind, name) of every ``component = (...)`` in a conformance suite subclass.

    A class counts when a base's name ends with 'Conformance' or is itself such
    a class of the same file (suites often share a local base class).
    """
    found: set[tuple[str, str]] = set()
    for path in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]:
        tree = ast.parse(path.read_text(), filename=str(path))
        classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        suites: set[str] = set()
        changed = True
        while changed:
            changed = False
            for node in classes:
                bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
                if node.name not in suites and any(b.endswith("Conformance") or b in suites for b in bases):
                    suites.add(node.name)
                    changed = True
        for node in classes:
            if node.name not in suites:
                continue
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "component" for t in stmt.targets):
                    try:
                        value = ast.literal_eval(stmt.value)
                    except ValueError:
                        continue
                    if isinstance(value, tuple) and len(value) == 2:
                        found.add(value)
    return found


def test_every_plugin_loaded():
    failed = {p.name: p.error for p in REGISTRY.plugins() if p.status != "loaded" and p.name in OURS}
    assert not failed


def test_every_repository_plugin_is_installed():
    installed = {p.name for p in REGISTRY.plugins()}
    assert set(REPO_PLUGINS) <= installed


@pytest.mark.parametrize("spec", COMPONENTS, ids=IDS)
def test_component_builds_from_its_example(spec):
    assert "example" in spec.metadata, f"{spec.key}: register it with example={{...}} (a config that builds it)"
    try:
        component = etude.create(spec.kind, spec.name, **spec.metadata["example"])
    except ImportError as exc:
        missing = getattr(exc.__cause__, "name", None) or ""
        if not missing or missing.split(".")[0].startswith("etude"):
            raise  # a broken plugin import, not an optional extra
        pytest.skip(f"{spec.key}: optional dependency {missing!r} is not installed ({exc})")
    assert component is not None


@pytest.mark.parametrize("spec", COMPONENTS, ids=IDS)
def test_component_has_docs_entry(spec):
    doc = inspect.getdoc(spec.load()) or ""
    assert len(doc.splitlines()) >= 3, f"{spec.key}: docstring needs a summary, the method and a reference"
    page = render_plugin_page(REGISTRY.plugin(spec.plugin), REGISTRY)
    assert f"`{spec.key}`" in page


def test_every_component_has_a_conformance_suite():
    covered = _suite_components()
    missing = [s.key for s in COMPONENTS if (s.kind, s.name) not in covered and s.kind != "environment"]
    assert not missing, f"no conformance suite subclass with component = (kind, name) for: {missing}"


@pytest.mark.parametrize(
    "plugin", [p for p in REGISTRY.plugins() if p.name != "builtin" and p.name in OURS], ids=lambda p: p.name
)
def test_every_plugin_has_claims_docs_and_tutorial(plugin):
    assert REGISTRY.claims(plugin.name), f"plugin {plugin.name} registers no claim"
    assert plugin.paper and {"authors", "title", "venue", "year"} <= set(plugin.paper)
    readme = ROOT / "plugins" / plugin.name / "README.md"
    assert len(readme.read_text()) > 500, f"{readme} is the plugin's docs page: write it"
    assert (ROOT / "tutorials" / f"{plugin.name}.ipynb").exists(), f"tutorials/{plugin.name}.ipynb is missing"


def test_tutorials_are_saved_without_outputs():
    for path in ROOT.glob("tutorials/*.ipynb"):
        nb = json.loads(path.read_text())
        dirty = [c for c in nb["cells"] if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{path.name} has stored outputs: clear them"


@pytest.mark.parametrize("plugin", sorted(OURS), ids=str)
def test_entry_point_modules_are_light(plugin):
    """Importing the entry-point module imports neither torch nor numpy nor its implementation.

    The check is etude.testing.check_plugin's, which third-party authors run too.
    """
    from etude.testing.plugin_check import check_light

    assert check_light(plugin) == []


#: calls that load or generate a dataset: only the core's data layer (core/data/) makes them
DATASET_LOADERS = (
    "load_digits", "load_breast_cancer", "load_iris", "load_wine", "load_diabetes", "load_linnerud",
    "fetch_openml", "fetch_20newsgroups", "fetch_california_housing", "fetch_lfw", "fetch_olivetti",
    "fetch_covtype", "fetch_kddcup99", "fetch_rcv1", "make_dataset", "get_dataset", "import mnist1d", "from mnist1d",
    "sklearn.datasets", "torchvision", "tensorflow_datasets", "datasets.load_dataset", "load_dataset(",
    "urlretrieve", "urllib.request",
)


def test_no_plugin_loads_a_dataset_itself():
    """Issue 12: datasets come from the core's tasks (etude.data); a plugin never loads or downloads one."""
    offenders = []
    for path in sorted(ROOT.glob("plugins/*/**/*.py")):
        if ".egg-info" in str(path) or "/build/" in str(path):
            continue
        text = path.read_text()
        found = [name for name in DATASET_LOADERS if name in text]
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(found)}")
    assert not offenders, "use the core's tasks (etude.data, task/digits, ...) instead of loading data:\n" + "\n".join(offenders)


def test_every_hook_is_documented():
    for name in ("plugin_info", "register_components", "register_claims"):
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name
