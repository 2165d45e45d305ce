"""The Environment kind: a tiny gymnasium environment passes the conformance suite and gymnasium.make."""

from __future__ import annotations

import types

import gymnasium
import numpy as np
import pytest

import etude
from etude.config import configclass, field, positive
from etude.kinds import Environment, register_gymnasium
from etude.testing.conformance import EnvironmentConformance


@configclass
class WalkConfig:
    length: int = field(default=5, validator=positive, doc="positions on the line")


class Walk(Environment):
    """A walk on a line: step left or right, reward 1 at the right end.

    Used to test the Environment kind; not a paper's environment.

    Examples:
        >>> env = Walk(length=3)
    """

    Config = WalkConfig

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.observation_space = gymnasium.spaces.Discrete(self.config.length)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.position = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = int(self.np_random.integers(self.config.length))
        return self.position, {}

    def step(self, action):
        self.position = int(np.clip(self.position + (1 if action else -1), 0, self.config.length - 1))
        done = self.position == self.config.length - 1
        return self.position, float(done), done, False, {}


class DictWalk(Walk):
    """The walk with a Dict observation (position and a noisy goal sensor), as goal-conditioned environments have.

    Used to test that the conformance suite accepts Dict observation spaces.

    Examples:
        >>> env = DictWalk(length=3)
    """

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.observation_space = gymnasium.spaces.Dict({
            "position": gymnasium.spaces.Discrete(self.config.length),
            "sensor": gymnasium.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32),
        })

    def _obs(self):
        sensor = self.np_random.uniform(-1, 1, size=2).astype(np.float32)
        return {"position": self.position, "sensor": sensor}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._obs(), {}

    def step(self, action):
        _, reward, done, truncated, info = super().step(action)
        return self._obs(), reward, done, truncated, info


def _plugin():
    module = types.ModuleType("walk_plugin")

    @etude.hookimpl
    def register_components(registry):
        registry.add("environment", "walk", Walk, example={})
        registry.add("environment", "dict-walk", DictWalk, example={})

    module.register_components = register_components
    return module


@pytest.fixture(autouse=True)
def walk_registry(etude_registry):
    etude_registry.add_plugin(_plugin(), "walk")
    yield


class TestWalk(EnvironmentConformance):
    component = ("environment", "walk")


class TestDictWalk(EnvironmentConformance):
    component = ("environment", "dict-walk")


def test_flatten_observation_orders_dict_keys():
    from etude.testing.conformance.environment import flatten_observation

    obs = {"b": np.array([1.0, 2.0]), "a": 3, "c": ({"x": 4.0}, 5)}
    assert flatten_observation(obs).tolist() == [3.0, 1.0, 2.0, 4.0, 5.0]


def test_gymnasium_make():
    assert "etude/walk-v0" in register_gymnasium()
    env = gymnasium.make("etude/walk-v0", length=4)
    obs, _ = env.reset(seed=1)
    assert 0 <= obs < 4
