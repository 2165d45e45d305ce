"""Every claim at smoke scale runs and returns a verdict with its metrics."""

from __future__ import annotations

import pytest

from etude.claims import reproduce

CLAIMS = [
    "feature-alignment/alignment-increases",
    "feature-alignment/random-labels-align-less",
    "feature-alignment/layerwise-profile",
    "feature-alignment/complexity-tracks-gap",
]


def test_claims_at_smoke(tmp_path):
    results = reproduce(["feature-alignment"], scale="smoke", out=tmp_path, progress=False)
    assert sorted(r.id for r in results) == sorted(CLAIMS)
    by_id = {r.id: r for r in results}
    for r in results:
        assert r.error is None, f"{r.id}: {r.error}"
        assert r.holds in (True, False, None)
    m = by_id["feature-alignment/alignment-increases"].metrics
    assert 0 < m["alignment_init"][0] < 1 and 0 < m["alignment_end"][0] < 1
    m = by_id["feature-alignment/complexity-tracks-gap"].metrics
    assert len(m["path_complexity_per_seed"][0]) == 3
    assert len(by_id["feature-alignment/layerwise-profile"].metrics["alignment_layers"][0]) == 4
