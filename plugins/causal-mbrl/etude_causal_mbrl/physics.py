"""``environment/physics`` (``WeightedBlockPushing``): push blocks whose weights order who can push whom.

N objects on a 5 x 5 grid, each with a distinct weight. Action
``a = object * 5 + direction`` (stay, up, right, down, left, as the reference's
``[(0, 0), (-1, 0), (0, 1), (1, 0), (0, -1)]`` in (row, column)). A move into a
free cell moves the object; into an occupied cell it pushes the occupant one
cell further only if the mover is heavier and the cell behind is free and on
the grid (two objects in a row cannot be pushed); every other move is invalid
and leaves the state unchanged. The causal graph is "heavier can push
lighter": the full DAG over objects sorted by weight, an
:class:`etude_scm.CausalGraph` in ``adjacency``. The goal is the state after
10 random actions; the reward is dense, minus the mean Manhattan distance to
the goal positions; never terminated, truncated after ``max_steps``.

Variants (the reference's ``WShapesRL-{variant}-{mode}-{N}-{cmap}-v0``):
``observed`` (weight readable from colour: a sequential colour map, Blues /
Reds / Greens, darker = heavier; object 0 is the heaviest; modes ``train``,
``test-v1..3`` widen the colour jitter, ``zeroshot`` draws new colour
positions, ``zeroshotshape`` new shapes), ``unobserved`` (categorical
palettes, Sets = Set1 / Set3 or Pastels = Pastel1 / Pastel2, weight = the
palette index, so colour does not reveal the order without learning it;
``fewshot-vK`` adds K colours of the second palette) and ``fixedunobserved``
(shape i for object i). Colours and shapes are redrawn at each reset, as in
the reference; positions are random and distinct. All randomness goes
through ``self.np_random`` (reset(seed=...)); pushing is vectorised over a
batch of states (:func:`push`) so the transition emitter shares it.

References:
    N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual Model
    Based Reinforcement Learning". NeurIPS 2021 Datasets and Benchmarks.
    arXiv:2107.00848 (Sec. 3.2, the physics environment).

Example:
    >>> env = WeightedBlockPushing(num_objects=3, observation="state")
    >>> obs, _ = env.reset(seed=0)
    >>> obs["state"].shape, env.action_space.n
    ((3, 2), 15)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import FieldValueError, configclass, field, one_of

from etude.kinds import Environment

from ._common import GRID, int_range, lower

__all__ = ["DIRECTIONS", "WeightedBlockPushing", "WeightedBlockPushingConfig", "push"]

#: (row, column) offsets of stay, up, right, down, left.
DIRECTIONS = np.asarray([(0, 0), (-1, 0), (0, 1), (1, 0), (0, -1)], dtype=np.int64)
_MODES = ("train", "test-v1", "test-v2", "test-v3", "zeroshot", "zeroshotshape", "fewshot-v1", "fewshot-v2",
          "fewshot-v3")
_JITTER = {"train": 8.0, "test-v1": 4.0, "test-v2": 3.0, "test-v3": 2.0}
_EPS = 1e-17


def push(positions: np.ndarray, weights: np.ndarray, objects: np.ndarray, directions: np.ndarray,
         grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """One step of weighted block pushing for a batch: ``(new positions (B, N, 2), valid (B,))``.

    ``positions`` (B, N, 2), ``weights`` (B, N) or (N,), ``objects`` and
    ``directions`` (B,) ints. Vectorised over the batch; no Python loop over states.
    """
    pos = np.asarray(positions, dtype=np.int64)
    b, n, _ = pos.shape
    w = np.broadcast_to(np.asarray(weights), (b, n))
    objects, directions = np.asarray(objects, dtype=np.int64), np.asarray(directions, dtype=np.int64)
    rows = np.arange(b)
    d = DIRECTIONS[directions]  # (B, 2)
    cur = pos[rows, objects]
    dest = cur + d
    on_grid = ((dest >= 0) & (dest < grid)).all(-1)
    occ = (pos == dest[:, None, :]).all(-1)  # (B, N) who sits in the destination
    occ[rows, objects] = False
    has_occ = occ.any(-1)
    other = occ.argmax(-1)
    behind = dest + d
    behind_on = ((behind >= 0) & (behind < grid)).all(-1)
    behind_free = ~(pos == behind[:, None, :]).all(-1).any(-1)
    heavier = w[rows, objects] > w[rows, other]
    moving = directions != 0
    free_move = moving & on_grid & ~has_occ
    push_move = moving & on_grid & has_occ & heavier & behind_on & behind_free
    new = pos.copy()
    ok = free_move | push_move
    new[rows[ok], objects[ok]] = dest[ok]
    new[rows[push_move], other[push_move]] = behind[push_move]
    return new, ok | ~moving


def _lower_mode(value: Any) -> Any:
    return lower(value)


@configclass
class WeightedBlockPushingConfig:
    num_objects: int = field(default=5, validator=int_range(2, 10), doc="objects N (2 to 10)")
    variant: str = field(default="observed", converter=lower,
                         validator=one_of("observed", "unobserved", "fixedunobserved"),
                         doc="'observed' (colour shows weight), 'unobserved' or 'fixedunobserved' (fixed shapes)")
    mode: str = field(default="train", converter=_lower_mode, validator=one_of(*_MODES),
                      doc="train, test-v1..3, zeroshot, zeroshotshape (observed) or fewshot-v1..3 (unobserved)")
    cmap: str = field(default="blues", converter=lower, validator=one_of("blues", "reds", "greens", "sets", "pastels"),
                      doc="blues / reds / greens (observed) or sets / pastels (unobserved)")
    observation: str = field(default="pixels", converter=lower, validator=one_of("pixels", "state"),
                             doc="'pixels' ({'image', 'target'}) or 'state' ({'state', 'target'} cells (N, 2))")
    cell_size: int = field(default=10, validator=int_range(1, 64), doc="pixels per cell (10: 50 x 50 images)")
    max_steps: int = field(default=50, validator=int_range(1, 100_000), doc="steps before truncation")
    num_target_steps: int = field(default=10, validator=int_range(0, 10_000), doc="random actions that make the goal")
    scm_seed: int = field(default=0, doc="seed of the few-shot colours (the only environment-level randomness)")

    def __attrs_post_init__(self) -> None:
        observed = self.variant == "observed"
        if observed and self.cmap not in ("blues", "reds", "greens"):
            raise FieldValueError("cmap", self.cmap, "one of 'blues', 'reds', 'greens' for variant 'observed'")
        if not observed and self.cmap not in ("sets", "pastels"):
            raise FieldValueError("cmap", self.cmap, f"one of 'sets', 'pastels' for variant {self.variant!r}")
        if observed and self.mode.startswith("fewshot"):
            raise FieldValueError("mode", self.mode, "train, test-v1..3, zeroshot or zeroshotshape for 'observed'")
        if not observed and self.mode not in ("train", "zeroshotshape") and not self.mode.startswith("fewshot"):
            raise FieldValueError("mode", self.mode, f"train, zeroshotshape or fewshot-v1..3 for {self.variant!r}")


class WeightedBlockPushing(Environment):
    """The physics environment: heavier blocks push lighter ones (see the module docstring).

    ``env.unwrapped`` has ``weights`` (N,), ``graph`` / ``adjacency``
    (``A[i, j] = 1`` iff object j is heavier than object i, so j can push i),
    ``descendants(i)`` (the objects i can push), ``intervene(object, direction)``.

    Example:
        >>> env = WeightedBlockPushing(num_objects=3, observation="state")
        >>> _ = env.reset(seed=0)
        >>> env.adjacency.tolist()
        [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    """

    Config = WeightedBlockPushingConfig
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import gymnasium.spaces as spaces  # noqa: PLC0415
        from etude_scm import CausalGraph  # noqa: PLC0415

        c = self.config
        n = c.num_objects
        self.weights = np.arange(n, 0, -1, dtype=np.int64)  # object 0 heaviest (the reference's weights)
        order = np.argsort(-self.weights, kind="stable")
        names = tuple(f"X{i}" for i in range(n))
        self.graph = CausalGraph(names, [(names[order[a]], names[order[b]]) for b in range(n) for a in range(b)])
        self.adjacency = self.graph.adjacency().numpy().astype(np.int64)
        self.render_mode = None
        self.new_colours = None
        if c.mode.startswith("fewshot"):
            k = int(c.mode[-1])
            self.new_colours = np.random.default_rng(c.scm_seed).choice(12 if c.cmap == "sets" else 8, k, replace=False)
        self.action_space = spaces.Discrete(5 * n)
        side = GRID * c.cell_size
        if c.observation == "pixels":
            img = spaces.Box(0.0, 1.0, (3, side, side), np.float32)
            self.observation_space = spaces.Dict({"image": img, "target": img})
        else:
            cells = spaces.MultiDiscrete(np.full((n, 2), GRID, dtype=np.int64))
            self.observation_space = spaces.Dict({"state": cells, "target": cells})
        self.positions = np.zeros((n, 2), dtype=np.int64)
        self.target = np.zeros((n, 2), dtype=np.int64)
        self.rgb = np.zeros((n, 3), dtype=np.float32)
        self.shapes = np.arange(n)
        self._steps = 0

    def descendants(self, index: int) -> tuple[int, ...]:
        """Objects that object ``index`` can push (the lighter ones)."""
        return tuple(self.graph.index(v) for v in self.graph.descendants(self.graph.nodes[int(index)]))

    # -- colours and shapes, the reference's schemes through np_random ------------------------------
    def _colours(self, rng: np.random.Generator) -> np.ndarray:
        import matplotlib  # noqa: PLC0415

        c, n = self.config, self.config.num_objects
        if c.variant == "observed":
            cm = matplotlib.colormaps[c.cmap.capitalize()]
            if c.mode == "zeroshot":
                x = np.sort(rng.uniform(0.0, 1.0, size=n))
            else:
                diff = 1.0 / (n - 1) / _JITTER.get(c.mode, 8.0)
                jitter = rng.uniform(-diff + _EPS, diff - _EPS, size=n)
                jitter[0], jitter[-1] = abs(jitter[0]), -abs(jitter[-1])
                x = np.arange(n) / (n - 1) + jitter
            return np.asarray([cm(x[n - 1 - i])[:3] for i in range(n)], dtype=np.float32)
        first, second = ("Set1", "Set3") if c.cmap == "sets" else ("Pastel1", "Pastel2")
        len1, len2 = (9, 12) if c.cmap == "sets" else (9, 8)
        cm1, cm2 = matplotlib.colormaps[first], matplotlib.colormaps[second]
        extra = 0 if self.new_colours is None else len(self.new_colours)
        picks = np.sort(rng.choice(len1 + extra, n, replace=False))
        cols, weights = [], []
        for p in picks:
            if p < len1:
                cols.append(cm1(p / len1)[:3])
                weights.append(float(p))
            else:
                q = self.new_colours[p - len1]
                cols.append(cm2(q / len2)[:3])
                weights.append(q + 0.5)
        self._palette_weights = np.asarray(weights)
        return np.asarray(cols, dtype=np.float32)

    def _shapes(self, rng: np.random.Generator) -> np.ndarray:
        c, n = self.config, self.config.num_objects
        if c.variant == "fixedunobserved":
            return np.arange(n)
        return rng.choice(6 if c.mode == "zeroshotshape" else 3, n)

    # -- dynamics -------------------------------------------------------------------------------------
    def _push(self, positions: np.ndarray, action: int) -> np.ndarray:
        obj, direction = divmod(int(action), 5)
        new, _ = push(positions[None], self.weights, np.asarray([obj]), np.asarray([direction]))
        return new[0]

    def intervene(self, obj: int, direction: int) -> np.ndarray:
        """Move object ``obj`` in ``direction`` (0 stay, 1 up, 2 right, 3 down, 4 left); returns the positions."""
        n = self.config.num_objects
        if not (0 <= int(obj) < n and 0 <= int(direction) < 5):
            raise ValueError(f"intervene(object, direction): object in [0, {n - 1}], direction in [0, 4], "
                             f"got ({obj!r}, {direction!r})")
        self.positions = self._push(self.positions, int(obj) * 5 + int(direction))
        return self.positions.copy()

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        c, rng = self.config, self.np_random
        self.shapes = self._shapes(rng)
        self.rgb = self._colours(rng)
        if c.variant != "observed":  # the weight is the palette index: heavier = later palette colour
            self.weights = np.argsort(np.argsort(self._palette_weights)).astype(np.int64) + 1
            order = np.argsort(-self.weights, kind="stable")
            from etude_scm import CausalGraph  # noqa: PLC0415

            names = self.graph.nodes
            self.graph = CausalGraph(names, [(names[order[a]], names[order[b]])
                                             for b in range(c.num_objects) for a in range(b)])
            self.adjacency = self.graph.adjacency().numpy().astype(np.int64)
        cells = rng.permutation(GRID * GRID)[: c.num_objects]
        self.positions = np.stack([cells // GRID, cells % GRID], axis=1).astype(np.int64)
        target = self.positions.copy()
        for _ in range(c.num_target_steps):
            target = self._push(target, int(rng.integers(5 * c.num_objects)))
        self.target = target
        self._steps = 0
        return self._observation(), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"physics: action must be an integer in [0, {self.action_space.n - 1}] "
                             f"(object * 5 + direction), got {action!r}")
        before = self.positions
        self.positions = self._push(self.positions, int(action))
        self._steps += 1
        reward = -float(np.abs(self.positions - self.target).sum(-1).mean())
        moved = bool((before != self.positions).any()) or int(action) % 5 == 0
        return self._observation(), reward, False, self._steps >= self.config.max_steps, {"valid": moved}

    def images(self, positions: np.ndarray) -> np.ndarray:
        from .rendering import render  # noqa: PLC0415

        return render(torch.as_tensor(positions)[None], torch.as_tensor(self.rgb)[None],
                      torch.as_tensor(self.shapes), cell=self.config.cell_size)[0].numpy()

    def _observation(self) -> dict[str, np.ndarray]:
        if self.config.observation == "pixels":
            return {"image": self.images(self.positions), "target": self.images(self.target)}
        return {"state": self.positions.copy(), "target": self.target.copy()}
