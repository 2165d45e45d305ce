"""What a claim's per-seed run and its judge receive from the runner.

A claim is split into units, one per (claim, scale, seed). The runner calls
the claim's ``run(ctx: SeedContext) -> dict`` once per seed, in any process,
after seeding every global RNG with that seed, and records the returned
measurements at once. When every seed is recorded it calls
``judge(ctx: JudgeContext, runs: list[dict]) -> Outcome`` with the
measurements ordered by seed (as stored: JSON round-tripped), in the
runner's process. The judge does no training; it computes the verdict, the
summary metrics and the figures.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import attrs

T = TypeVar("T")

_MISSING: Any = object()


def _pick(claim_id: str, scale: str, values: dict[str, Any]) -> Any:
    value = values.get(scale, _MISSING)
    if value is _MISSING:
        given = ", ".join(f"{k}=" for k, v in values.items() if v is not _MISSING) or "nothing"
        raise ValueError(
            f"claim {claim_id!r}: ctx.pick() has no value for scale {scale!r} (given: {given}); "
            f"add {scale}=... or leave {scale!r} out of the claim's scales"
        )
    return value


def _track(progress: bool, iterable: Iterable[T], desc: str, total: int | None) -> Iterator[T]:
    if not progress:
        yield from iterable
        return
    from tqdm.auto import tqdm  # noqa: PLC0415

    yield from tqdm(iterable, desc=desc, total=total, leave=False)


@attrs.define(kw_only=True)
class SeedContext:
    """The runner's side of one unit: a claim's experiment on one seed.

    The run must depend only on (claim, scale, seed, device): the runner
    calls :func:`etude.runtime.seed_everything` with ``seed`` before the
    call, and the run passes ``ctx.seed`` (or :meth:`generator`) explicitly
    to its generators and tasks. It returns plain JSON-able measurements
    (numbers, strings, bools, lists, dicts with string keys; curves for
    figures as lists); tensors and numpy values are converted.

    Attributes:
        claim_id: ``"<plugin>/<claim-name>"``.
        scale: ``"smoke"`` (seconds, for tests), ``"quick"`` (CPU, about a
            minute per claim) or ``"full"`` (the paper's scale, for a GPU).
        seed: this unit's seed.
        device: ``"cpu"`` or ``"cuda"``.
        progress: whether to show progress bars.
        cache_dir: where :meth:`artefact` stores shared artefacts (None: no
            on-disk cache; the producer is called every time).
    """

    claim_id: str
    scale: str
    seed: int
    device: str = "cpu"
    progress: bool = False
    cache_dir: pathlib.Path | None = attrs.field(default=None, converter=attrs.converters.optional(pathlib.Path))

    def pick(self, *, smoke: T = _MISSING, quick: T = _MISSING, full: T = _MISSING) -> T:
        """The value for the current scale; a missing one is an error only at that scale."""
        return _pick(self.claim_id, self.scale, {"smoke": smoke, "quick": quick, "full": full})

    def track(self, iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        """Iterate with a tqdm bar when progress is on."""
        return _track(self.progress, iterable, desc or f"{self.claim_id} seed {self.seed}", total)

    def generator(self) -> Any:
        """A CPU ``torch.Generator`` seeded with :attr:`seed`."""
        from etude.runtime.seeding import make_generator  # noqa: PLC0415

        return make_generator(self.seed)

    def artefact(self, producer: Any, /, **config: Any) -> Any:
        """``producer(seed=ctx.seed, device=ctx.device, **config)``, computed once per key and shared.

        See :mod:`etude.claims.artefacts`: the key is the producer's
        ``module:qualname``, ``config``, the seed, the device and the
        producing plugin's version; the value is stored atomically under
        :attr:`cache_dir` and loaded with ``weights_only=True``.
        """
        from .artefacts import artefact  # noqa: PLC0415

        return artefact(producer, cache_dir=self.cache_dir, seed=self.seed, device=self.device, **config)


@attrs.define(kw_only=True)
class JudgeContext:
    """The runner's side of a claim's judge: the verdict from every seed's measurements.

    Attributes:
        claim_id, scale, device: as in :class:`SeedContext`.
        seeds: the seeds whose measurements the judge receives, in order.
        out_dir: where :meth:`save_figure` writes PNGs.
        figures: paths of the figures saved so far.
    """

    claim_id: str
    scale: str
    seeds: list[int]
    device: str = "cpu"
    out_dir: pathlib.Path = attrs.field(converter=pathlib.Path, default=pathlib.Path("."))
    progress: bool = False
    figures: list[str] = attrs.field(factory=list)

    def pick(self, *, smoke: T = _MISSING, quick: T = _MISSING, full: T = _MISSING) -> T:
        """The value for the current scale; a missing one is an error only at that scale."""
        return _pick(self.claim_id, self.scale, {"smoke": smoke, "quick": quick, "full": full})

    def track(self, iterable: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        """Iterate with a tqdm bar when progress is on."""
        return _track(self.progress, iterable, desc or self.claim_id, total)

    def save_figure(self, figure: Any, name: str) -> pathlib.Path:
        """Save a matplotlib Figure as ``<out_dir>/<claim>-<scale>-<name>.png``, close it, return the path."""
        import matplotlib.pyplot as plt  # noqa: PLC0415

        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.claim_id.replace("/", "__")
        path = self.out_dir / f"{stem}-{self.scale}-{name}.png"
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        self.figures.append(str(path))
        return path
