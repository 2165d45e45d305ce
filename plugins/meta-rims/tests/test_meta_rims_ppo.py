"""The recurrent PPO: GAE and the clipped loss against hand computations, memory resets, determinism, θ / φ steps."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from etude.config import FieldValueError

from etude_meta_rims.ppo import PPO, ActorCritic, PPOConfig, gae, ppo_loss

needs_minigrid = pytest.mark.skipif(importlib.util.find_spec("minigrid") is None, reason="minigrid not installed")
TINY = {"hidden_size": 8, "num_modules": 4, "active": 1,
        "cell_options": {"input_embed_dim": 16, "comm_embed_dim": 8, "input_dropout": 0.0, "comm_dropout": 0.0}}


def test_gae_matches_a_hand_computation():
    rewards = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    values = torch.tensor([[0.5, 1.0], [0.2, 0.3], [0.4, 0.1]])
    dones = torch.tensor([[False, False], [True, False], [False, True]])
    adv, ret = gae(rewards, values, dones, torch.tensor([0.7, 0.9]), discount=0.9, lam=0.8)
    # env 0: A2 = 1 + .9 * .7 - .4; A1 = 0 - .2 (episode ends: no bootstrap, no carry); A0 = 1 + .9 * .2 - .5 + .72 A1
    # env 1: A2 = 1 - .1 (ends); A1 = 2 + .9 * .1 - .3 + .72 A2; A0 = 0 + .9 * .3 - 1 + .72 A1
    expected = torch.tensor([[0.536, 1.02536], [-0.2, 2.438], [1.23, 0.9]])
    torch.testing.assert_close(adv, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(ret, expected + values, atol=1e-6, rtol=0)


def test_gae_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="last_value"):
        gae(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.bool), torch.zeros(3),
            discount=0.9, lam=0.9)


def test_clipped_loss_matches_the_closed_form_and_its_gradient():
    ratio = torch.tensor([1.5, 0.5, 1.1])
    old = torch.tensor([-1.0, -2.0, -0.5])
    logp = (old + ratio.log()).requires_grad_()
    adv = torch.tensor([1.0, 1.0, -1.0])
    loss, parts = ppo_loss(logp, old, adv, torch.tensor([1.0, 0.0, 2.0]), torch.tensor([0.5, 0.5, 2.0]),
                           torch.tensor([2.0, 0.0, 1.0]), torch.tensor([1.0, 2.0, 3.0]), clip_eps=0.2,
                           value_coef=0.5, entropy_coef=0.01)
    # policy: -(min(1.5, 1.2) + min(0.5, 0.8) + min(-1.1, -1.1)) / 3; value: clipped v = (0.7, 0.3, 2.0),
    # max((v - R)^2, (v_clip - R)^2) = (1.69, 0.09, 1.0)
    assert float(parts["policy_loss"]) == pytest.approx(-0.2, abs=1e-6)
    assert float(parts["value_loss"]) == pytest.approx(2.78 / 3, abs=1e-6)
    assert float(loss.detach()) == pytest.approx(-0.2 - 0.01 * 2.0 + 0.5 * 2.78 / 3, abs=1e-6)
    (grad,) = torch.autograd.grad(loss, logp)
    # clipped (ratio 1.5 > 1.2 with A > 0): no gradient; unclipped: -ratio * A / 3
    torch.testing.assert_close(grad, torch.tensor([0.0, -0.5 / 3, 1.1 / 3]), atol=1e-6, rtol=0)


def test_config_needs_whole_sub_sequences():
    with pytest.raises(FieldValueError, match="frames_per_env"):
        PPOConfig(frames_per_env=10, recurrence=4)
    with pytest.raises(FieldValueError, match="batch_size"):
        PPOConfig(batch_size=6, recurrence=4)


def test_lstm_core_has_no_module_split():
    with pytest.raises(TypeError, match="core='rims'"):
        PPO(ActorCritic(core="lstm", hidden_size=8), fast="modules")


def _ppo(fast="modules", *, seed=0, core="rims", env_id="MiniGrid-Empty-5x5-v0", max_steps=None, **options):
    from etude_meta_rims.minigrid import VectorGrid

    torch.manual_seed(seed)
    agent = ActorCritic(core=core, **(TINY if core == "rims" else {"hidden_size": 16}))
    config = {"num_envs": 3, "frames_per_env": 8, "batch_size": 8, "epochs": 1, **options}
    ppo = PPO(agent, seed=seed, fast=fast, **config)
    extra = {} if max_steps is None else {"max_steps": max_steps}
    ppo.attach(VectorGrid(env_id, config["num_envs"], seed=seed, **extra))
    return ppo


@needs_minigrid
@pytest.mark.parametrize("core", ["rims", "lstm"])
def test_memory_is_zeroed_after_a_done_and_the_update_replays_the_rollout(core):
    ppo = _ppo("none", core=core, max_steps=3)
    batch = ppo.collect()
    ended = batch["done"][:-1]
    assert ended.any() and not ended.all()
    fed = batch["mem_h"][1:].flatten(2).abs().sum(-1)  # the state fed at the step after
    assert torch.all(fed[ended] == 0) and torch.all(fed[~ended & (batch["notdone"][:-1] > 0)] > 0)
    assert torch.equal(batch["notdone"][1:], (~ended).float())
    T, N = batch["reward"].shape
    t0 = torch.arange(0, T, 4).repeat_interleave(N)
    env = torch.arange(N).repeat(T // 4)
    with torch.no_grad():
        ev = ppo.evaluate(batch, t0, env)  # unrolled from the stored state at every 4th step, reset inside
    torch.testing.assert_close(ev["log_prob"], batch["log_prob"][ev["index"]], atol=1e-5, rtol=0)
    torch.testing.assert_close(ev["value"], batch["value"][ev["index"]], atol=1e-5, rtol=0)


@needs_minigrid
def test_training_is_deterministic_under_a_seed():
    def run(seed):
        ppo = _ppo("modules", seed=seed, env_id="BabyAI-GoToObj-v0")
        batches = [ppo.collect() for _ in range(2)]
        logs = [ppo.update(b) for b in batches]
        return batches, logs, [p.detach().clone() for p in ppo.agent.parameters()]

    (b1, l1, p1), (b2, l2, p2), (b3, _, _) = run(0), run(0), run(1)
    assert l1 == l2 and all(torch.equal(x, y) for x, y in zip(p1, p2, strict=True))
    for key in ("action", "reward", "log_prob", "mission"):
        assert all(torch.equal(x[key], y[key]) for x, y in zip(b1, b2, strict=True))
    assert not torch.equal(b1[0]["action"], b3[0]["action"])


def _one_frame(ppo):
    batch = ppo.collect()
    return batch, torch.tensor([0]), torch.tensor([0])  # one frame (recurrence 1): exactly one active module


def _snap(params):
    return [p.detach().clone() for p in params]


@needs_minigrid
@pytest.mark.parametrize("fast", ["modules", "attention"])
def test_inner_step_moves_only_the_fast_group_and_outer_only_the_slow(fast):
    ppo = _ppo(fast, recurrence=1, batch_size=1)
    agent = ppo.agent
    theta, phi = agent.module_parameters(), agent.attention_parameters()
    batch, t0, env = _one_frame(ppo)
    with torch.no_grad():
        usage = ppo.evaluate(batch, t0, env)["usage"]
    assert int(usage.sum()) == 1
    slow_before, theta_before = _snap(ppo.slow), _snap(theta)
    ppo.inner_step(batch, t0, env)
    assert all(torch.equal(a, p) for a, p in zip(slow_before, ppo.slow, strict=True))
    if fast == "modules":
        # only the active module's rows of the stacked (K, ...) θ weights moved
        changed = torch.stack([(a - p.detach()).flatten(1).abs().sum(1) > 0 for a, p in zip(theta_before, theta,
                                                                                           strict=True)]).any(0)
        assert changed.tolist() == usage.tolist()
    fast_before = _snap(ppo.fast)
    ppo.outer_step(batch, t0, env)
    assert all(torch.equal(a, p) for a, p in zip(fast_before, ppo.fast, strict=True))
    assert any(not torch.equal(a, p) for a, p in zip(slow_before, ppo.slow, strict=True))
    assert {id(p) for p in (phi if fast == "modules" else theta)} <= {id(p) for p in ppo.slow}


@needs_minigrid
def test_plain_ppo_has_no_inner_step():
    ppo = _ppo("none", core="lstm")
    batch = ppo.collect()
    with pytest.raises(RuntimeError, match="fast='none'"):
        ppo.inner_step(batch, torch.tensor([0]), torch.tensor([0]))


@needs_minigrid
@pytest.mark.parametrize(("core", "fast"), [("rims", "modules"), ("rims", "all"), ("lstm", "none")])
def test_end_to_end_smoke_run_on_empty(core, fast):
    from etude_meta_rims.minigrid import VectorGrid

    torch.manual_seed(0)
    ppo = PPO(ActorCritic(core=core, **(TINY if core == "rims" else {"hidden_size": 16})), fast=fast,
              num_envs=4, frames_per_env=16, batch_size=16, epochs=2)
    log = ppo.train(VectorGrid("MiniGrid-Empty-5x5-v0", 4, seed=0), 3)
    assert len(log["success_rate"]) == 3 and all(0.0 <= s <= 1.0 for s in log["success_rate"])
    assert all(torch.isfinite(torch.tensor(log["loss"])))


@needs_minigrid
def test_success_rate_counts_every_evaluation_episode_once_and_leaves_training_alone():
    from etude_meta_rims.minigrid import VectorGrid

    ppo = _ppo("none", core="lstm")
    before = ppo.generator.get_state().clone()
    # a 3-step limit on Empty-5x5 cannot be reached: no episode succeeds, all end by truncation
    out = ppo.success_rate(VectorGrid("MiniGrid-Empty-5x5-v0", 4, seed=0, max_steps=3), seed=0)
    assert out == {"success_rate": 0.0, "mean_return": 0.0}
    assert torch.equal(ppo.generator.get_state(), before)
    again = ppo.success_rate(VectorGrid("BabyAI-GoToObjS4-v0", 6, seed=0), seed=5)
    assert again == ppo.success_rate(VectorGrid("BabyAI-GoToObjS4-v0", 6, seed=0), seed=5)
    assert 0.0 <= again["success_rate"] <= 1.0 and again["success_rate"] * 6 == pytest.approx(round(again["success_rate"] * 6))
