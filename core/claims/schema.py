"""The documented schema of ``results.json`` (JSON Schema, draft 2020-12)."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def results_schema() -> dict[str, Any]:
    return json.loads(files("etude.claims").joinpath("results.schema.json").read_text())
