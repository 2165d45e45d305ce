"""A claim whose data files are missing is recorded as "not run: data not found" with the hint, not an error."""

from __future__ import annotations

import types

import etude
from etude.claims import JudgeContext, Outcome, SeedContext, reproduce


def needs_mnist_run(ctx: SeedContext) -> dict:
    from etude.data import MNIST  # noqa: PLC0415

    MNIST(root="/nonexistent-etude-data").split("train")
    return {"seed": ctx.seed}


def needs_mnist_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    return Outcome(holds=True)


def _plugin():
    module = types.ModuleType("needs_data_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("needs-data/mnist", run=needs_mnist_run, judge=needs_mnist_judge,
                           statement="needs MNIST", source="Table 1")

    module.register_claims = register_claims
    return module


def test_missing_data_is_not_run_with_the_hint(etude_registry, tmp_path):
    record = etude_registry.add_plugin(_plugin(), "needs-data")
    assert record.status == "loaded", record.error
    (result,) = [r for r in reproduce(scale="smoke", out=tmp_path, progress=False) if r.id == "needs-data/mnist"]
    assert result.status == "not-run" and result.holds is None and not result.error
    assert result.notes.startswith("not run: data not found") and "train-images-idx3-ubyte" in result.notes
    assert "/nonexistent-etude-data/mnist" in result.notes and "ETUDE_DATA" in result.notes
