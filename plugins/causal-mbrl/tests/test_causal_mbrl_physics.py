"""environment/physics: conformance, the pushing rules against a scalar reference, variants."""

import itertools

import numpy as np
import pytest

import etude
from etude.testing.conformance import EnvironmentConformance

from etude_causal_mbrl import WeightedBlockPushing, push
from etude_causal_mbrl.physics import DIRECTIONS


class TestPhysicsPixels(EnvironmentConformance):
    component = ("environment", "physics")

    def make_env(self):
        return self.create(cell_size=5)


class TestPhysicsState(EnvironmentConformance):
    component = ("environment", "physics")

    def make_env(self):
        return self.create(observation="state", variant="unobserved", cmap="sets", mode="fewshot-v1")


def _reference_push(pos, weights, obj, direction):
    """One state, written from the rules: free move, or push a lighter occupant into a free on-grid cell."""
    pos = [tuple(p) for p in pos]
    d = tuple(DIRECTIONS[direction])
    if d == (0, 0):
        return pos
    dest = (pos[obj][0] + d[0], pos[obj][1] + d[1])
    if not (0 <= dest[0] < 5 and 0 <= dest[1] < 5):
        return pos
    if dest not in pos:
        pos[obj] = dest
        return pos
    other = pos.index(dest)
    behind = (dest[0] + d[0], dest[1] + d[1])
    if weights[obj] > weights[other] and 0 <= behind[0] < 5 and 0 <= behind[1] < 5 and behind not in pos:
        pos[other], pos[obj] = behind, dest
    return pos


def test_batched_push_equals_the_scalar_rules():
    rng = np.random.default_rng(0)
    b, n = 400, 6
    cells = rng.random((b, 25)).argsort(-1)[:, :n]
    pos = np.stack([cells // 5, cells % 5], -1)
    weights = np.arange(n, 0, -1)
    obj, direction = rng.integers(0, n, b), rng.integers(0, 5, b)
    new, _ = push(pos, weights, obj, direction)
    for i in range(b):
        assert [tuple(p) for p in new[i]] == _reference_push(pos[i], weights, obj[i], direction[i])
        assert len({tuple(p) for p in new[i]}) == n and new[i].min() >= 0 and new[i].max() < 5


def test_heavier_pushes_lighter_lighter_cannot_push_and_no_double_push():
    w = np.array([3, 2, 1])
    row = np.array([[[2, 0], [2, 1], [0, 4]]])  # 0 left of 1
    new, ok = push(row, w, np.array([0]), np.array([2]))  # 0 pushes 1 right
    assert new[0].tolist() == [[2, 1], [2, 2], [0, 4]] and ok[0]
    new, ok = push(row, w, np.array([1]), np.array([4]))  # 1 (lighter) into 0
    assert new[0].tolist() == row[0].tolist() and not ok[0]
    chain = np.array([[[2, 0], [2, 1], [2, 2]]])
    new, ok = push(chain, w, np.array([0]), np.array([2]))  # would push two objects
    assert new[0].tolist() == chain[0].tolist() and not ok[0]
    new, ok = push(chain, w, np.array([2]), np.array([0]))  # stay
    assert new[0].tolist() == chain[0].tolist() and ok[0]
    edge = np.array([[[0, 0], [4, 4], [2, 2]]])
    new, _ = push(edge, w, np.array([0]), np.array([1]))  # off the grid
    assert new[0].tolist() == edge[0].tolist()


def test_weight_order_is_a_full_dag_and_descendants_are_the_lighter_objects():
    env = WeightedBlockPushing(num_objects=4, observation="state")
    env.reset(seed=0)
    assert env.adjacency.sum() == 6 and env.descendants(0) == (1, 2, 3) and env.descendants(3) == ()


def test_reward_is_minus_mean_manhattan_distance_and_seeded():
    env = WeightedBlockPushing(observation="state")
    obs, _ = env.reset(seed=4)
    obs, reward, *_ = env.step(3)
    assert reward == pytest.approx(-np.abs(obs["state"] - obs["target"]).sum(-1).mean())
    a = WeightedBlockPushing(observation="state").reset(seed=7)[0]["state"]
    b = WeightedBlockPushing(observation="state").reset(seed=7)[0]["state"]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("variant, cmap, mode", [("Observed", "Reds", "Test-v2"), ("observed", "greens", "zeroshot"),
                                                 ("observed", "blues", "zeroshotshape"),
                                                 ("unobserved", "pastels", "fewshot-v3"),
                                                 ("FixedUnobserved", "Sets", "Train")])
def test_variants_build_and_render(variant, cmap, mode):
    env = WeightedBlockPushing(variant=variant, cmap=cmap, mode=mode)
    obs, _ = env.reset(seed=1)
    assert obs["image"].shape == (3, 50, 50) and env.observation_space.contains(obs)


def test_bad_variant_combinations_are_rejected():
    with pytest.raises(etude.config.ConfigError, match="cmap"):
        WeightedBlockPushing(variant="observed", cmap="sets")
    with pytest.raises(etude.config.ConfigError, match="mode"):
        WeightedBlockPushing(variant="observed", mode="fewshot-v1")
    with pytest.raises(etude.config.ConfigError, match="variant"):
        WeightedBlockPushing(variant="hidden")
    for combo in itertools.product(["observed"], ["blues"], ["train", "test-v1"]):
        WeightedBlockPushing(variant=combo[0], cmap=combo[1], mode=combo[2])
