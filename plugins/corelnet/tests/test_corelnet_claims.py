"""Every claim at smoke scale."""

import pytest

import etude
from etude.claims import run_claim

CLAIMS = ("corelnet/ood-generalisation", "corelnet/partition-ablation", "corelnet/across-tasks")


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_at_smoke_scale(claim_id, tmp_path):
    outcome = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert outcome.error is None, outcome.error
    assert outcome.holds is None  # one epoch on 256 examples decides nothing
    assert outcome.figures and all(p.endswith(".png") for p in outcome.figures)
    if claim_id == "corelnet/ood-generalisation":
        ood = outcome.metrics["per_seed_ood"]
        assert set(ood) == {"corelnet", "relational-mlp", "relational-transformer"}
        assert all(0.0 <= v[0] <= 1.0 for v in ood.values())
        assert set(outcome.metrics["same_different_per_seed_ood"]) == set(ood)
    if claim_id == "corelnet/across-tasks":
        assert set(outcome.metrics) == {"distribution-of-3", "identity-rules"}
