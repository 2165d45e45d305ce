"""Plugin documentation pages generated from registry metadata.

One Markdown (MyST) page per installed plugin: the paper citation, the
plugin's own README (its distribution's long description), every component
with its summary, config fields and docstring, and every claim with the
paper's numbers. The Sphinx site and the meta-tests both use this module.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import PackageNotFoundError, metadata
from typing import Any

from etude.registry import PluginRecord, Registry


def plugin_readme(record: PluginRecord) -> str:
    """The long description (README) of the plugin's distribution, or ''."""
    if not record.distribution:
        return ""
    try:
        meta = metadata(record.distribution)
    except PackageNotFoundError:
        return ""
    body = meta.get_payload() if hasattr(meta, "get_payload") else ""
    return (body or meta.get("Description", "") or "").strip()


def _demote_headings(markdown: str, levels: int = 1) -> str:
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"#{1,5} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def citation(paper: dict[str, Any] | None) -> str:
    if not paper:
        return ""
    parts = [paper.get("authors", ""), f"*{paper.get('title', '')}*", paper.get("venue", ""), str(paper.get("year", ""))]
    text = ", ".join(p for p in parts if p and p != "**")
    if paper.get("arxiv"):
        text += f", arXiv:{paper['arxiv']}"
    return text + "."


def render_plugin_page(record: PluginRecord, registry: Registry, *, include_docstrings: bool = True,
                       references: Any = None) -> str:
    """The MyST page of one plugin; ``references`` (``{title: etude.report.Run}``) adds its claims' latest verdicts."""
    from etude.config import config_fields  # noqa: PLC0415

    title = record.paper.get("title") if record.paper else None
    lines = [f"# {record.name}" + (f": {title}" if title else ""), ""]
    lines += [f"Distribution `{record.distribution or '-'}` {record.version or ''}, status **{record.status}**.", ""]
    if record.paper:
        lines += [f"Paper: {citation(dict(record.paper))}", ""]
    if record.docs:
        lines += [record.docs, ""]
    readme = plugin_readme(record)
    if readme and record.name != "builtin":
        lines += [_demote_headings(readme, 1), ""]  # the README's title becomes this page's first section
    components = [s for s in registry.components() if s.plugin == record.name]
    if components:
        lines += ["## Components", ""]
    for spec in components:
        lines += [f"### `{spec.kind}/{spec.name}`", ""]
        factory = spec.load() if include_docstrings else None
        doc = inspect.getdoc(factory) if factory is not None else ""
        summary = spec.summary or (doc.splitlines()[0] if doc else "")
        lines += [summary, "", f"Factory: `{spec.factory if isinstance(spec.factory, str) else spec.key}`. "
                  f"Build it with `etude.create(\"{spec.kind}\", \"{spec.name}\", ...)`.", ""]
        fields = config_fields(factory) if factory is not None else []
        if fields:
            lines += ["| field | type | default | description |", "|---|---|---|---|"]
            for f in fields:
                default = "(required)" if f["required"] else f"`{f['default']!r}`"
                lines.append(f"| `{f['name']}` | {_cell(f['type'])} | {_cell(default)} | {_cell(f['doc'])} |")
            lines.append("")
        if doc:
            lines += ["```text", doc, "```", ""]
    claims = registry.claims(record.name) if record.status == "loaded" else []
    if claims:
        lines += ["## Claims", "", "| claim | source | paper | scales |", "|---|---|---|---|"]
        for c in claims:
            paper = "; ".join(f"{k} = {v}" for k, v in c.paper.items()) or "-"
            lines.append(f"| `{c.id}` | {_cell(c.source)} | {_cell(paper)} | {', '.join(c.scales)} |")
        lines.append("")
        for c in claims:
            lines.append(f"- `{c.id}`: {c.statement}")
        lines.append("")
    if references:
        from etude.report.docs import plugin_section  # noqa: PLC0415

        section = plugin_section(references, record.name)
        if section:
            lines += [section, ""]
    return "\n".join(lines) + "\n"


def write_plugin_pages(directory: Any, registry: Registry | None = None, *, references: Any = None) -> list[str]:
    """Write ``<directory>/<plugin>.md`` for every loaded plugin and an ``index.md``; returns the names.

    ``references``: ``{title: etude.report.Run}`` of the committed reference
    results (see :mod:`etude.report.docs`); each page then shows its claims' latest verdicts.
    """
    import pathlib  # noqa: PLC0415

    from etude.registry import get_registry  # noqa: PLC0415

    registry = registry or get_registry()
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for record in registry.plugins():
        if record.status != "loaded":
            continue
        _write_if_changed(directory / f"{record.name}.md", render_plugin_page(record, registry, references=references))
        names.append(record.name)
    index = ["# Plugins", "", "One page per installed plugin, generated from the registry.", "", "```{toctree}", ":maxdepth: 1", ""]
    index += names + ["```", ""]
    failed = [r for r in registry.plugins() if r.status == "failed"]
    if failed:
        index += ["Plugins that failed to load:", ""] + [f"- `{r.name}`: {r.error}" for r in failed] + [""]
    _write_if_changed(directory / "index.md", "\n".join(index))
    return names


def _write_if_changed(path: Any, text: str) -> None:
    """Write ``text`` unless the file already holds it (Sphinx rereads files whose time changed)."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
