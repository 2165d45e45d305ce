"""Every claim at smoke scale, plus the registration of the fixed claim ids."""

import pytest
import torch

import etude
from etude.claims import ClaimContext
from etude_adaptive_neurons import claims

IDS = {
    "adaptive-neurons/robust-to-input-perturbation": claims.robust_to_input_perturbation,
    "adaptive-neurons/gain-scaling": claims.gain_scaling,
    "adaptive-neurons/heterogeneity": claims.heterogeneity,
}


def test_claims_are_registered_with_fixed_ids():
    # etude.claims (the function) is shadowed by the etude.claims subpackage once imported: ask the registry
    registered = {c.id: c for c in etude.registry.get_registry().claims("adaptive-neurons")}
    assert set(registered) == set(IDS)
    for claim in registered.values():
        assert claim.statement and claim.source and claim.paper
        assert "full" in claim.scales and claim.default_seeds("full") >= 5


@pytest.mark.parametrize("claim_id", sorted(IDS))
def test_claim_runs_at_smoke(claim_id, tmp_path):
    ctx = ClaimContext(claim_id=claim_id, scale="smoke", seeds=[0], out_dir=tmp_path)
    outcome = IDS[claim_id](ctx)
    assert outcome.holds is None  # smoke trains one epoch: mechanics only, never a verdict
    assert outcome.metrics and outcome.notes
    assert len(ctx.figures) == 1 and (tmp_path / ctx.figures[0].split("/")[-1]).exists()


def test_robustness_smoke_metrics_are_consistent(tmp_path):
    ctx = ClaimContext(claim_id="adaptive-neurons/robust-to-input-perturbation", scale="smoke", seeds=[0, 1],
                       out_dir=tmp_path)
    m = claims.robust_to_input_perturbation(ctx).metrics
    for neuron in claims.NEURONS:
        clean, pert = m[f"acc_clean_{neuron}"], m[f"acc_sin0.5_{neuron}"]
        assert 0.0 <= clean <= 1.0 and 0.0 <= pert <= 1.0
    diff = m["relu_minus_adaptive_drop_sin0.5_mean_diff"]
    assert abs(diff - (m["drop_sin0.5_relu"] - m["drop_sin0.5_adaptive-gamma"])) < 1e-9
    assert m["relu_minus_adaptive_drop_sin0.5_n"] == 2


@pytest.mark.slow  # spawns two worker processes (each imports torch): tens of seconds on a loaded machine
def test_parallel_pretraining_equals_sequential_training():
    key_args = ("tanh", 0, "smoke", "cpu")
    claims._CACHE.clear()
    sequential = claims.trained(*key_args)["model"].state_dict()
    claims._CACHE.clear()
    claims.pretrain(["relu", "tanh"], [0], "smoke", "cpu", workers=2)
    parallel = claims.trained(*key_args)["model"].state_dict()
    for name, value in sequential.items():
        torch.testing.assert_close(parallel[name], value)
