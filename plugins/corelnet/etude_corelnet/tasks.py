"""The relational psychophysics tasks of ESBN over an object bank, with objects held out of training.

An object bank holds ``num_objects`` objects: random Gaussian vectors in
R^object_dim, or 32 x 32 glyphs of Unicode characters rendered with
matplotlib's bundled DejaVu Sans (standing in for the repository's 100
character images; offline and deterministic). A seeded permutation picks
``holdout`` objects; ``train`` and ``test`` examples use only the other
``num_objects - holdout``, ``ood`` only the held-out ones (all objects when
``holdout`` is 0). Examples are drawn by index tensors (distinct objects per
example from ``argsort`` of uniform noise), labels uniform over the choices:

* same-different (N = 2): label 1 when the two objects are the same.
* rmts (N = 6): source pair, then two choice pairs; one choice pair has the
  source's relation (same / different): the label is its position (0 or 1).
* distribution-of-3 (N = 9): objects A B C, two of a permutation of them, four
  choices (A, B, C and a distractor, shuffled): the label is where the
  missing one is.
* identity-rules (N = 9): a source triple following ABA, ABB or AAA, two
  objects of a target triple, four choices: the label is where the object
  completing the rule is.

``info["objects"]`` holds the object id of every slot (n, N); the task's
``task_segments`` are the slot groups of task-segmented context norm.

``variant`` selects one of the paper's harder variants of a task
(:mod:`etude_corelnet.variants`: ``rmts3-hard`` of rmts, ``dist10-hard7`` of
distribution-of-3, ``identity-rules4`` and ``identity-rules4-flipped`` of
identity-rules). Their ``train`` and ``test`` splits use the training patterns
on the training objects; ``ood`` the test patterns on the held-out objects (all
objects when ``holdout`` is 0), as the repository tests them; ``novel-rules``
the test patterns on the training objects (new relations only).
``info["rule"]`` holds the pattern id of every example.

References:
    T. W. Webb, I. Sinha, J. D. Cohen, "Emergent Symbols through Binding in External
    Memory", ICLR 2021, arXiv:2012.14601 (the tasks);
    G. Kerg et al., arXiv:2206.05056, 2022 (the m = 95 setting, 100 objects).
"""

from __future__ import annotations

import functools
from typing import ClassVar

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.data.base import seed_field
from etude.kinds import Split, Task

from .variants import VARIANTS

#: 100 characters DejaVu Sans renders distinctly (Latin, digits, Greek, symbols).
GLYPHS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ" "abcdefghijkmnopqrstuvwxyz" "023456789"
          "ΓΔΘΛΞΠΣΦΨΩ" "αβγδεζηθλμξπσφψω" "&@#%$?+=*∞∑∫§¶")


@functools.lru_cache(maxsize=2)
def glyph_bank(size: int = 32) -> Tensor:
    """The 100 glyphs as float images (100, size, size) in [0, 1], rendered once per process (matplotlib Agg).

    Examples:
        >>> bank = glyph_bank()
        >>> bank.shape, float(bank.max()) <= 1.0
        (torch.Size([100, 32, 32]), True)
    """
    import matplotlib  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    if len(GLYPHS) != 100 or len(set(GLYPHS)) != 100:
        raise RuntimeError(f"GLYPHS must be 100 distinct characters, has {len(set(GLYPHS))}")
    cols = 10
    fig = Figure(figsize=(cols * size / 100, cols * size / 100), dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("black")
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "text.antialiased": True}):
        for i, ch in enumerate(GLYPHS):
            r, c = divmod(i, cols)
            fig.text((c + 0.5) / cols, 1 - (r + 0.5) / cols, ch, color="white", fontsize=size * 0.6,
                     ha="center", va="center", family="DejaVu Sans")
        fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., 0].astype(np.float32) / 255.0
    tiles = img.reshape(cols, size, cols, size).transpose(0, 2, 1, 3).reshape(cols * cols, size, size)
    return torch.from_numpy(np.ascontiguousarray(tiles))


def gaussian_bank(num_objects: int, dim: int, seed: int) -> Tensor:
    """``num_objects`` standard Gaussian vectors in R^dim from a generator seeded with ``seed``."""
    return torch.randn(num_objects, dim, generator=torch.Generator().manual_seed(int(seed) + 7919))


def distinct(pool: Tensor, n: int, k: int, generator: torch.Generator) -> Tensor:
    """(n, k) object ids, k distinct ones per row, drawn uniformly from ``pool`` (1-D ids), by index tensors."""
    if pool.numel() < k:
        raise FieldValueError("holdout", None, f"leaving at least {k} objects on each side (this task needs {k} "
                              f"distinct objects per example; the pool has {pool.numel()})")
    order = torch.rand(n, pool.numel(), generator=generator).argsort(dim=1)[:, :k]
    return pool[order]


def _shuffle(choices: Tensor, generator: torch.Generator) -> Tensor:
    order = torch.rand(choices.shape, generator=generator).argsort(dim=1)
    return torch.gather(choices, 1, order)


def _position(choices: Tensor, answer: Tensor) -> Tensor:
    return (choices == answer[:, None]).int().argmax(dim=1).long()


def same_different(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    obj = distinct(pool, n, 2, g)
    y = torch.randint(0, 2, (n,), generator=g)
    second = torch.where(y == 1, obj[:, 0], obj[:, 1])
    return torch.stack([obj[:, 0], second], 1), y


def rmts(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    a, b, c, d, e = distinct(pool, n, 5, g).unbind(1)
    same_source = torch.randint(0, 2, (n,), generator=g).bool()
    y = torch.randint(0, 2, (n,), generator=g)
    source = torch.stack([a, torch.where(same_source, a, b)], 1)
    match = torch.where(same_source[:, None], torch.stack([b, b], 1), torch.stack([c, d], 1))
    other = torch.where(same_source[:, None], torch.stack([c, d], 1), torch.stack([e, e], 1))
    first = torch.where(y[:, None] == 0, match, other)
    second = torch.where(y[:, None] == 0, other, match)
    return torch.cat([source, first, second], 1), y


def distribution_of_3(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    obj = distinct(pool, n, 4, g)
    start = obj[:, :3]
    perm = _shuffle(start, g)
    choices = _shuffle(obj, g)
    return torch.cat([start, perm[:, :2], choices], 1), _position(choices, perm[:, 2])


#: per rule (ABA, ABB, AAA): slots of the source triple, of the two shown target objects, and the answer.
_RULES = torch.tensor([[0, 1, 0, 2, 3, 2], [0, 1, 1, 2, 3, 3], [0, 0, 0, 1, 1, 1]])


def identity_rules(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor]:
    obj = distinct(pool, n, 4, g)
    rule = torch.randint(0, 3, (n,), generator=g)
    slots = torch.gather(obj, 1, _RULES[rule])
    choices = _shuffle(obj, g)
    return torch.cat([slots[:, :5], choices], 1), _position(choices, slots[:, 5])


_GENERATORS = {"same-different": (same_different, 2, 2, ((0, 1),)),
               "rmts": (rmts, 6, 2, ((0, 1), (2, 3), (4, 5))),
               "distribution-of-3": (distribution_of_3, 9, 4, ((0, 1, 2), (3, 4), (5, 6, 7, 8))),
               "identity-rules": (identity_rules, 9, 4, ((0, 1, 2), (3, 4), (5, 6, 7, 8)))}
_DISTINCT = {"same-different": 2, "rmts": 5, "distribution-of-3": 4, "identity-rules": 4}


@configclass
class RelationalTaskConfig:
    seed: int = seed_field()
    object_bank: str = field(default="gaussian", validator=one_of("gaussian", "glyphs"),
                             doc="'gaussian' vectors in R^object_dim or 'glyphs' (32 x 32 rendered characters)")
    num_objects: int = field(default=100, validator=positive, doc="objects in the bank (glyphs: exactly 100)")
    holdout: int = field(default=95, doc="objects m withheld from train / test, the only ones in ood")
    object_dim: int = field(default=32, validator=positive, doc="dimension of the Gaussian objects")
    num_train: int = field(default=6400, validator=positive, doc="training examples")
    num_test: int = field(default=1000, validator=positive, doc="in-distribution test examples (training objects)")
    num_ood: int = field(default=2000, validator=positive, doc="out-of-distribution examples (held-out objects)")
    variant: str = field(default="standard", doc="'standard' or a harder variant of this task: 'rmts3-hard' (rmts), "
                         "'dist10-hard7' (distribution-of-3), 'identity-rules4' / 'identity-rules4-flipped' (identity-rules)")

    def __attrs_post_init__(self) -> None:
        if self.object_bank == "glyphs" and self.num_objects != 100:
            raise FieldValueError("num_objects", self.num_objects, "100 with object_bank='glyphs' (the bank has 100 glyphs)")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int) or not 0 <= self.holdout < self.num_objects:
            raise FieldValueError("holdout", self.holdout, f"an integer in [0, num_objects={self.num_objects})")


class RelationalTask(Task):
    """Base of the four ESBN tasks: object bank, held-out split of objects, index-tensor sampling."""

    Config = RelationalTaskConfig
    split_names: ClassVar[tuple[str, ...]] = ("train", "test", "ood")
    name: ClassVar[str] = ""

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self._sample, self.num_slots, self.num_classes, self.task_segments = _GENERATORS[self.name]
        need = _DISTINCT[self.name]
        self.variant = None
        if c.variant != "standard":
            mine = sorted(k for k, v in VARIANTS.items() if v.task == self.name)
            if c.variant not in mine:
                raise FieldValueError("variant", c.variant, f"one of {['standard', *mine]} for task {self.name!r}")
            self.variant = VARIANTS[c.variant]
            self.num_slots, self.num_classes = self.variant.num_slots, self.variant.num_classes
            self.task_segments, need = self.variant.segments, self.variant.distinct
            self.split_names = ("train", "test", "ood", "novel-rules")
        if c.num_objects - c.holdout < need or (c.holdout and c.holdout < need):
            raise FieldValueError("holdout", c.holdout, f"leaving >= {need} training and >= {need} held-out objects "
                                  f"({c.variant if self.variant else self.name} uses up to {need} distinct objects "
                                  "per example)")
        self.input_shape = (self.num_slots, c.object_dim) if c.object_bank == "gaussian" else (self.num_slots, 32, 32)
        perm = torch.randperm(c.num_objects, generator=torch.Generator().manual_seed(int(c.seed)))
        self.train_objects = perm[: c.num_objects - c.holdout].sort().values
        self.heldout_objects = perm[c.num_objects - c.holdout:].sort().values

    def bank(self) -> Tensor:
        """The objects (num_objects, object_dim) or (100, 32, 32)."""
        c = self.config
        return gaussian_bank(c.num_objects, c.object_dim, c.seed) if c.object_bank == "gaussian" else glyph_bank()

    def sample(self, pool: Tensor, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """(ids (n, N), labels (n,)) from the object ids in ``pool``."""
        return self._sample(pool, n, generator)

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        bank = self.bank()
        ood_pool = self.heldout_objects if c.holdout else self.train_objects
        out = {}
        if self.variant is not None:
            v = self.variant
            for i, (name, pool, n, fn) in enumerate((("train", self.train_objects, c.num_train, v.train),
                                                      ("test", self.train_objects, c.num_test, v.train),
                                                      ("ood", ood_pool, c.num_ood, v.test),
                                                      ("novel-rules", self.train_objects, c.num_test, v.test))):
                g = torch.Generator().manual_seed(int(c.seed) * 4 + i + 100_003)
                ids, y, rule = fn(pool, n, g)
                out[name] = Split(bank[ids], y.long(), {"objects": ids, "rule": rule})
            return out
        for i, (name, pool, n) in enumerate((("train", self.train_objects, c.num_train),
                                              ("test", self.train_objects, c.num_test),
                                              ("ood", ood_pool, c.num_ood))):
            g = torch.Generator().manual_seed(int(c.seed) * 3 + i + 1)
            ids, y = self.sample(pool, n, g)
            out[name] = Split(bank[ids], y.long(), {"objects": ids})
        return out


def _task(slug: str, title: str, doc: str) -> type[RelationalTask]:
    cls = type(title, (RelationalTask,), {"name": slug, "__doc__": doc, "__module__": __name__})
    return cls


SameDifferent = _task("same-different", "SameDifferent", """Same/different (ESBN): two objects, label 1 when identical.

    Examples:
        >>> task = SameDifferent(num_train=8, num_test=4, num_ood=4)
        >>> task.split("train").inputs.shape, task.num_classes
        (torch.Size([8, 2, 32]), 2)
    """)
RMTS = _task("rmts", "RMTS", """Relational match-to-sample (ESBN): which of two pairs has the source pair's relation.

    Examples:
        >>> task = RMTS(num_train=8, num_test=4, num_ood=4)
        >>> task.split("ood").inputs.shape, task.split("ood").info["objects"].shape
        (torch.Size([4, 6, 32]), torch.Size([4, 6]))
    """)
DistributionOf3 = _task("distribution-of-3", "DistributionOf3", """Distribution-of-3 (ESBN): complete a permutation of three objects.

    Examples:
        >>> DistributionOf3(num_train=8, num_test=4, num_ood=4).num_classes
        4
    """)
IdentityRules = _task("identity-rules", "IdentityRules", """Identity rules (ESBN): complete a triple following ABA, ABB or AAA.

    Examples:
        >>> IdentityRules(num_train=8, num_test=4, num_ood=4).split("train").inputs.shape
        torch.Size([8, 9, 32])
    """)

__all__ = ["GLYPHS", "RMTS", "DistributionOf3", "IdentityRules", "RelationalTask", "RelationalTaskConfig",
           "SameDifferent", "distinct", "gaussian_bank", "glyph_bank"]
