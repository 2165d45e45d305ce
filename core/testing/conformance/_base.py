"""Shared pieces of the conformance suites."""

from __future__ import annotations

from typing import Any, ClassVar

import torch


def devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when available."""
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def assert_finite(t: torch.Tensor, what: str) -> None:
    assert torch.isfinite(t).all(), f"{what} has NaN or inf"


class ConformanceSuite:
    """Base of every suite: subclass, set ``component = (kind, name)`` and define ``make_*``.

    pytest collects the ``test_*`` methods of subclasses whose name starts
    with ``Test``. ``component`` names the registered component under test;
    the project's meta-test uses it to check every component has a suite.
    """

    component: ClassVar[tuple[str, str] | None] = None

    def create(self, **config: Any) -> Any:
        """Build ``self.component`` through the registry."""
        import etude  # noqa: PLC0415

        assert self.component is not None, "set component = (kind, name) on the suite"
        return etude.create(*self.component, **config)
