"""Environment: a gymnasium ``Env`` with an etude config, also registered with gymnasium."""

from __future__ import annotations

from typing import Any

try:
    import gymnasium
except ImportError as exc:  # pragma: no cover - optional extra
    raise ImportError("environments need gymnasium: pip install 'etude[gym]'") from exc

from ._component import Component


class Environment(Component, gymnasium.Env):
    """A gymnasium environment with a validated config.

    Contract: the gymnasium API (``reset(seed=...)``, ``step(action)``,
    ``observation_space``, ``action_space``); seeded resets are reproducible.
    Registered components of kind ``environment`` are also made available as
    ``gymnasium.make("etude/<name>-v0")`` by :func:`register_gymnasium`.
    """

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        self._init_config(config, overrides)


def register_gymnasium() -> list[str]:
    """Register every etude environment with gymnasium; returns the ids."""
    from etude.registry import get_registry  # noqa: PLC0415

    ids = []
    for spec in get_registry().components("environment"):
        env_id = f"etude/{spec.name}-v0"
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=spec.load())
        ids.append(env_id)
    return ids
