"""Conformance suite for Environment (gymnasium's own checker plus seeded reproducibility)."""

from __future__ import annotations

import numpy as np

from ._base import ConformanceSuite


def flatten_observation(obs) -> np.ndarray:
    """An observation as one float vector: Box / Discrete values, and Dict / Tuple spaces entry by entry.

    Dict observations are flattened in sorted key order (gymnasium's own
    order), nested dicts and tuples recursively.
    """
    if isinstance(obs, dict):
        parts = [flatten_observation(obs[k]) for k in sorted(obs)]
        return np.concatenate(parts) if parts else np.zeros(0)
    if isinstance(obs, tuple):
        parts = [flatten_observation(o) for o in obs]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.asarray(obs, dtype=float).ravel()


class EnvironmentConformance(ConformanceSuite):
    """Define ``make_env()``; ``steps`` random actions are replayed under one seed.

    Observation spaces may be Box, Discrete, or Dict / Tuple of them
    (compared entry by entry, see :func:`flatten_observation`).
    """

    steps = 10

    def make_env(self):
        return self.create()

    def test_is_environment(self):
        from etude.kinds import Environment  # noqa: PLC0415

        assert isinstance(self.make_env(), Environment)

    def test_gymnasium_checker(self):
        from gymnasium.utils.env_checker import check_env  # noqa: PLC0415

        check_env(self.make_env(), skip_render_check=True)

    def test_seeded_rollouts_repeat(self):
        def rollout():
            env = self.make_env()
            obs, _ = env.reset(seed=0)
            env.action_space.seed(0)
            trace = [flatten_observation(obs)]
            for _ in range(self.steps):
                obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                trace.append(np.append(flatten_observation(obs), reward))
                if terminated or truncated:
                    break
            return trace

        for a, b in zip(rollout(), rollout(), strict=True):
            np.testing.assert_array_equal(a, b)
