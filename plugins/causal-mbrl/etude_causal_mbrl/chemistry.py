"""``environment/chemistry`` (``ColorChanging``): objects whose colours follow a hidden categorical SCM.

N objects on a 5 x 5 grid, each of one of C colours. The colours are the
nodes of a structural causal model from ``etude-scm``
(:func:`etude_scm.create_categorical_mlp_scm`): a DAG over objects in index
order (a named skeleton, an edge list, or a random DAG with
``P(j -> i) = min(0.5 i, 5)/(i + 1)``) and one MLP per object,
``[parents' one-hot colours -> 4N -> C]`` with orthogonal weights (gain 3.5)
and biases ``U(-2.1, 2.1)``, whose softmax is sampled (or its argmax taken,
``deterministic=True``). Action ``a = object * C + colour`` is the hard
intervention ``do(X_object = colour)``: :meth:`etude_scm.SCM.update` keeps
every non-descendant and redraws the descendants. At reset object 0's colour
is uniform and the others follow from their mechanisms; the goal is the
state after 10 random interventions from the initial one (their actions
are in ``info["target_actions"]``); the reward is the fraction of objects
matching the goal; the episode is never terminated and is truncated after
``max_steps``.

Randomness: the graph and the MLP weights come from ``scm_seed`` only;
``reset(seed=...)`` seeds the episode (root colour, positions in dynamic
mode, goal, and the categorical draws, through ``self.np_random`` and a
``torch.Generator`` seeded from it). The global numpy, ``random`` and torch
generators are never touched (the reference drew from all three).

References:
    N. R. Ke, A. Didolkar, S. Mittal, A. Goyal, G. Lajoie, S. Bauer, D. Rezende,
    Y. Bengio, M. Mozer, C. Pal. "Systematic Evaluation of Causal Discovery in
    Visual Model Based Reinforcement Learning". NeurIPS 2021 Datasets and
    Benchmarks. arXiv:2107.00848 (Sec. 3.1, Appendix: the chemistry environment).

Example:
    >>> env = ColorChanging(num_objects=3, graph="chain3", observation="state")
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs), env.action_space.n
    (['state', 'target'], 15)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import configclass, field, one_of
from etude.kinds import Environment

from ._common import GRID, STATIC_POSITIONS, int_range, lower

__all__ = ["ColorChanging", "ColorChangingConfig"]


@configclass
class ColorChangingConfig:
    num_objects: int = field(default=5, validator=int_range(3, 10), doc="objects N (3 to 10)")
    num_colors: int = field(default=5, validator=int_range(3, 8), doc="colours C (3 to 8)")
    graph: str = field(default="random", doc="skeleton ('chain5', 'collider5', 'full5', ...), edge list "
                                             "('0->{1-3},2->4') or 'random'")
    movement: str = field(default="static", converter=lower, validator=one_of("static", "dynamic"),
                          doc="'static' (fixed cells) or 'dynamic' (cells redrawn at each reset)")
    observation: str = field(default="pixels", converter=lower, validator=one_of("pixels", "state"),
                             doc="'pixels' ({'image', 'target'} RGB) or 'state' ({'state', 'target'} colours)")
    cell_size: int = field(default=10, validator=int_range(1, 64), doc="pixels per cell (10: the paper's 50 x 50)")
    max_steps: int = field(default=50, validator=int_range(1, 100_000), doc="steps before truncation")
    num_target_interventions: int = field(default=10, validator=int_range(0, 10_000),
                                          doc="random interventions that make the goal (the paper's 10)")
    deterministic: bool = field(default=False, doc="argmax colours instead of sampling (the paper samples)")
    scm_seed: int = field(default=0, doc="seed of the graph and the mechanisms' weights")
    render_mode: str | None = field(default=None, validator=lambda i, a, v: v is None or one_of("rgb_array")(i, a, v),
                                    doc="None or 'rgb_array' (render() returns the image, H x W x 3 uint8)")


class ColorChanging(Environment):
    """The chemistry environment: intervene on object colours, reach a goal configuration.

    ``env.unwrapped`` exposes ``scm`` (the :class:`etude_scm.SCM`), ``adjacency``
    (``A[i, j] = 1`` iff object j -> object i), ``descendants(i)``,
    ``intervene(object, colour)`` and ``colours`` / ``target`` (current and goal
    colour per object). See the module docstring for the dynamics.

    Example:
        >>> env = ColorChanging(graph="full5", deterministic=True, observation="state")
        >>> _ = env.reset(seed=1)
        >>> int(env.adjacency.sum()), env.descendants(3)
        (10, (4,))
    """

    Config = ColorChangingConfig
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import gymnasium.spaces as spaces  # noqa: PLC0415
        from etude_scm import create_categorical_mlp_scm  # noqa: PLC0415

        from .rendering import palette  # noqa: PLC0415

        c = self.config
        n, k = c.num_objects, c.num_colors
        gen = torch.Generator().manual_seed(int(c.scm_seed))
        self.scm = create_categorical_mlp_scm(c.graph, gen, num_categories=k, deterministic=c.deterministic,
                                              num_nodes=n)
        if len(self.scm.nodes) != n:
            raise ValueError(f"chemistry: graph {c.graph!r} has {len(self.scm.nodes)} nodes but num_objects = {n}; "
                             f"use a graph on {n} nodes (e.g. 'chain{n}') or set num_objects")
        self.nodes = self.scm.nodes
        self.adjacency = self.scm.graph.adjacency().numpy().astype(np.int64)
        self._desc = tuple(tuple(self.nodes.index(v) for v in self.scm.descendants(u)) for u in self.nodes)
        self.colour_table = palette(k)
        self.render_mode = c.render_mode
        self.action_space = spaces.Discrete(n * k)
        side = GRID * c.cell_size
        if c.observation == "pixels":
            img = spaces.Box(0.0, 1.0, (3, side, side), np.float32)
            self.observation_space = spaces.Dict({"image": img, "target": img})
        else:
            states = spaces.MultiDiscrete(np.full(n, k, dtype=np.int64))
            self.observation_space = spaces.Dict({"state": states, "target": states})
        self.positions = np.asarray(STATIC_POSITIONS[:n], dtype=np.int64)
        self.colours = np.zeros(n, dtype=np.int64)
        self.target = np.zeros(n, dtype=np.int64)
        self.target_actions: list[int] = []
        self._generator = torch.Generator()
        self._steps = 0

    # -- graph queries --------------------------------------------------------------
    def descendants(self, index: int) -> tuple[int, ...]:
        """Objects reachable from object ``index`` in the causal graph (it excluded)."""
        if not 0 <= int(index) < self.config.num_objects:
            raise ValueError(f"object index must be in [0, {self.config.num_objects - 1}], got {index!r}")
        return self._desc[int(index)]

    def _values(self, colours: np.ndarray) -> dict[str, torch.Tensor]:
        return {v: torch.tensor([int(colours[i])]) for i, v in enumerate(self.nodes)}

    def _apply(self, colours: np.ndarray, obj: int, colour: int) -> np.ndarray:
        new = self.scm.update(self._values(colours), {self.nodes[obj]: colour}, generator=self._generator)
        return np.asarray([int(new[v][0]) for v in self.nodes], dtype=np.int64)

    def intervene(self, obj: int, colour: int) -> np.ndarray:
        """Apply ``do(object = colour)`` to the current colours (descendants redrawn); returns the new colours."""
        c = self.config
        if not (0 <= int(obj) < c.num_objects and 0 <= int(colour) < c.num_colors):
            raise ValueError(f"intervene(object, colour): object in [0, {c.num_objects - 1}] and colour in "
                             f"[0, {c.num_colors - 1}], got ({obj!r}, {colour!r})")
        self.colours = self._apply(self.colours, int(obj), int(colour))
        return self.colours.copy()

    # -- gymnasium API ------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        c = self.config
        rng = self.np_random
        self._generator = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
        if c.movement == "dynamic":
            cells = rng.permutation(GRID * GRID)[: c.num_objects]
            self.positions = np.stack([cells // GRID, cells % GRID], axis=1).astype(np.int64)
        root = int(rng.integers(c.num_colors))
        with torch.no_grad():
            start = self.scm.do({self.nodes[0]: root}).sample(1, generator=self._generator)
        self.colours = np.asarray([int(start[v][0]) for v in self.nodes], dtype=np.int64)
        target = self.colours.copy()
        self.target_actions = []
        for _ in range(c.num_target_interventions):
            obj, colour = int(rng.integers(c.num_objects)), int(rng.integers(c.num_colors))
            self.target_actions.append(obj * c.num_colors + colour)
            target = self._apply(target, obj, colour)
        self.target = target
        self._steps = 0
        return self._observation(), self._info()

    def step(self, action):
        c = self.config
        if not self.action_space.contains(action):
            raise ValueError(f"chemistry: action must be an integer in [0, {self.action_space.n - 1}] "
                             f"(object * {c.num_colors} + colour), got {action!r}")
        obj, colour = divmod(int(action), c.num_colors)
        self.intervene(obj, colour)
        self._steps += 1
        reward = float(np.mean(self.colours == self.target))
        return self._observation(), reward, False, self._steps >= c.max_steps, self._info()

    def _info(self) -> dict[str, Any]:
        return {"target_actions": list(self.target_actions), "matches": int((self.colours == self.target).sum())}

    def images(self, colours: np.ndarray) -> np.ndarray:
        """The RGB image ``(3, 5 cell, 5 cell)`` of a colour vector at the current positions."""
        from .rendering import render  # noqa: PLC0415

        rgb = self.colour_table[torch.as_tensor(colours).long()].unsqueeze(0)
        pos = torch.as_tensor(self.positions).unsqueeze(0)
        shapes = torch.arange(self.config.num_objects)
        return render(pos, rgb, shapes, cell=self.config.cell_size)[0].numpy()

    def _observation(self) -> dict[str, np.ndarray]:
        if self.config.observation == "pixels":
            return {"image": self.images(self.colours), "target": self.images(self.target)}
        return {"state": self.colours.copy(), "target": self.target.copy()}

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        return (self.images(self.colours).transpose(1, 2, 0) * 255).round().astype(np.uint8)
