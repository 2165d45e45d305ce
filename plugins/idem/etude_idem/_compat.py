"""Run per-seed claim units through the core's single-function claim API until the per-seed contract lands.

The claims of this plugin are written to the per-seed contract (``run(ctx) -> dict``
per seed, ``judge(ctx, runs) -> Outcome``). While ``registry.add_claim`` takes one
function of a :class:`etude.claims.ClaimContext`, :func:`as_legacy` adapts a
(run, judge) pair to it: every seed is run in turn with ``seed_everything(seed)``
first, then the judge sees all seeds' dicts. The contexts below offer the
contract's attributes (``pick``, ``track``, ``generator``, ``artefact``, ``save_figure``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MISSING = object()


class _Pick:
    def pick(self, *, smoke: Any, quick: Any, full: Any = _MISSING) -> Any:
        value = {"smoke": smoke, "quick": quick, "full": full}[self.scale]
        if value is _MISSING:
            raise ValueError(f"{self.claim_id}: no configuration for scale {self.scale!r}")
        return value


class SeedContextShim(_Pick):
    def __init__(self, claim_id: str, scale: str, seed: int, device: str = "cpu", progress: bool = False) -> None:
        self.claim_id, self.scale, self.seed, self.device, self.progress = claim_id, scale, seed, device, progress

    def track(self, iterable, desc: str = "", total: int | None = None):
        return iterable

    def generator(self):
        import torch  # noqa: PLC0415

        return torch.Generator().manual_seed(self.seed)

    def artefact(self, producer: Callable[..., Any], /, **config: Any) -> Any:
        return producer(seed=self.seed, device=self.device, **config)


class JudgeContextShim(_Pick):
    def __init__(self, claim_id: str, scale: str, seeds: list[int], device: str = "cpu", parent: Any = None) -> None:
        self.claim_id, self.scale, self.seeds, self.device, self._parent = claim_id, scale, list(seeds), device, parent
        self.figures: list[str] = []

    def save_figure(self, figure: Any, name: str):
        if self._parent is not None:
            path = self._parent.save_figure(figure, f"{name}-{self.scale}")
            self.figures.append(str(path))
            return path
        import matplotlib.pyplot as plt  # noqa: PLC0415

        plt.close(figure)
        return None


def as_legacy(run: Callable, judge: Callable) -> Callable:
    """A one-function claim ``f(ClaimContext) -> Outcome`` from a per-seed (run, judge) pair."""

    def legacy(ctx):
        from etude.runtime import seed_everything  # noqa: PLC0415

        runs = []
        for seed in ctx.seeds:
            seed_everything(int(seed))
            runs.append(run(SeedContextShim(ctx.claim_id, ctx.scale, int(seed), ctx.device, ctx.progress)))
        return judge(JudgeContextShim(ctx.claim_id, ctx.scale, ctx.seeds, ctx.device, ctx), runs)

    legacy.__doc__ = run.__doc__
    return legacy
