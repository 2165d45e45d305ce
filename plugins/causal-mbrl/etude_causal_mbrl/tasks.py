"""Transition datasets of the two environments, emitted batched over episodes.

``task/chemistry-transitions`` and ``task/physics-transitions`` collect
random-action episodes (the reference: train 1000 x 100, valid 200 x 100,
test 10,000 x 10) without a Python loop over episodes: one step of all
episodes is one batched :meth:`etude_scm.SCM.update` per intervened object
(chemistry) or one vectorised :func:`~etude_causal_mbrl.physics.push`
(physics). Datasets keep integer states; images are rendered on demand
(:meth:`render`). As a :class:`~etude.kinds.Task`, a split's ``inputs`` are the
one-hot state and action (state-level models: the core's ``model/mlp``),
its ``targets`` the next state ``(n, N)`` as classes (colours, or cells
``row * 5 + column``); ``info`` holds the episodes: ``states (E, L + 1, N)``
(physics: ``(E, L + 1, N, 2)``), ``actions (E, L)`` and ``positions``.

References:
    N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual Model
    Based Reinforcement Learning". NeurIPS 2021 Datasets and Benchmarks.
    arXiv:2107.00848 (Sec. 4: data collection with a random policy).

Example:
    >>> task = ChemistryTransitions(graph="chain3", num_objects=3, train_episodes=4, test_episodes=2, seed=0)
    >>> task.split("train").inputs.shape, task.split("train").targets.shape
    (torch.Size([400, 30]), torch.Size([400, 3]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from etude.config import configclass, field, non_negative, one_of
from etude.kinds import Split, Task

from ._common import GRID, STATIC_POSITIONS, int_range, lower

__all__ = ["ChemistryTransitions", "ChemistryTransitionsConfig", "PhysicsTransitions", "PhysicsTransitionsConfig",
           "emit_chemistry", "emit_physics"]


def _positions(num_episodes: int, n: int, movement: str, generator: torch.Generator) -> Tensor:
    if movement == "static":
        return torch.tensor(STATIC_POSITIONS[:n]).expand(num_episodes, n, 2).clone()
    cells = torch.rand(num_episodes, GRID * GRID, generator=generator).argsort(-1)[:, :n]
    return torch.stack([cells // GRID, cells % GRID], -1)


@torch.no_grad()
def emit_chemistry(scm, num_episodes: int, length: int, generator: torch.Generator, *,
                   start: Tensor | None = None, actions: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """``(states (E, L + 1, N), actions (E, L))`` of random-intervention episodes of a chemistry SCM.

    Starts: object 0 uniform, the rest from their mechanisms (or ``start``
    (E, N)); actions uniform over ``N * C`` (or ``actions`` (E, L)). Each step
    is one :meth:`SCM.update` per object over the episodes intervening on it.
    """
    nodes = scm.nodes
    n = len(nodes)
    k = scm.mechanisms[nodes[0]].num_categories
    if actions is None:
        actions = torch.randint(n * k, (num_episodes, length), generator=generator)
    if start is None:
        roots = torch.randint(k, (num_episodes,), generator=generator)
        s = scm.do({nodes[0]: roots}).sample(num_episodes, generator=generator)
        start = torch.stack([s[v] for v in nodes], -1)
    states = torch.empty(num_episodes, length + 1, n, dtype=torch.long)
    states[:, 0] = start
    for t in range(length):
        cur = states[:, t].clone()
        obj, colour = actions[:, t] // k, actions[:, t] % k
        for i in range(n):
            rows = (obj == i).nonzero().squeeze(1)
            if rows.numel() == 0:
                continue
            sub = {v: cur[rows, j] for j, v in enumerate(nodes)}
            new = scm.update(sub, {nodes[i]: colour[rows]}, generator=generator)
            cur[rows] = torch.stack([new[v] for v in nodes], -1)
        states[:, t + 1] = cur
    return states, actions


def emit_physics(weights: np.ndarray, num_episodes: int, length: int, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """``(positions (E, L + 1, N, 2), actions (E, L))``: random pushes from random distinct starting cells."""
    from .physics import push  # noqa: PLC0415

    n = len(weights)
    cells = rng.random((num_episodes, GRID * GRID)).argsort(-1)[:, :n]
    pos = np.stack([cells // GRID, cells % GRID], -1).astype(np.int64)
    actions = rng.integers(0, 5 * n, size=(num_episodes, length))
    out = np.empty((num_episodes, length + 1, n, 2), dtype=np.int64)
    out[:, 0] = pos
    for t in range(length):
        pos, _ = push(pos, weights, actions[:, t] // 5, actions[:, t] % 5)
        out[:, t + 1] = pos
    return torch.from_numpy(out), torch.from_numpy(actions)


def _one_hot_inputs(states: Tensor, actions: Tensor, state_classes: int, action_size: int) -> tuple[Tensor, Tensor]:
    """Flatten episodes to transitions: inputs ``[one-hot s_t, one-hot a_t]``, targets ``s_{t+1}``."""
    e, l1, n = states.shape
    s = states[:, :-1].reshape(-1, n)
    a = actions.reshape(-1)
    x = torch.cat([torch.nn.functional.one_hot(s, state_classes).reshape(s.shape[0], -1),
                   torch.nn.functional.one_hot(a, action_size)], -1).float()
    return x, states[:, 1:].reshape(-1, n)


@configclass
class _EpisodeFields:
    train_episodes: int = field(default=1000, validator=int_range(1, 10**7), doc="training episodes")
    train_length: int = field(default=100, validator=int_range(1, 10**5), doc="steps per training episode")
    val_episodes: int = field(default=0, validator=non_negative, doc="validation episodes (0: no 'val' split)")
    val_length: int = field(default=100, validator=int_range(1, 10**5), doc="steps per validation episode")
    test_episodes: int = field(default=10_000, validator=int_range(1, 10**7), doc="test episodes")
    test_length: int = field(default=10, validator=int_range(1, 10**5), doc="steps per test episode")
    seed: int = field(default=0, doc="seed of the episodes (starts, actions, categorical draws)")


@configclass
class ChemistryTransitionsConfig(_EpisodeFields):
    num_objects: int = field(default=5, validator=int_range(3, 10), doc="objects N")
    num_colors: int = field(default=5, validator=int_range(3, 8), doc="colours C")
    graph: str = field(default="chain5", doc="skeleton, edge list or 'random'")
    movement: str = field(default="static", converter=lower, validator=one_of("static", "dynamic"),
                          doc="fixed cells or cells redrawn per episode")
    deterministic: bool = field(default=False, doc="argmax mechanisms")
    cell_size: int = field(default=10, validator=int_range(1, 64), doc="pixels per cell of render()")
    scm_seed: int = field(default=0, doc="seed of the graph and the mechanisms")


class _Transitions(Task):
    split_names = ("train", "val", "test")

    def _split_plan(self) -> list[tuple[str, int, int]]:
        c = self.config
        plan = [("train", c.train_episodes, c.train_length), ("val", c.val_episodes, c.val_length),
                ("test", c.test_episodes, c.test_length)]
        return [p for p in plan if p[1] > 0]


class ChemistryTransitions(_Transitions):
    """Random-intervention transitions of the chemistry environment (see the module docstring).

    Example:
        >>> t = ChemistryTransitions(num_objects=3, graph="full3", train_episodes=2, train_length=5,
        ...                          test_episodes=2, seed=0)
        >>> t.split("test").info["states"].shape, t.render(t.split("test").info["states"][:, 0],
        ...                                                t.split("test").info["positions"]).shape
        (torch.Size([2, 11, 3]), torch.Size([2, 3, 50, 50]))
    """

    Config = ChemistryTransitionsConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        from etude_scm import create_categorical_mlp_scm  # noqa: PLC0415

        from .rendering import palette  # noqa: PLC0415

        c = self.config
        self.scm = create_categorical_mlp_scm(c.graph, torch.Generator().manual_seed(int(c.scm_seed)),
                                              num_categories=c.num_colors, deterministic=c.deterministic,
                                              num_nodes=c.num_objects)
        if len(self.scm.nodes) != c.num_objects:
            raise ValueError(f"chemistry-transitions: graph {c.graph!r} has {len(self.scm.nodes)} nodes but "
                             f"num_objects = {c.num_objects}")
        self.split_names = tuple(p[0] for p in self._split_plan())
        self.num_classes = c.num_colors
        self.num_objects, self.action_size, self.action_dim = c.num_objects, c.num_objects * c.num_colors, c.num_colors
        self.input_shape = (2 * c.num_objects * c.num_colors,)
        self.colours = palette(c.num_colors)
        self.adjacency = self.scm.graph.adjacency()

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        out = {}
        for i, (name, episodes, length) in enumerate(self._split_plan()):
            g = torch.Generator().manual_seed(int(c.seed) * 7919 + 104_729 * (i + 1))
            positions = _positions(episodes, c.num_objects, c.movement, g)
            states, actions = emit_chemistry(self.scm, episodes, length, g)
            x, y = _one_hot_inputs(states, actions, c.num_colors, self.action_size)
            out[name] = Split(x, y, {"states": states, "actions": actions, "positions": positions})
        return out

    def render(self, states: Tensor, positions: Tensor) -> Tensor:
        """Images ``(B, 3, 5 cell, 5 cell)`` of colour states ``(B, N)`` at ``positions (B, N, 2)``."""
        from .rendering import render  # noqa: PLC0415

        rgb = self.colours.to(states.device)[states.long()]
        shapes = torch.arange(states.shape[-1], device=states.device)
        return render(positions.to(states.device), rgb, shapes, cell=self.config.cell_size)

    # -- simulator interface (planning) ------------------------------------------------
    def random_starts(self, num: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(states (E, N), positions (E, N, 2))`` of fresh episodes (object 0 uniform, the rest from the SCM)."""
        positions = _positions(num, self.config.num_objects, self.config.movement, generator)
        return emit_chemistry(self.scm, num, 0, generator)[0][:, 0], positions

    def step(self, states: Tensor, actions: Tensor, generator: torch.Generator) -> Tensor:
        """Next states ``(E, N)`` after one intervention per episode."""
        return emit_chemistry(self.scm, states.shape[0], 1, generator, start=states, actions=actions[:, None])[0][:, 1]

    @staticmethod
    def reward(states: Tensor, goals: Tensor) -> Tensor:
        """Fraction of objects whose colour matches the goal, ``(E,)``."""
        return (states == goals).float().mean(-1)

    def action_vectors(self, actions: Tensor) -> Tensor:
        """Per-object action encoding ``(B, N, C)``: the intervened object's row is the one-hot colour."""
        return torch.nn.functional.one_hot(actions.long(), self.action_size).float().reshape(
            *actions.shape, self.num_objects, self.action_dim)


@configclass
class PhysicsTransitionsConfig(_EpisodeFields):
    num_objects: int = field(default=5, validator=int_range(2, 10), doc="objects N")
    cmap: str = field(default="blues", converter=lower, validator=one_of("blues", "reds", "greens"),
                      doc="observed colour map (darker = heavier)")
    cell_size: int = field(default=10, validator=int_range(1, 64), doc="pixels per cell of render()")


class PhysicsTransitions(_Transitions):
    """Random-push transitions of the observed physics environment (object 0 heaviest, fixed colours and shapes).

    Example:
        >>> t = PhysicsTransitions(num_objects=3, train_episodes=2, train_length=5, test_episodes=2, seed=0)
        >>> t.split("train").targets.shape, t.num_classes
        (torch.Size([10, 3]), 25)
    """

    Config = PhysicsTransitionsConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import matplotlib  # noqa: PLC0415

        c = self.config
        n = c.num_objects
        self.weights = np.arange(n, 0, -1, dtype=np.int64)
        self.split_names = tuple(p[0] for p in self._split_plan())
        self.num_classes = GRID * GRID
        self.num_objects, self.action_size, self.action_dim = n, 5 * n, 5
        self.input_shape = (n * GRID * GRID + 5 * n,)
        cm = matplotlib.colormaps[c.cmap.capitalize()]
        self.rgb = torch.tensor([cm((n - 1 - i) / (n - 1))[:3] for i in range(n)], dtype=torch.float32)
        self.adjacency = torch.tril(torch.ones(n, n), -1)

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        out = {}
        for i, (name, episodes, length) in enumerate(self._split_plan()):
            rng = np.random.default_rng([int(c.seed), i])
            states, actions = emit_physics(self.weights, episodes, length, rng)
            cells = states[..., 0] * GRID + states[..., 1]
            x, y = _one_hot_inputs(cells, actions, GRID * GRID, self.action_size)
            out[name] = Split(x, y, {"states": states, "actions": actions, "positions": states[:, 0]})
        return out

    def render(self, states: Tensor, positions: Tensor | None = None) -> Tensor:
        """Images of position states ``(B, N, 2)`` (``positions`` unused: the state is the positions)."""
        from .rendering import render  # noqa: PLC0415

        b, n = states.shape[:2]
        shapes = torch.arange(n, device=states.device) % 3
        return render(states, self.rgb.to(states.device).expand(b, n, 3), shapes, cell=self.config.cell_size)

    # -- simulator interface (planning) ------------------------------------------------
    def random_starts(self, num: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(states (E, N, 2), positions)``: random distinct cells (positions are the states)."""
        n = self.config.num_objects
        cells = torch.rand(num, GRID * GRID, generator=generator).argsort(-1)[:, :n]
        states = torch.stack([cells // GRID, cells % GRID], -1)
        return states, states

    def step(self, states: Tensor, actions: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Next positions ``(E, N, 2)`` after one push per episode."""
        from .physics import push  # noqa: PLC0415

        a = actions.cpu().numpy()
        new, _ = push(states.cpu().numpy(), self.weights, a // 5, a % 5)
        return torch.from_numpy(new).to(states.device)

    @staticmethod
    def reward(states: Tensor, goals: Tensor) -> Tensor:
        """Minus the mean Manhattan distance to the goal cells, ``(E,)``."""
        return -(states - goals).abs().sum(-1).float().mean(-1)

    def action_vectors(self, actions: Tensor) -> Tensor:
        """Per-object action encoding ``(B, N, 5)``: the moved object's row is the one-hot direction."""
        return torch.nn.functional.one_hot(actions.long(), self.action_size).float().reshape(
            *actions.shape, self.num_objects, self.action_dim)
