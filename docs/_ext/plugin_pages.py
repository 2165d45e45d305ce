"""Sphinx extension: write one page per installed plugin before reading sources."""

import pathlib


def _generate(app):
    from etude.docsgen import write_plugin_pages

    write_plugin_pages(pathlib.Path(app.srcdir) / "plugins")


def setup(app):
    app.connect("builder-inited", _generate)
    return {"parallel_read_safe": True, "version": "1"}
