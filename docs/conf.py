"""Sphinx configuration of the etude documentation (MyST-NB + furo)."""

import os
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
exclude_patterns = ["_build", "**.ipynb_checkpoints", "reproductions/*.json"]
# Every tutorial is executed at build time, cached per code content and per mode: smoke sizes
# under the test suite (ETUDE_SMOKE=1), the tutorials' own sizes for `make docs`.
_MODE = "smoke" if os.environ.get("ETUDE_SMOKE") else "quick"
nb_execution_mode = "cache"
nb_execution_cache_path = str(pathlib.Path(__file__).parent / "_build" / ".jupyter_cache" / _MODE)
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# the tutorials leave the backend to the kernel: inline figures, whatever MPLBACKEND the build inherited
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_custom_sections = [("Contract", "notes_style")]
suppress_warnings = ["myst.xref_missing", "myst.header", "misc.highlighting_failure"]
nitpicky = False
