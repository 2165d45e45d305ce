"""ClaimContext: what a claim's experiment receives from the runner."""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import attrs

T = TypeVar("T")


@attrs.define(kw_only=True)
class ClaimContext:
    """The runner's side of a claim experiment.

    Attributes:
        scale: ``"smoke"`` (seconds, for tests), ``"quick"`` (CPU, about a
            minute) or ``"full"`` (the paper's scale, for a GPU).
        seeds: the seeds to run; experiments that compare methods run every
            method on every seed (paired) and use :func:`etude.claims.paired_comparison`.
        device: ``"cpu"`` or ``"cuda"``.
        out_dir: where :meth:`save_figure` writes PNGs.
        progress: whether to show progress bars.
    """

    claim_id: str
    scale: str
    seeds: list[int]
    device: str = "cpu"
    out_dir: pathlib.Path = attrs.field(converter=pathlib.Path, default=pathlib.Path("."))
    progress: bool = False
    figures: list[str] = attrs.field(factory=list)

    def pick(self, *, smoke: T, quick: T, full: T) -> T:
        """The value for the current scale."""
        return {"smoke": smoke, "quick": quick, "full": full}[self.scale]

    def track(self, iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        """Iterate with a tqdm bar when progress is on."""
        if not self.progress:
            yield from iterable
            return
        from tqdm.auto import tqdm  # noqa: PLC0415

        yield from tqdm(iterable, desc=desc or self.claim_id, total=total, leave=False)

    def save_figure(self, figure: Any, name: str) -> pathlib.Path:
        """Save a matplotlib Figure as ``<out_dir>/<claim>-<name>.png``, close it, return the path."""
        import matplotlib.pyplot as plt  # noqa: PLC0415

        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.claim_id.replace("/", "__")
        path = self.out_dir / f"{stem}-{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        self.figures.append(str(path))
        return path
