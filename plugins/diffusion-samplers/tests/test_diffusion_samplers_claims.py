"""Every claim at smoke scale (verdict None at smoke, numbers finite)."""

import math

import pytest

from etude.claims import run_claim

CLAIMS = {
    "diffusion-samplers/local-search-mode-coverage",
    "diffusion-samplers/exploration-helps",
    "diffusion-samplers/langevin-in-high-dim",
    "diffusion-samplers/fl-subtb-matches-tb",
}


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_smoke(claim_id, tmp_path):
    out = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert out.error is None and out.holds is None
    scalars = [v for k, v in out.metrics.items() if isinstance(v, float) and "ci_" not in k]
    assert scalars and all(math.isfinite(v) for v in scalars)


def test_claims_registered():
    import etude

    ids = {c.id for c in etude.get_registry().claims("diffusion-samplers")}
    assert ids == set(CLAIMS)
