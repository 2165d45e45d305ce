"""Sphinx configuration of the etude documentation (MyST-NB + furo)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent / "_ext"))

project = "etude"
author = "The etude developers"
copyright = "2026, the etude developers"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "plugin_pages",
]
html_theme = "furo"
html_title = "etude"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_custom_sections = [("Contract", "notes_style")]
suppress_warnings = ["myst.xref_missing", "myst.header", "misc.highlighting_failure"]
nitpicky = False
