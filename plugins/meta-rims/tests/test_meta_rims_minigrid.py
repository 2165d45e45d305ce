"""MiniGrid / BabyAI environments: conformance, the mission vocabulary, seeded batches, the install hint."""

from __future__ import annotations

import importlib.util
import re
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from etude.testing.conformance import EnvironmentConformance  # noqa: E402

from etude_meta_rims import minigrid as mg  # noqa: E402

#: everything but the install-hint test needs the optional extra (pip install 'etude-meta-rims[minigrid]')
needs_minigrid = pytest.mark.skipif(importlib.util.find_spec("minigrid") is None, reason="minigrid not installed")


@needs_minigrid
class TestMiniGridConformance(EnvironmentConformance):
    component = ("environment", "minigrid")
    steps = 20

    def make_env(self):
        return self.create(env_id="MiniGrid-DoorKey-5x5-v0")


@needs_minigrid
class TestBabyAIConformance(EnvironmentConformance):
    component = ("environment", "babyai")
    steps = 20

    def make_env(self):
        return self.create(env_id="BabyAI-GoToLocalS6N2-v0")


@needs_minigrid
@pytest.mark.parametrize("env_id", [*mg.MINIGRID_LEVELS, *mg.BABYAI_LEVELS])
def test_every_supported_level_speaks_the_fixed_vocabulary(env_id):
    env = mg.make_level(env_id, mission_length=32)
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs)
        words = re.findall("[a-z]+", info["mission_text"].lower())
        assert all(w in mg.MISSION_VOCABULARY for w in words), info["mission_text"]
        assert mg.tokens_to_mission(obs["mission"]) == " ".join(words)


def test_tokenizer_pads_truncates_and_marks_unknown_words():
    assert mg.tokenize_mission("go to the red ball", 7).tolist() == [18, 3, 4, 43, 48, 0, 0]
    assert mg.tokenize_mission("Go to the RED ball, then open", 3).tolist() == [18, 3, 4]
    assert mg.tokenize_mission("go to the zebra", 5).tolist()[3] == 1  # <unk>
    assert len(mg.MISSION_VOCABULARY) == len(set(mg.MISSION_VOCABULARY)) == 51


def test_unsupported_level_is_refused_with_the_list():
    with pytest.raises(ValueError, match="env_id"):
        mg.MiniGrid(env_id="BabyAI-GoToObj-v0")  # a BabyAI level is environment/babyai's


@needs_minigrid
def test_step_rejects_a_bad_action():
    env = mg.MiniGrid()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(9)


@needs_minigrid
def test_success_is_a_rewarded_termination():
    env = mg.MiniGrid(env_id="MiniGrid-Empty-5x5-v0")
    env.reset(seed=0)
    # Empty-5x5: agent at (1, 1) facing right, goal at (3, 3): forward, forward, right, forward, forward
    for action in (2, 2, 1, 2):
        _, reward, terminated, _, info = env.step(action)
        assert not terminated and not info["success"]
    _, reward, terminated, _, info = env.step(2)
    assert terminated and info["success"] and reward == pytest.approx(1 - 0.9 * 5 / env.max_steps)


def _vector_rollout(seed):
    vec = mg.VectorGrid("BabyAI-GoToObj-v0", num_envs=3, seed=seed, max_steps=6)
    obs = vec.reset()
    g = torch.Generator().manual_seed(0)
    trace = [obs["image"].clone(), obs["mission"].clone()]
    for _ in range(15):
        obs, reward, done, info = vec.step(torch.randint(0, vec.num_actions, (3,), generator=g))
        trace += [obs["image"], obs["mission"], reward, done]
    return trace


@needs_minigrid
def test_vector_grid_is_deterministic_under_a_seed_and_resets_ended_episodes():
    a, b, c = _vector_rollout(0), _vector_rollout(0), _vector_rollout(1)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))
    vec = mg.VectorGrid("MiniGrid-Empty-5x5-v0", num_envs=2, seed=0, max_steps=3)
    obs0 = vec.reset()
    for step in range(3):
        obs, _, done, info = vec.step(torch.zeros(2, dtype=torch.long))  # turn left: never succeeds
        assert done.tolist() == [step == 2] * 2
    assert torch.equal(info["episode_length"], torch.tensor([3.0, 3.0], dtype=torch.float64))
    assert torch.equal(obs["image"], obs0["image"])  # Empty-5x5's start state is fixed: the reset one
    assert obs["image"].dtype == torch.long and obs["image"].shape == (2, 7, 7, 3)


def test_missing_minigrid_raises_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "minigrid", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'etude-meta-rims[minigrid]'")):
        mg.MiniGrid()


@needs_minigrid
def test_images_are_the_minigrid_codes():
    env = mg.MiniGrid(env_id="MiniGrid-DoorKey-5x5-v0")
    obs, _ = env.reset(seed=3)
    assert obs["image"].dtype == np.uint8 and obs["image"][..., 0].max() <= 10
