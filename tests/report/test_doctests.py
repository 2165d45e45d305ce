"""The examples in etude.report's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["etude.report", "etude.report.model", "etude.report.runs", "etude.report.compare", "etude.report.html",
           "etude.report.markdown", "etude.report.docs"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
