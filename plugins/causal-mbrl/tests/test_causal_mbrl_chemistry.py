"""environment/chemistry: gymnasium conformance, seeding, graph and intervention semantics, rendering."""

import random

import gymnasium
import numpy as np
import pytest
import torch

import etude
from etude.testing.conformance import EnvironmentConformance

from etude_causal_mbrl import ColorChanging, decode_colours, palette


class TestChemistryPixels(EnvironmentConformance):
    component = ("environment", "chemistry")

    def make_env(self):
        return self.create(num_objects=4, graph="chain4", cell_size=5)


class TestChemistryState(EnvironmentConformance):
    component = ("environment", "chemistry")

    def make_env(self):
        return self.create(observation="state")


def _rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    trace = [obs["state"].copy()]
    for a in actions:
        obs, r, *_ = env.step(a)
        trace.append(np.append(obs["state"], r))
    return trace


def test_gymnasium_make_and_case_insensitive_choices():
    etude.kinds.environment.register_gymnasium()
    env = gymnasium.make("etude/chemistry-v0", num_objects=3, graph="full3", movement="Static", observation="STATE")
    obs, info = env.reset(seed=0)
    assert env.unwrapped.config.movement == "static" and set(obs) == {"state", "target"}
    assert env.unwrapped.adjacency.sum() == 3 and len(info["target_actions"]) == 10


def test_same_seed_same_rollout_and_other_seed_differs():
    actions = list(range(0, 25, 3))
    a = _rollout(ColorChanging(observation="state", graph="full5"), 3, actions)
    b = _rollout(ColorChanging(observation="state", graph="full5"), 3, actions)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    starts = {tuple(ColorChanging(observation="state").reset(seed=s)[0]["target"]) for s in range(8)}
    assert len(starts) > 1


def test_stepping_leaves_global_rngs_untouched():
    env = ColorChanging(observation="state", graph="random")
    np.random.seed(1), random.seed(1), torch.manual_seed(1)
    states = (np.random.get_state()[1].copy(), random.getstate(), torch.get_rng_state().clone())
    env.reset(seed=0)
    for a in range(10):
        env.step(a)
    assert np.array_equal(np.random.get_state()[1], states[0])
    assert random.getstate() == states[1]
    assert torch.equal(torch.get_rng_state(), states[2])


def test_scm_seed_draws_the_random_graph_and_reset_seed_does_not():
    adj = [ColorChanging(num_objects=7, scm_seed=s).adjacency for s in range(6)]
    assert any(not np.array_equal(adj[0], a) for a in adj[1:])
    env = ColorChanging(num_objects=7, scm_seed=2)
    before = env.adjacency.copy()
    env.reset(seed=5)
    env.reset(seed=9)
    np.testing.assert_array_equal(env.adjacency, before)


@pytest.mark.parametrize("graph, edges", [("chain6", 5), ("collider6", 5), ("full6", 15), ("random", None)])
def test_adjacency_is_lower_triangular_with_the_named_edge_count(graph, edges):
    env = ColorChanging(num_objects=6, graph=graph, scm_seed=4)
    a = env.adjacency
    assert np.array_equal(a, np.tril(a, -1))
    if edges is not None:
        assert a.sum() == edges


def test_intervention_changes_only_the_node_and_its_descendants():
    env = ColorChanging(num_objects=6, graph="random", scm_seed=3, observation="state")
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(60):
        obj, colour = int(rng.integers(6)), int(rng.integers(5))
        before = env.colours.copy()
        after = env.intervene(obj, colour)
        allowed = {obj, *env.descendants(obj)}
        others = [i for i in range(6) if i not in allowed]
        np.testing.assert_array_equal(after[others], before[others])
        assert after[obj] == colour
    sink = ColorChanging(num_objects=5, graph="chain5", observation="state", deterministic=True)
    sink.reset(seed=1)
    before = sink.colours.copy()
    after = sink.intervene(4, (int(before[4]) + 1) % 5)
    assert (after != before).sum() == 1


def test_replaying_the_target_actions_reaches_the_goal_deterministically():
    for seed in range(5):
        env = ColorChanging(graph="full5", deterministic=True, observation="state", scm_seed=seed)
        obs, info = env.reset(seed=seed)
        reward = None
        for a in info["target_actions"]:
            obs, reward, terminated, truncated, _ = env.step(a)
            assert not terminated
        assert reward == 1.0 and np.array_equal(obs["state"], obs["target"])


def test_reward_is_the_matched_fraction_and_truncation_at_max_steps():
    env = ColorChanging(observation="state", max_steps=3)
    obs, _ = env.reset(seed=0)
    for t in range(3):
        obs, reward, terminated, truncated, _ = env.step(7)
        assert reward == pytest.approx(np.mean(obs["state"] == obs["target"]))
        assert truncated == (t == 2) and not terminated


def test_pixel_observations_and_decoding_back_to_the_state():
    env = ColorChanging(num_objects=8, num_colors=8, graph="random", movement="dynamic")
    obs, _ = env.reset(seed=2)
    img = obs["image"]
    assert img.dtype == np.float32 and img.shape == (3, 50, 50) and 0 <= img.min() and img.max() <= 1
    assert env.observation_space.contains(obs)
    for t in range(5):
        obs, *_ = env.step(t * 5)
        decoded = decode_colours(torch.from_numpy(obs["image"])[None], torch.from_numpy(env.positions)[None],
                                 palette(8), torch.arange(8), cell=10)[0]
        np.testing.assert_array_equal(decoded.numpy(), env.colours)


def test_oracle_planner_with_the_true_simulator_solves_one_step_goals():
    solved = 0
    for seed in range(10):
        env = ColorChanging(graph="full5", deterministic=True, observation="state", num_target_interventions=1,
                            scm_seed=seed)
        env.reset(seed=seed)
        # deterministic mechanisms: a simulated intervention on a copy of the colours is the true next state
        best = max(range(25), key=lambda a: np.mean(env._apply(env.colours, a // 5, a % 5) == env.target))
        _, reward, *_ = env.step(best)
        solved += reward == 1.0
    assert solved == 10


def test_bad_configuration_and_actions_have_clear_errors():
    with pytest.raises(etude.config.ConfigError, match="num_objects"):
        ColorChanging(num_objects=11)
    with pytest.raises(etude.config.ConfigError, match="movement"):
        ColorChanging(movement="wiggly")
    with pytest.raises(ValueError, match="num_objects = 5"):
        ColorChanging(graph="chain4")
    env = ColorChanging(observation="state")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an integer"):
        env.step(25)
    with pytest.raises(ValueError, match="object index"):
        env.descendants(9)
