"""Every claim at smoke scale."""

import pytest

import etude
from etude.claims import run_claim

CLAIMS = ("corelnet/ood-generalisation", "corelnet/partition-ablation", "corelnet/across-tasks",
          "corelnet/harder-variants")


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
    if claim_id == "corelnet/harder-variants":
        assert set(outcome.metrics) == {"rmts3-hard", "dist10-hard7", "identity-rules4-flipped", "cpu_seconds"}
        for v in ("rmts3-hard", "dist10-hard7", "identity-rules4-flipped"):
            m = outcome.metrics[v]
            assert set(m["per_seed_ood"]) == {"corelnet", "esbn"}
            assert all(0.0 <= x[0] <= 1.0 for x in m["per_seed_novel_rules"].values())


def test_full_scale_plans_without_training():
    """The full-scale settings name the paper's grid; infeasible (task, m) pairs are skipped, not crashed on."""
    from etude_corelnet.claims import HOLDOUTS_FULL, TASKS, _feasible

    assert HOLDOUTS_FULL == (0, 50, 85, 95, 98)
    assert [t for t in TASKS if not _feasible(t, 98)] == ["rmts", "distribution-of-3", "identity-rules"]
    assert all(_feasible(t, m) for t in TASKS for m in (0, 50, 85, 95))
