"""What a claim's experiment returns and what the runner records."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class Outcome:
    """The verdict on one claim at one scale, returned by the claim's judge.

    ``holds``: True / False, or None when the experiment cannot decide at this
    scale (say why in ``notes``). ``metrics``: measured numbers, named like the
    paper's entries in the claim's ``paper`` mapping where they correspond.
    """

    holds: bool | None
    metrics: Mapping[str, Any] = attrs.field(factory=dict)
    notes: str = ""

    def __attrs_post_init__(self) -> None:
        if self.holds not in (True, False, None):
            raise TypeError(f"Outcome.holds must be True, False or None, got {self.holds!r}")


@attrs.define(kw_only=True)
class ClaimResult:
    """One row of ``results.json`` (the documented schema: ``results.schema.json``)."""

    id: str
    plugin: str
    scale: str
    holds: bool | None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    paper: dict[str, Any] = attrs.field(factory=dict)
    statement: str = ""
    source: str = ""
    seeds: list[int] = attrs.field(factory=list)
    seconds: float = 0.0
    error: str | None = None
    notes: str = ""
    figures: list[str] = attrs.field(factory=list)
    device: str = "cpu"
    status: str = "completed"  # completed | error | not-run
    plugin_version: str | None = None
    failed_seeds: list[int] = attrs.field(factory=list)
    #: not stored: True when the runner reused the stored result instead of running the claim
    reused: bool = attrs.field(default=False, metadata={"transient": True})

    def as_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, filter=lambda a, _: not a.metadata.get("transient"))
        data["metrics"] = jsonable(data["metrics"])
        data["paper"] = jsonable(data["paper"])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimResult:
        names = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        if self.status == "not-run":
            return "not run at this scale"
        return {True: "holds", False: "does not hold", None: "inconclusive"}[self.holds]


def jsonable(value: Any) -> Any:
    """Numbers, tensors and arrays to plain JSON values (NaN/inf to None)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)
