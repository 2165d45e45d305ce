"""Bridge for cores whose ``add_claim`` has no ``judge=`` yet: per-seed runs and judge in one function.

Each function here runs ``<name>_run`` once per seed (after
``seed_everything(seed)``, with a :class:`SeedStandIn` context) and hands the
seeds' dicts to ``<name>_judge``; the claim's experiment is the same as under
the per-seed runner. Remove once the core runs ``run=``/``judge=`` claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import torch

from . import claims

T = TypeVar("T")

__all__ = ["SeedStandIn", "run_with_seeds"]


class SeedStandIn:
    """The attributes of ``etude.claims.SeedContext`` that this plugin's runs use."""

    def __init__(self, claim_id: str, scale: str, seed: int, device: str = "cpu", progress: bool = False) -> None:
        self.claim_id, self.scale, self.seed, self.device, self.progress = claim_id, scale, int(seed), device, progress

    def pick(self, *, smoke: T, quick: T, full: T | None = None) -> T:
        if self.scale == "full" and full is None:
            raise ValueError(f"{self.claim_id} has no full-scale setting")
        return {"smoke": smoke, "quick": quick, "full": full}[self.scale]

    def track(self, iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        yield from iterable

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)


def run_with_seeds(ctx, run, judge):
    from etude.runtime import seed_everything  # noqa: PLC0415

    runs: list[dict[str, Any]] = []
    for seed in ctx.seeds:
        seed_everything(seed)
        runs.append(run(SeedStandIn(ctx.claim_id, ctx.scale, seed, ctx.device, ctx.progress)))
    return judge(ctx, runs)


def intervention_is_not_conditioning(ctx):
    return run_with_seeds(ctx, claims.intervention_is_not_conditioning_run, claims.intervention_is_not_conditioning_judge)


def sparse_mechanism_shift_is_local(ctx):
    return run_with_seeds(ctx, claims.sparse_mechanism_shift_is_local_run, claims.sparse_mechanism_shift_is_local_judge)


def causal_predictor_transfers(ctx):
    return run_with_seeds(ctx, claims.causal_predictor_transfers_run, claims.causal_predictor_transfers_judge)
