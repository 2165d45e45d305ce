"""Every claim at smoke scale runs and returns a verdict with its metrics."""

from __future__ import annotations

from etude.claims import reproduce

CLAIMS = [
    "diffusion-time-mixing/mixing-beats-best-time",
    "diffusion-time-mixing/recurrent-mixer",
    "diffusion-time-mixing/attention-tracks-task",
    "diffusion-time-mixing/cifar-gains",
]


def test_claims_at_smoke(tmp_path):
    results = reproduce(["diffusion-time-mixing"], scale="smoke", out=tmp_path, progress=False)
    by_id = {r.id: r for r in results}
    assert sorted(by_id) == sorted(CLAIMS)
    for r in results:
        assert r.error is None, f"{r.id}: {r.error}"
        assert r.holds is None  # smoke is plumbing only; cifar-gains is full only
    m = by_id["diffusion-time-mixing/mixing-beats-best-time"].metrics["K2"]
    assert len(m["per_t_test"][0]) == 3 and 0 <= m["mixer"][0] <= 1 and 0 <= m["concat"][0] <= 1
    assert m["best_t_chosen"][0] in (0.0, 0.5, 1.0)
    a = by_id["diffusion-time-mixing/attention-tracks-task"].metrics
    assert abs(sum(a["profile_A"][0]) - 1) < 1e-5 and 0 <= a["js_A_B"][0] <= 0.7
    assert "K2" in by_id["diffusion-time-mixing/recurrent-mixer"].metrics
