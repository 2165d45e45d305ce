"""The harder task variants of Kerg et al.: test on relations never seen in training, not only on new objects.

Each variant trains on some relational patterns and tests on others (the
official repository's ``cognitive_tests/tasks/``; its ``get_sample`` draws
training batches, ``get_test_sample`` the test ones, on held-out objects):

* ``rmts3-hard`` (``RMTS3_hard.py``, N = 9, 2 classes): a source triple and two
  choice triples; the label is the position (0 / 1) of the choice triple with
  the source's pattern. Training patterns AAA, ABA, ABB (six source / match /
  distractor combinations, equally often); test patterns AAB (distractor ABC)
  and ABC (distractor AAB), never seen in training.
* ``dist10-hard7`` (``dist10_hard7.py``, N = 30, 11 classes): ten objects, nine
  of a permutation of them, eleven choices (the ten and a distractor); the label
  is where the missing one is. Training permutations never start with a
  permutation of the first seven objects; test permutations always do (so the
  answer is one of objects 8-10), a split of the permutations, not the objects.
* ``identity-rules4`` / ``identity-rules4-flipped`` (``identity_rules4_.py`` /
  ``identity_rules4_flipped.py``, N = 13, 6 classes): a source quadruple following
  a code (``abca``, ``aabb``, ...), three objects of a target quadruple, six
  choices (all six objects drawn); the label is where the object completing the
  target is. ``identity-rules4`` trains on the seven codes aaaa, abaa, aaba,
  baaa, abba, abab, aabb and tests on abca, baca, bcaa; ``-flipped`` the reverse.

Every generator here samples by index tensors (no loop over examples; the
repository loops in numpy) and balances the patterns exactly within a split.

References:
    G. Kerg, S. Mittal, D. Rolnick, Y. Bengio, B. Richards, G. Lajoie, "On Neural
    Architecture Inductive Biases for Relational Tasks", preprint 2022, arXiv:2206.05056.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor


class Variant(NamedTuple):
    """A harder variant: its base task, slots N, classes, context-norm segments and per-split generators."""

    task: str
    num_slots: int
    num_classes: int
    segments: tuple[tuple[int, ...], ...]
    distinct: int  # distinct objects one example needs (train or test patterns)
    train: Callable[[Tensor, int, torch.Generator], tuple[Tensor, Tensor, Tensor]]
    test: Callable[[Tensor, int, torch.Generator], tuple[Tensor, Tensor, Tensor]]


def _draw(pool: Tensor, n: int, k: int, g: torch.Generator) -> Tensor:
    from .tasks import distinct  # noqa: PLC0415

    return distinct(pool, n, k, g)


def _balanced(n: int, k: int, g: torch.Generator) -> Tensor:
    """(n,) pattern ids 0..k-1, each exactly n // k or n // k + 1 times, in a random order."""
    return (torch.arange(n) % k)[torch.randperm(n, generator=g)]


def _shuffle_rows(x: Tensor, g: torch.Generator) -> Tensor:
    return torch.gather(x, 1, torch.rand(x.shape, generator=g).argsort(dim=1))


# -- RMTS3_hard ------------------------------------------------------------------------
#: (source, match, distractor) slot templates over the distinct objects of one example.
RMTS3_TRAIN = torch.tensor([[[0, 0, 0], [1, 1, 1], [2, 3, 2]],   # AAA; distractor ABA
                            [[0, 0, 0], [1, 1, 1], [3, 2, 2]],   # AAA; distractor ABB
                            [[0, 1, 0], [2, 3, 2], [4, 4, 4]],   # ABA; distractor AAA
                            [[0, 1, 1], [2, 3, 3], [4, 4, 4]],   # ABB; distractor AAA
                            [[0, 1, 0], [2, 3, 2], [4, 5, 5]],   # ABA; distractor ABB
                            [[0, 1, 1], [2, 3, 3], [4, 5, 4]]])  # ABB; distractor ABA
RMTS3_TEST = torch.tensor([[[0, 0, 1], [2, 2, 3], [4, 5, 6]],    # AAB; distractor ABC
                           [[0, 1, 2], [5, 6, 7], [3, 3, 4]]])   # ABC; distractor AAB


def _rmts3(templates: Tensor, k: int) -> Callable:
    def sample(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        obj = _draw(pool, n, k, g)
        rule = _balanced(n, templates.shape[0], g)
        y = torch.randint(0, 2, (n,), generator=g)
        src, match, other = templates[rule].unbind(1)  # (n, 3) each
        first = torch.where(y[:, None] == 0, match, other)
        second = torch.where(y[:, None] == 0, other, match)
        slots = torch.cat([src, first, second], dim=1)
        return torch.gather(obj, 1, slots), y, rule
    return sample


# -- dist10_hard7 ----------------------------------------------------------------------
DIST_N, DIST_CUTOFF = 10, 7


def _dist10_permutations(n: int, g: torch.Generator, *, test: bool) -> Tensor:
    if test:  # a permutation of the first 7, then one of the last 3
        head = torch.rand(n, DIST_CUTOFF, generator=g).argsort(1)
        tail = torch.rand(n, DIST_N - DIST_CUTOFF, generator=g).argsort(1) + DIST_CUTOFF
        return torch.cat([head, tail], 1)
    perm = torch.rand(n, DIST_N, generator=g).argsort(1)
    while True:  # redraw the rows whose first 7 are a permutation of 0..6 (1 in 120)
        bad = perm[:, :DIST_CUTOFF].max(1).values < DIST_CUTOFF
        if not bool(bad.any()):
            return perm
        perm[bad] = torch.rand(int(bad.sum()), DIST_N, generator=g).argsort(1)


def _dist10(test: bool) -> Callable:
    def sample(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        obj = _draw(pool, n, DIST_N + 1, g)  # ten objects and a distractor
        start = obj[:, :DIST_N]
        permuted = torch.gather(start, 1, _dist10_permutations(n, g, test=test))
        choices = _shuffle_rows(obj, g)
        y = (choices == permuted[:, -1:]).int().argmax(1).long()
        return torch.cat([start, permuted[:, :-1], choices], 1), y, torch.zeros(n, dtype=torch.long)
    return sample


# -- identity_rules4 -------------------------------------------------------------------
IR4_CODES = ("aaaa", "abaa", "aaba", "baaa", "abba", "abab", "aabb", "abca", "baca", "bcaa")
IR4_SEVEN, IR4_THREE = IR4_CODES[:7], IR4_CODES[7:]


def _code_slots(code: str) -> list[int]:
    """Slots (over the six objects) of source (4), shown target (3) and the answer (1) of one code."""
    letters = [ord(ch) - ord("a") for ch in code]
    shift = len(set(code))
    return letters + [i + shift for i in letters]


def _ir4(codes: tuple[str, ...]) -> Callable:
    table = torch.tensor([_code_slots(c) for c in codes])  # (codes, 8)

    def sample(pool: Tensor, n: int, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        obj = _draw(pool, n, 6, g)
        rule = _balanced(n, len(codes), g)
        slots = torch.gather(obj, 1, table[rule])
        choices = _shuffle_rows(obj, g)
        y = (choices == slots[:, 7:]).int().argmax(1).long()
        return torch.cat([slots[:, :7], choices], 1), y, rule
    return sample


VARIANTS: dict[str, Variant] = {
    "rmts3-hard": Variant("rmts", 9, 2, ((0, 1, 2), (3, 4, 5), (6, 7, 8)), 8,
                          _rmts3(RMTS3_TRAIN, 6), _rmts3(RMTS3_TEST, 8)),
    "dist10-hard7": Variant("distribution-of-3", 30, 11, (tuple(range(10)), tuple(range(10, 19)),
                                                          tuple(range(19, 30))), 11, _dist10(False), _dist10(True)),
    "identity-rules4": Variant("identity-rules", 13, 6, ((0, 1, 2, 3), (4, 5, 6), tuple(range(7, 13))), 6,
                               _ir4(IR4_SEVEN), _ir4(IR4_THREE)),
    "identity-rules4-flipped": Variant("identity-rules", 13, 6, ((0, 1, 2, 3), (4, 5, 6), tuple(range(7, 13))), 6,
                                       _ir4(IR4_THREE), _ir4(IR4_SEVEN)),
}

__all__ = ["IR4_CODES", "RMTS3_TEST", "RMTS3_TRAIN", "VARIANTS", "Variant"]
