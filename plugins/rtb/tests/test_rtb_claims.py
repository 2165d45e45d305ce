"""Every claim at smoke scale, and the verdict rules on hand-made measurements."""

import pytest

from etude.claims import JudgeContext
from etude.claims.runner import reproduce
from etude_rtb import claims


def test_claims_at_smoke(tmp_path):
    results = reproduce(["rtb"], scale="smoke", out=tmp_path, progress=False)
    ids = {r.id: r for r in results}
    for name in ("posterior-matches-sir", "rl-without-kl-collapses", "kl-rl-and-guidance-biased", "classifier-guided-posterior"):
        r = ids[f"rtb/{name}"]
        assert r.error is None, r.error
        assert r.holds is None
    assert ids["rtb/posterior-matches-sir"].metrics["tv"][0] >= 0


@pytest.fixture
def _ctx(tmp_path):
    return lambda scale="quick", seeds=(0, 1, 2): JudgeContext(claim_id="rtb/x", scale=scale, seeds=list(seeds), out_dir=tmp_path)


def test_posterior_rule(_ctx):
    good = {"tv": 0.05, "abs_delta_log_z": 0.1, "log_z_learned": -0.9, "log_z_iw": -0.86, "log_z_sir": -0.856,
            "log_z_sir_se": 0.002, "log_r_mean": -0.4, "mode_weights": [0.1, 0.2, 0.3, 0.4], "sir_mode_weights": [0.1, 0.2, 0.3, 0.4]}
    bad = {**good, "tv": 0.11}
    assert claims.posterior_matches_sir_judge(_ctx(), [good, good, good]).holds is True
    assert claims.posterior_matches_sir_judge(_ctx(), [good, bad, good]).holds is False
    assert claims.posterior_matches_sir_judge(_ctx(), [good, {**good, "abs_delta_log_z": 0.21}, good]).holds is False


def test_biased_rule_is_three_way(_ctx):
    def run(rtb, klrl, noisy):
        cell = lambda tv: {"tv": tv, "log_r_mean": 0.0, "mode_weights": [1.0]}
        return {"rtb": cell(rtb), "rl-kl": cell(klrl), "noisy": cell(noisy), "dps": cell(noisy)}

    above = [run(0.05, 0.2 + 0.01 * i, 0.3 + 0.01 * i) for i in range(3)]
    assert claims.kl_rl_and_guidance_biased_judge(_ctx(), above).holds is True
    below = [run(0.3, 0.05 + 0.01 * i, 0.4 + 0.01 * i) for i in range(3)]
    assert claims.kl_rl_and_guidance_biased_judge(_ctx(), below).holds is False
    mixed = [run(0.1, 0.1 + d, 0.3) for d in (-0.05, 0.0, 0.06)]
    assert claims.kl_rl_and_guidance_biased_judge(_ctx(), mixed).holds is None
