"""Every claim at smoke scale (no verdict at smoke), and the judges' rules on hand-made measurements."""

from __future__ import annotations

import math

import pytest

from etude.claims import run_claim

from etude_brims import claims as C

CLAIMS = ("brims/noise-robustness", "brims/sequential-image-ood", "brims/video-prediction")


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_runs_at_smoke_scale(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None
    assert result.holds is None and "smoke" in result.notes
    numbers = [v for v in result.metrics.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers)


class _Judge:
    def __init__(self, scale="quick"):
        self.scale, self.claim_id, self.seeds, self.device = scale, "brims/noise-robustness", [0, 1, 2], "cpu"

    def pick(self, **kw):
        return kw[self.scale]


def _runs(brims, rims, lstm=(0.5, 0.5, 0.5)):
    def one(a, b, c):
        mass = {"0.3": [{"null": 0.2, "bottom-up": 0.5, "top-down": 0.3}, {"null": 0.3, "bottom-up": 0.7}],
                "0.6": [{"null": 0.2, "bottom-up": 0.4, "top-down": 0.4}, {"null": 0.3, "bottom-up": 0.7}]}
        return {"num_parameters": {"brims": 1, "rims": 1, "lstm": 1},
                "brims": {"accuracy": {"0.3": 0.9, "0.6": a}, "seconds": 1.0, "slot_mass": mass},
                "rims": {"accuracy": {"0.3": 0.9, "0.6": b}, "seconds": 1.0, "slot_mass": mass},
                "lstm": {"accuracy": {"0.3": 0.9, "0.6": c}, "seconds": 1.0}}
    return [one(a, b, c) for a, b, c in zip(brims, rims, lstm, strict=True)]


def test_noise_judge_rule_holds_fails_inconclusive():
    holds = C.noise_robustness_judge(_Judge(), _runs((0.71, 0.72, 0.70), (0.70, 0.71, 0.69)))
    assert holds.holds is True and abs(holds.metrics["top_down_mass"]["0.6"][0] - 0.4) < 1e-9
    fails = C.noise_robustness_judge(_Judge(), _runs((0.60, 0.61, 0.60), (0.70, 0.71, 0.69)))
    assert fails.holds is False
    # mean above 0 but the lower end below -0.02: inconclusive
    wide = C.noise_robustness_judge(_Judge(), _runs((0.75, 0.60, 0.72), (0.70, 0.66, 0.69)))
    assert wide.holds is None and "inconclusive" in wide.notes
    # non-inferior but the mean below 0: inconclusive, not holds
    below = C.noise_robustness_judge(_Judge(), _runs((0.699, 0.712, 0.688), (0.70, 0.71, 0.69)))
    assert below.holds is None
    assert C.noise_robustness_judge(_Judge("smoke"), _runs((0.9,) * 3, (0.1,) * 3)).holds is None
    missing = C.noise_robustness_judge(_Judge("full"), [{"not_run": "data not found: x"}])
    assert missing.holds is None and missing.notes.startswith("not run")


def test_ood_judge_rule_uses_the_largest_resolution():
    def runs(b, r):
        return [{m: {"14": 0.9, "24": v} for m, v in (("brims", x), ("rims", y), ("lstm", 0.1))}
                for x, y in zip(b, r, strict=True)]
    j = _Judge("full")
    assert C.sequential_image_ood_judge(j, runs((0.5, 0.52, 0.51), (0.4, 0.41, 0.42))).holds is True
    assert C.sequential_image_ood_judge(j, runs((0.5, 0.3, 0.51), (0.4, 0.41, 0.42))).holds is False


def test_language_modelling_not_run_without_corpus_and_runs_on_a_local_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path / "empty"))
    result = run_claim("brims/language-modelling", scale="smoke", seeds=[0], out=tmp_path / "a")
    assert result.error is None and result.holds is None and result.notes.startswith("not run: data not found")
    folder = tmp_path / "data" / "wikitext-103"
    folder.mkdir(parents=True)
    text = " = Title = \n the cat sat on the mat . \n the dog sat on the log . \n" * 200
    for split in ("train", "valid", "test"):
        (folder / f"wiki.{split}.tokens").write_text(text)
    monkeypatch.setenv("ETUDE_DATA", str(tmp_path / "data"))
    result = run_claim("brims/language-modelling", scale="smoke", seeds=[0], out=tmp_path / "b")
    assert result.error is None and "smoke" in result.notes
    ppl = result.metrics["valid_perplexity_brims"][0]
    assert 1.0 < ppl < result.metrics["vocab"] * 3  # a near-uniform model over a tiny vocabulary


def test_video_judge_needs_both_gaps_above_zero():
    def runs(b, r, l):
        return [{"brims": {"rollout_bce": x, "seconds": 1.0}, "rims": {"rollout_bce": y, "seconds": 1.0},
                 "lstm": {"rollout_bce": z, "seconds": 1.0}} for x, y, z in zip(b, r, l, strict=True)]
    j = _Judge("full")
    assert C.video_prediction_judge(j, runs((0.1, 0.11, 0.1), (0.2, 0.21, 0.22), (0.3, 0.3, 0.31))).holds is True
    assert C.video_prediction_judge(j, runs((0.1, 0.11, 0.1), (0.2, 0.21, 0.22), (0.1, 0.09, 0.1))).holds is False
