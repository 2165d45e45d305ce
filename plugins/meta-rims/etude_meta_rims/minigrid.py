"""MiniGrid / BabyAI environments as etude Environments: a 7 x 7 x 3 egocentric image and mission token ids.

Meta-RIMs (Madan et al., ICLR 2021) trains its agents on the MiniGrid and
BabyAI suites (Chevalier-Boisvert et al., ICLR 2019): a partially observed
grid world whose observation is the agent's 7 x 7 view, each cell encoded
as (object, colour, state) integers, and a mission string ("use the key to
open the door and then get to the goal", "go to the red ball"). This module
wraps the Farama ``minigrid`` package (optional extra: ``pip install
'etude-meta-rims[minigrid]'``) into the core's Environment contract:

* ``observation``: ``{"image": uint8 (7, 7, 3), "mission": int64 (mission_length,)}``;
  the mission is tokenised (lower case, split on non-letters) against the
  fixed vocabulary :data:`MISSION_VOCABULARY` (every word the supported
  MiniGrid and BabyAI levels generate; id 0 pads, id 1 is an unknown word),
  so token ids never depend on the order in which missions were seen (the
  torch-ac starter code grows its vocabulary on the fly).
* ``action_space``: ``Discrete(7)`` (left, right, forward, pickup, drop,
  toggle, done); ``reward``: MiniGrid's ``1 - 0.9 * steps / max_steps`` on
  success, else 0; ``info["success"]`` is True on a rewarded termination.
* ``reset(seed=...)`` seeds the level generator; the same seed and actions
  give the same episode.

:class:`VectorGrid` steps a list of such environments (Python loop: the
environments are not torch) with automatic resets and returns torch
tensors for a batched agent (:mod:`etude_meta_rims.ppo`).

References:
    K. Madan, N. R. Ke, A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent
    Independent Mechanisms", ICLR 2021, arXiv:2105.08710 (MiniGrid / BabyAI experiments).
    M. Chevalier-Boisvert, D. Bahdanau, S. Lahlou, L. Willems, C. Saharia, T. H. Nguyen, Y. Bengio,
    "BabyAI: A Platform to Study the Sample Efficiency of Grounded Language Learning", ICLR 2019,
    arXiv:1810.08272.

Examples:
    >>> env = MiniGrid(env_id="MiniGrid-Empty-5x5-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs["image"].shape, tokens_to_mission(obs["mission"])
    ((7, 7, 3), 'get to the green goal square')
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, positive
from etude.kinds import Environment

INSTALL_HINT = "MiniGrid / BabyAI environments need the minigrid package: pip install 'etude-meta-rims[minigrid]'"

#: MiniGrid levels supported here (the Meta-RIMs transfer families: Empty, DoorKey, MultiRoom, and a few more)
MINIGRID_LEVELS = (
    "MiniGrid-Empty-5x5-v0", "MiniGrid-Empty-6x6-v0", "MiniGrid-Empty-8x8-v0", "MiniGrid-Empty-16x16-v0",
    "MiniGrid-Empty-Random-5x5-v0", "MiniGrid-Empty-Random-6x6-v0",
    "MiniGrid-DoorKey-5x5-v0", "MiniGrid-DoorKey-6x6-v0", "MiniGrid-DoorKey-8x8-v0", "MiniGrid-DoorKey-16x16-v0",
    "MiniGrid-MultiRoom-N2-S4-v0", "MiniGrid-MultiRoom-N4-S5-v1", "MiniGrid-MultiRoom-N6-v0",
    "MiniGrid-FourRooms-v0", "MiniGrid-Unlock-v0", "MiniGrid-UnlockPickup-v0",
    "MiniGrid-KeyCorridorS3R1-v0", "MiniGrid-KeyCorridorS3R2-v0", "MiniGrid-KeyCorridorS3R3-v0",
)
#: BabyAI levels supported here (GoTo / Pickup / Open / PutNext families)
BABYAI_LEVELS = (
    "BabyAI-GoToRedBallGrey-v0", "BabyAI-GoToRedBall-v0", "BabyAI-GoToRedBallNoDists-v0", "BabyAI-GoToObj-v0",
    "BabyAI-GoToObjS4-v0", "BabyAI-GoToLocal-v0", "BabyAI-GoToLocalS6N2-v0", "BabyAI-GoToLocalS8N2-v0",
    "BabyAI-GoToObjMaze-v0", "BabyAI-GoTo-v0", "BabyAI-GoToDoor-v0", "BabyAI-GoToObjDoor-v0",
    "BabyAI-PickupLoc-v0", "BabyAI-PickupDist-v0", "BabyAI-Pickup-v0", "BabyAI-UnblockPickup-v0",
    "BabyAI-OpenDoor-v0", "BabyAI-OpenRedDoor-v0", "BabyAI-Open-v0", "BabyAI-PutNextLocal-v0",
    "BabyAI-UnlockLocal-v0",
)

#: every word the supported levels' missions use; id = position (0 = padding, 1 = unknown word)
MISSION_VOCABULARY = (
    "<pad>", "<unk>",
    # MiniGrid missions
    "get", "to", "the", "green", "goal", "square", "use", "key", "open", "door", "and", "then", "traverse",
    "rooms", "pick", "up", "go", "fetch", "a", "you", "must", "avoid", "lava", "reach", "matching", "object",
    "at", "end", "of", "hallway", "put", "near",
    # BabyAI grammar (verifier surfaces): verbs, locations, connectives
    "next", "in", "front", "behind", "on", "your", "left", "right", "after",
    # colours and object types
    "red", "blue", "purple", "yellow", "grey", "ball", "box", "wall",
)
_WORD_IDS = {w: i for i, w in enumerate(MISSION_VOCABULARY)}
_SPLIT = re.compile(r"[a-z]+")


def tokenize_mission(mission: str, length: int) -> np.ndarray:
    """Token ids (int64, ``length``) of a mission string: lower case, letters only, 0-padded, truncated.

    Examples:
        >>> tokenize_mission("Go to the red ball", 6).tolist()
        [18, 3, 4, 43, 48, 0]
    """
    ids = [_WORD_IDS.get(w, 1) for w in _SPLIT.findall(mission.lower())][:length]
    return np.asarray(ids + [0] * (length - len(ids)), dtype=np.int64)


def tokens_to_mission(tokens: Any) -> str:
    """The words of a token-id sequence, padding dropped (inverse of :func:`tokenize_mission` on known words)."""
    return " ".join(MISSION_VOCABULARY[int(t)] for t in np.asarray(tokens).ravel() if int(t) != 0)


def _import_minigrid() -> Any:
    try:
        import minigrid  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return minigrid


def _level_validator(levels: tuple[str, ...]):
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in levels:
            raise FieldValueError(attribute.name, value, f"one of the supported levels {list(levels)}")
    return check


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        positive(instance, attribute, value)


@configclass
class MiniGridConfig:
    env_id: str = field(default="MiniGrid-Empty-5x5-v0", validator=_level_validator(MINIGRID_LEVELS),
                        doc="the MiniGrid level (gymnasium id)")
    mission_length: int = field(default=16, validator=positive, doc="mission tokens kept (0-padded, truncated)")
    max_steps: int | None = field(default=None, validator=_optional_positive,
                                  doc="episode step limit (None: the level's own)")


@configclass
class BabyAIConfig:
    env_id: str = field(default="BabyAI-GoToObj-v0", validator=_level_validator(BABYAI_LEVELS),
                        doc="the BabyAI level (gymnasium id)")
    mission_length: int = field(default=16, validator=positive, doc="mission tokens kept (0-padded, truncated)")
    max_steps: int | None = field(default=None, validator=_optional_positive,
                                  doc="episode step limit (None: the level's own)")


class MiniGrid(Environment):
    """A MiniGrid level with image and mission-token observations (Meta-RIMs' agents' input).

    Observation ``{"image": (7, 7, 3) uint8, "mission": (mission_length,) int64}``
    (object / colour / state codes of the egocentric view; mission word ids
    from :data:`MISSION_VOCABULARY`), seven discrete actions, MiniGrid's
    reward; ``info["success"]``, ``info["mission_text"]``. Needs the optional
    ``minigrid`` package (an ImportError names the install command).

    References:
        K. Madan et al., "Fast and Slow Learning of Recurrent Independent Mechanisms", ICLR 2021,
        arXiv:2105.08710; M. Chevalier-Boisvert et al., "BabyAI", ICLR 2019, arXiv:1810.08272.

    Examples:
        >>> env = MiniGrid(env_id="MiniGrid-DoorKey-5x5-v0")
        >>> obs, _ = env.reset(seed=1)
        >>> int(env.action_space.n)
        7
    """

    Config = MiniGridConfig
    metadata = {"render_modes": []}

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        _import_minigrid()
        import gymnasium  # noqa: PLC0415

        kwargs = {} if self.config.max_steps is None else {"max_steps": self.config.max_steps}
        self._env = gymnasium.make(self.config.env_id, disable_env_checker=True, **kwargs).unwrapped
        view = self._env.observation_space["image"]
        self.observation_space = gymnasium.spaces.Dict({
            "image": gymnasium.spaces.Box(0, 255, view.shape, dtype=np.uint8),
            "mission": gymnasium.spaces.Box(0, len(MISSION_VOCABULARY) - 1, (self.config.mission_length,),
                                            dtype=np.int64),
        })
        self.action_space = gymnasium.spaces.Discrete(int(self._env.action_space.n))
        self.mission = ""

    @property
    def max_steps(self) -> int:
        """The episode step limit."""
        return int(self._env.max_steps)

    def _observe(self, obs: dict) -> dict[str, np.ndarray]:
        self.mission = str(obs["mission"])
        return {"image": np.asarray(obs["image"], dtype=np.uint8),
                "mission": tokenize_mission(self.mission, self.config.mission_length)}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        obs, info = self._env.reset(seed=seed, options=options)
        return self._observe(obs), {**info, "mission_text": str(obs["mission"])}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        if not self.action_space.contains(int(action)):
            raise ValueError(f"{type(self).__name__}.step: action must be an int in [0, {self.action_space.n}), "
                             f"got {action!r}")
        obs, reward, terminated, truncated, info = self._env.step(int(action))
        info = {**info, "success": bool(terminated and reward > 0), "mission_text": str(obs["mission"])}
        return self._observe(obs), float(reward), bool(terminated), bool(truncated), info

    def close(self) -> None:
        self._env.close()


class BabyAI(MiniGrid):
    """A BabyAI level (language-conditioned MiniGrid) with image and mission-token observations.

    Same observation, actions and reward as :class:`MiniGrid`; the levels
    are :data:`BABYAI_LEVELS` (GoTo / Pickup / Open / PutNext families).

    References:
        M. Chevalier-Boisvert et al., "BabyAI", ICLR 2019, arXiv:1810.08272; K. Madan et al., ICLR 2021,
        arXiv:2105.08710.

    Examples:
        >>> env = BabyAI(env_id="BabyAI-GoToRedBall-v0")
        >>> tokens_to_mission(env.reset(seed=0)[0]["mission"])
        'go to the red ball'
    """

    Config = BabyAIConfig


def make_level(env_id: str, **options: Any) -> MiniGrid:
    """A :class:`MiniGrid` or :class:`BabyAI` for a gymnasium id (by its prefix)."""
    if env_id.startswith("BabyAI-"):
        return BabyAI(env_id=env_id, **options)
    return MiniGrid(env_id=env_id, **options)


class VectorGrid:
    """``num_envs`` copies of a level stepped together, reset automatically at episode ends, as torch tensors.

    ``reset()`` -> observation dict of tensors ``image`` (N, 7, 7, 3) int64 and
    ``mission`` (N, L) int64. ``step(actions)`` (N,) -> ``(obs, reward (N,),
    done (N,) bool, info)``, ``info`` holding ``success`` (N,) bool and
    ``episode_return`` / ``episode_length`` (N,) of the episodes that just
    ended (NaN elsewhere); a done environment is reset and ``obs`` is its
    first observation of the next episode. Environment ``i`` is seeded once
    with ``seed + i`` (later resets continue its generator), so a run is a
    function of ``seed`` and the actions.

    Examples:
        >>> vec = VectorGrid("MiniGrid-Empty-5x5-v0", num_envs=2, seed=0)
        >>> vec.reset()["image"].shape
        torch.Size([2, 7, 7, 3])
    """

    def __init__(self, env_id: str, num_envs: int, *, seed: int = 0, **options: Any) -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"VectorGrid: num_envs must be a positive int, got {num_envs!r}")
        self.env_id = env_id
        self.envs = [make_level(env_id, **options) for _ in range(num_envs)]
        self.seed = int(seed)
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    @property
    def num_envs(self) -> int:
        return len(self.envs)

    @property
    def num_actions(self) -> int:
        return int(self.envs[0].action_space.n)

    @staticmethod
    def _stack(obs: list[dict]) -> dict[str, Tensor]:
        return {"image": torch.from_numpy(np.stack([o["image"] for o in obs]).astype(np.int64)),
                "mission": torch.from_numpy(np.stack([o["mission"] for o in obs]))}

    def reset(self) -> dict[str, Tensor]:
        self._returns[:] = 0.0
        self._lengths[:] = 0
        return self._stack([env.reset(seed=self.seed + i)[0] for i, env in enumerate(self.envs)])

    def step(self, actions: Tensor) -> tuple[dict[str, Tensor], Tensor, Tensor, dict[str, Tensor]]:
        acts = torch.as_tensor(actions).reshape(-1).tolist()
        if len(acts) != self.num_envs:
            raise ValueError(f"VectorGrid.step: expected {self.num_envs} actions, got {len(acts)}")
        obs, rewards, dones, success = [], [], [], []
        ret = np.full(self.num_envs, np.nan)
        length = np.full(self.num_envs, np.nan)
        for i, (env, a) in enumerate(zip(self.envs, acts, strict=True)):
            o, r, term, trunc, info = env.step(int(a))
            self._returns[i] += r
            self._lengths[i] += 1
            done = term or trunc
            if done:
                ret[i], length[i] = self._returns[i], self._lengths[i]
                self._returns[i], self._lengths[i] = 0.0, 0
                o, _ = env.reset()
            obs.append(o)
            rewards.append(r)
            dones.append(done)
            success.append(info["success"])
        info_t = {"success": torch.tensor(success), "episode_return": torch.from_numpy(ret),
                  "episode_length": torch.from_numpy(length)}
        return self._stack(obs), torch.tensor(rewards, dtype=torch.float32), torch.tensor(dones), info_t

    def close(self) -> None:
        for env in self.envs:
            env.close()


__all__ = ["BABYAI_LEVELS", "INSTALL_HINT", "MINIGRID_LEVELS", "MISSION_VOCABULARY", "BabyAI", "BabyAIConfig",
           "MiniGrid", "MiniGridConfig", "VectorGrid", "make_level", "tokenize_mission", "tokens_to_mission"]
