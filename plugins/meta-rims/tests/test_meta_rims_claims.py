"""Every claim at smoke scale (no verdict at smoke), and the judges' rules on hand-made measurements."""

from __future__ import annotations

import math

import pytest

from etude.claims import run_claim

CLAIMS = ("meta-rims/faster-adaptation", "meta-rims/reversed-roles-worse", "meta-rims/rims-copying-longer-delay",
          "meta-rims/rims-smnist-resolution", "meta-rims/rims-specialisation")


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_runs_at_smoke_scale(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None
    assert result.holds is None and "smoke" in result.notes
    numbers = [v for v in result.metrics.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers)
