"""Every claim at smoke scale, plus the registration of the fixed claim ids and the shared trained networks."""

import pytest
import torch

import etude
from etude.claims import SeedContext, run_claim
from etude_adaptive_neurons import claims

IDS = {
    "adaptive-neurons/robust-to-input-perturbation",
    "adaptive-neurons/gain-scaling",
    "adaptive-neurons/heterogeneity",
}


def test_claims_are_registered_with_fixed_ids():
    # etude.claims (the function) is shadowed by the etude.claims subpackage once imported: ask the registry
    registered = {c.id: c for c in etude.registry.get_registry().claims("adaptive-neurons")}
    assert set(registered) == IDS
    for claim in registered.values():
        assert claim.statement and claim.source and claim.paper
        assert "full" in claim.scales and claim.default_seeds("full") >= 5


@pytest.mark.parametrize("claim_id", sorted(IDS))
def test_claim_runs_at_smoke(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None
    assert result.holds is None  # smoke trains one epoch: mechanics only, never a verdict
    assert result.metrics and result.notes
    assert len(result.figures) == 1 and (tmp_path / result.figures[0]).exists()


def test_robustness_smoke_metrics_are_consistent(tmp_path):
    m = run_claim("adaptive-neurons/robust-to-input-perturbation", scale="smoke", seeds=[0, 1], out=tmp_path).metrics
    for neuron in claims.NEURONS:
        clean, pert = m[f"acc_clean_{neuron}"], m[f"acc_sin0.5_{neuron}"]
        assert 0.0 <= clean <= 1.0 and 0.0 <= pert <= 1.0
    diff = m["relu_minus_adaptive_drop_sin0.5_mean_diff"]
    assert abs(diff - (m["drop_sin0.5_relu"] - m["drop_sin0.5_adaptive-gamma"])) < 1e-9
    assert m["relu_minus_adaptive_drop_sin0.5_n"] == 2


def test_claims_share_trained_networks_through_the_artefact_cache(tmp_path):
    """The second claim loads the networks the first trained (same weights as training afresh)."""
    ctx = SeedContext(claim_id="adaptive-neurons/heterogeneity", scale="smoke", seed=0, cache_dir=tmp_path / "cache")
    first = claims.trained(ctx, "tanh")["model"].state_dict()
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1
    again = claims.trained(ctx, "tanh")["model"].state_dict()
    fresh = claims.trained(SeedContext(claim_id=ctx.claim_id, scale="smoke", seed=0), "tanh")["model"].state_dict()
    for name, value in first.items():
        assert torch.equal(again[name], value) and torch.equal(fresh[name], value)
