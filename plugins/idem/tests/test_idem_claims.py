"""Every claim at smoke scale (verdict None, numbers finite), through the per-seed run / judge functions."""

import math

import pytest

from etude.claims import JudgeContext, SeedContext
from etude_idem import claims

NAMES = {
    "idem/buffer-beats-prior": "buffer_beats_prior",
    "idem/state-of-the-art-w2": "state_of_the_art_w2",
    "idem/trains-faster": "trains_faster",
    "idem/lj55-from-energy": "lj55_from_energy",
}


def _contexts(claim_id, tmp_path, scale="smoke", seeds=(0,)):
    seed_ctxs = [SeedContext(claim_id=claim_id, scale=scale, seed=s, cache_dir=tmp_path / "cache") for s in seeds]
    return seed_ctxs, JudgeContext(claim_id=claim_id, scale=scale, seeds=list(seeds), out_dir=tmp_path)


@pytest.mark.parametrize("claim_id", sorted(NAMES))
def test_claim_smoke(claim_id, tmp_path):
    run, judge = getattr(claims, NAMES[claim_id] + "_run"), getattr(claims, NAMES[claim_id] + "_judge")
    seed_ctxs, judge_ctx = _contexts(claim_id, tmp_path)
    runs = [run(c) for c in seed_ctxs]
    import json

    json.dumps(runs)  # per-seed results are plain JSON values
    out = judge(judge_ctx, runs)
    assert out.holds is None
    scalars = [v for k, v in out.metrics.items() if isinstance(v, float) and "ci_" not in k]
    lists = [x for k, v in out.metrics.items() if isinstance(v, list) for x in v if isinstance(x, float)]
    assert scalars + lists and all(math.isfinite(v) for v in scalars + lists)


def _bbp_row(w2_i, w2_p, modes_i, modes_p, floor=1.0):
    return {"seed": 0, "gmm9": {"floor": floor, "idem": {"w2": w2_i, "modes": modes_i, "mode_tv": 0.5, "seconds": 1.0, "energy_calls": 1},
                                "pdem": {"w2": w2_p, "modes": modes_p, "mode_tv": 0.8, "seconds": 1.0, "energy_calls": 1}}}


def test_buffer_beats_prior_rule_at_quick():
    judge_ctx = JudgeContext(claim_id="idem/buffer-beats-prior", scale="quick", seeds=[0, 1, 2], out_dir=".")
    good = [_bbp_row(1.5, 3.0, 6, 1), _bbp_row(1.6, 2.5, 5, 2), _bbp_row(1.4, 2.2, 4, 1)]
    assert claims.buffer_beats_prior_judge(judge_ctx, good).holds is True
    weak_ratio = [_bbp_row(1.5, 1.8, 6, 1)] * 3
    assert claims.buffer_beats_prior_judge(judge_ctx, weak_ratio).holds is False
    few_modes = [_bbp_row(1.5, 3.0, 3, 2)] * 3
    assert claims.buffer_beats_prior_judge(judge_ctx, few_modes).holds is False
    far_from_floor = [_bbp_row(3.0, 6.0, 6, 1)] * 3
    assert claims.buffer_beats_prior_judge(judge_ctx, far_from_floor).holds is False
    diverged = [_bbp_row(1.5, None, 6, 0)] * 3  # a diverged pDEM counts as infinite W2
    assert claims.buffer_beats_prior_judge(judge_ctx, diverged).holds is True


def test_lj55_rule_at_full():
    ctx = JudgeContext(claim_id="idem/lj55-from-energy", scale="full", seeds=[0, 1, 2])

    def row(d_i, d_p, finite=True):
        return {"seed": 0, "idem": {"distance_w2": d_i, "loss_finite": finite}, "pdem": {"distance_w2": d_p, "loss_finite": d_p is not None}}

    assert claims.lj55_from_energy_judge(ctx, [row(0.2, None), row(0.3, None), row(0.25, None)]).holds is True
    assert claims.lj55_from_energy_judge(ctx, [row(0.2, None), row(None, None, False), row(0.25, None)]).holds is False


def test_claims_registered():
    import etude

    ids = {c.id for c in etude.get_registry().claims("idem")}
    assert ids == set(NAMES)
