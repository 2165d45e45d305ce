"""Every claim at smoke scale (no verdict at smoke), and the judges' rules on hand-made measurements.

The full-scale tests below are of the Meta-RIMs claims (:mod:`etude_meta_rims.meta_claims`).
"""

from __future__ import annotations

import importlib.util
import math

import pytest

from etude.claims import run_claim

CLAIMS = ("meta-rims/faster-adaptation", "meta-rims/reversed-roles-worse", "meta-rims/rims-copying-longer-delay",
          "meta-rims/rims-smnist-resolution", "meta-rims/rims-specialisation")


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_runs_at_smoke_scale(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None
    assert result.holds is None and "smoke" in result.notes
    numbers = [v for v in result.metrics.values() if isinstance(v, float)]
    assert all(math.isfinite(v) for v in numbers)


# -- full scale of the two Meta-RIMs claims: MiniGrid / BabyAI transfer with PPO ---------------------------------
def _full_ctx(claim_id, seed=0, cache_dir=None):
    from etude.claims import SeedContext

    return SeedContext(claim_id=claim_id, scale="full", seed=seed, cache_dir=cache_dir)


def test_full_scale_setting_is_the_ppo_transfer():
    from etude_meta_rims import meta_claims as claims

    s = claims._ppo_setting(_full_ctx("meta-rims/faster-adaptation"))
    assert s["pairs"] == [["MiniGrid-DoorKey-5x5-v0", "MiniGrid-DoorKey-6x6-v0"],
                          ["BabyAI-GoToObj-v0", "BabyAI-GoToLocalS6N2-v0"]]
    assert (s["source_updates"], s["target_updates"]) == (150, 250)
    lstm = claims._lstm_agent_options(s["agent"])
    from etude_meta_rims.ppo import ActorCritic

    sizes = [sum(p.numel() for p in ActorCritic(core=c, **o).parameters())
             for c, o in (("rims", s["agent"]), ("lstm", lstm))]
    assert abs(sizes[0] - sizes[1]) / sizes[0] < 0.02


@pytest.mark.skipif(importlib.util.find_spec("minigrid") is None, reason="minigrid not installed")
@pytest.mark.parametrize(("claim_id", "run", "modes"), [
    ("meta-rims/faster-adaptation", "faster_adaptation_run", {"modules", "all", "lstm"}),
    ("meta-rims/reversed-roles-worse", "reversed_roles_run", {"modules", "attention"}),
])
def test_full_scale_run_path_with_a_tiny_override(monkeypatch, tmp_path, claim_id, run, modes):
    from etude_meta_rims import meta_claims as claims

    tiny = {"pairs": [["MiniGrid-Empty-5x5-v0", "BabyAI-GoToObjS4-v0"]], "source_updates": 1, "target_updates": 2,
            "eval_every": 1, "eval_episodes": 2,
            "agent": {"hidden_size": 4, "num_modules": 2, "active": 1,
                      "cell_options": {"input_embed_dim": 8, "comm_embed_dim": 8, "input_dropout": 0.0,
                                       "comm_dropout": 0.0}},
            "ppo": {"num_envs": 2, "frames_per_env": 4, "batch_size": 8, "epochs": 1}}
    monkeypatch.setattr(claims, "_ppo_setting", lambda ctx: tiny)
    out = getattr(claims, run)(_full_ctx(claim_id, cache_dir=tmp_path))  # through the artefact cache
    assert getattr(claims, run)(_full_ctx(claim_id, cache_dir=tmp_path)) == out
    assert set(out) == modes
    for m in modes:
        pair = out[m]["pairs"]["MiniGrid-Empty-5x5-v0->BabyAI-GoToObjS4-v0"]
        assert pair["target_eval_updates"] == [0, 1, 2] and len(pair["target_curve"]) == 3
        assert 0.0 <= out[m]["success_auc"] <= 1.0 and out[m]["success_auc"] == pytest.approx(
            sum(pair["target_curve"]) / 3)


@pytest.mark.parametrize(("judge", "other"), [("faster_adaptation_judge", "all"),
                                              ("reversed_roles_judge", "attention")])
def test_full_scale_judge_rule_on_hand_made_success_areas(tmp_path, judge, other):
    from etude.claims import JudgeContext
    from etude_meta_rims import meta_claims as claims

    def runs(gaps):
        def mode(auc):
            return {"success_auc": auc, "pairs": {"a->b": {"success_auc": auc, "target_curve": [auc, auc]}}}
        return [{"modules": mode(0.5 + g), other: mode(0.5)} for g in gaps]

    ctx = JudgeContext(claim_id="meta-rims/x", scale="full", seeds=[0, 1, 2], out_dir=tmp_path)
    fn = getattr(claims, judge)
    assert fn(ctx, runs([0.10, 0.12, 0.11])).holds is True     # Meta-RIMs adapts faster on every seed
    assert fn(ctx, runs([-0.10, -0.12, -0.11])).holds is False
    assert fn(ctx, runs([0.10, -0.12, 0.01])).holds is None    # the interval contains 0
    assert f"modules_minus_{other}" in fn(ctx, runs([0.1, 0.1, 0.2])).metrics


def test_full_scale_without_minigrid_is_not_run(monkeypatch, tmp_path):
    from etude.claims import JudgeContext
    from etude_meta_rims import meta_claims as claims

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "minigrid" else real(name, *a))
    run = claims.faster_adaptation_run(_full_ctx("meta-rims/faster-adaptation"))
    assert "etude-meta-rims[minigrid]" in run["not_run"]
    ctx = JudgeContext(claim_id="meta-rims/faster-adaptation", scale="full", seeds=[0], out_dir=tmp_path)
    outcome = claims.faster_adaptation_judge(ctx, [run])
    assert outcome.holds is None and outcome.notes.startswith("not run")
