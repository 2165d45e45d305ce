"""Every claim at smoke scale (verdict None at smoke, numbers finite)."""

import math

import pytest

from etude.claims import ClaimContext
from etude_diffusion_samplers import claims

CLAIMS = {
    "diffusion-samplers/local-search-mode-coverage": claims.local_search_mode_coverage,
    "diffusion-samplers/exploration-helps": claims.exploration_helps,
    "diffusion-samplers/langevin-in-high-dim": claims.langevin_in_high_dim,
    "diffusion-samplers/fl-subtb-matches-tb": claims.fl_subtb_matches_tb,
}


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_smoke(claim_id, tmp_path):
    ctx = ClaimContext(claim_id=claim_id, scale="smoke", seeds=[0], out_dir=tmp_path)
    out = CLAIMS[claim_id](ctx)
    assert out.holds is None
    scalars = [v for k, v in out.metrics.items() if isinstance(v, float) and "ci_" not in k]
    assert scalars and all(math.isfinite(v) for v in scalars)


def test_claims_registered():
    import etude

    ids = {c.id for c in etude.get_registry().claims("diffusion-samplers")}
    assert ids == set(CLAIMS)
