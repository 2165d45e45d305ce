"""A claim whose data files are missing is recorded as "not run: data not found" with the hint, not an error."""

from __future__ import annotations

import types

import etude
from etude.claims import ClaimContext, Outcome
from etude.claims.runner import reproduce


def needs_mnist(ctx: ClaimContext) -> Outcome:
    from etude.data import MNIST  # noqa: PLC0415

    MNIST(root=str(ctx.out_dir / "no-data")).split("train")
    return Outcome(holds=True)


def _plugin():
    module = types.ModuleType("needs_data_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("needs-data/mnist", needs_mnist, statement="needs MNIST", source="Table 1")

    module.register_claims = register_claims
    return module


def test_missing_data_is_not_run_with_the_hint(etude_registry, tmp_path):
    etude_registry.add_plugin(_plugin(), "needs-data")
    (result,) = [r for r in reproduce(scale="smoke", out=tmp_path, progress=False) if r.id == "needs-data/mnist"]
    assert result.status == "not-run" and result.holds is None and not result.error
    assert result.notes.startswith("not run: data not found") and "train-images-idx3-ubyte" in result.notes
    assert "ETUDE_DATA" in result.notes
