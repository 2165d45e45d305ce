"""Sphinx extension: before reading sources, write the generated pages.

- ``plugins/<name>.md``: one page per installed plugin (with its claims' latest
  verdicts from the committed reference results),
- ``reproductions/index.md``: the Reproductions page, from ``reproductions/*.json``,
- ``tutorials/``: every notebook of the repository's ``tutorials/`` folder and an
  index, executed by MyST-NB (``nb_execution_mode = "cache"`` in conf.py).
"""

import pathlib
import shutil

DOCS = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = DOCS.parent / "tutorials"


def tutorial_notebooks(source=TUTORIALS):
    """The notebooks of the Tutorials section, in order: the quickstart (``00-*``) first, then by name."""
    return sorted(pathlib.Path(source).glob("*.ipynb"), key=lambda p: (not p.name[:2].isdigit(), p.name))


def tutorial_index(notebooks):
    """The MyST index page of the Tutorials section, its toctree naming every notebook."""
    lines = [
        "# Tutorials",
        "",
        "Every notebook of the repository's `tutorials/` folder, executed when the documentation is built",
        "(smoke sizes under the test suite, `ETUDE_SMOKE=1`; the tutorials' own sizes for `make docs`).",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        *[p.stem for p in notebooks],
        "```",
        "",
    ]
    return "\n".join(lines)


def write_tutorials(target, source=TUTORIALS):
    """Copy the notebooks into ``target`` (only those that changed) and write its ``index.md``; returns the stems."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    notebooks = tutorial_notebooks(source)
    keep = {p.name for p in notebooks} | {"index.md"}
    for stale in target.iterdir():
        if stale.is_file() and stale.name not in keep:
            stale.unlink()
    for nb in notebooks:
        copy = target / nb.name
        if not copy.exists() or copy.read_bytes() != nb.read_bytes():
            shutil.copy2(nb, copy)
    index = target / "index.md"
    text = tutorial_index(notebooks)
    if not index.exists() or index.read_text() != text:
        index.write_text(text)
    return [p.stem for p in notebooks]


def write_reproductions(srcdir):
    """The Reproductions page from the reference files; returns them as ``{title: Run}``."""
    from etude.report.docs import load_references, render_reproductions_page

    folder = pathlib.Path(srcdir) / "reproductions"
    references = load_references(folder) if folder.is_dir() else {}
    folder.mkdir(exist_ok=True)
    page = folder / "index.md"
    text = render_reproductions_page(references)
    if not page.exists() or page.read_text() != text:
        page.write_text(text)
    return references


def _generate(app):
    from etude.docsgen import write_plugin_pages

    srcdir = pathlib.Path(app.srcdir)
    references = write_reproductions(srcdir)
    write_plugin_pages(srcdir / "plugins", references=references)
    write_tutorials(srcdir / "tutorials")


def setup(app):
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True, "version": "2"}
