"""The contextual retrieval task of Mittal et al. (2022), vectorised and seeded."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import torch
from torch import Tensor

from etude.config import configclass, field, in_range, positive
from etude.kinds import Split, Task

__all__ = ["ContextualRetrieval", "ContextualRetrievalConfig", "combination_split", "generate"]

# The fixed per-search coefficients c_s ~ U(-1, 1) of the official task (first v_s are used).
COEFFICIENTS = (
    -0.71347752, -0.6062312, 0.66062073, -0.61213017, -0.82631877, 0.75908621, -0.36274866, 0.84383333,
    -0.37908235, 0.46539368, 0.98675292, 0.20388434, -0.78718797, -0.74316581, 0.11539548, 0.35559215,
    0.32584524, 0.58590426, 0.95284985, -0.77999937, -0.660806, -0.35542737, 0.93532822, 0.75049373, -0.27825577,
)


def _at_least_two(instance: Any, attribute: Any, value: Any) -> None:
    from etude.config import FieldValueError  # noqa: PLC0415

    if not (isinstance(value, int) and value >= 2):
        raise FieldValueError(attribute.name, value, "an integer >= 2 (each element needs another to search)")


@configclass
class ContextualRetrievalConfig:
    seed: int = field(default=0, doc="seed of every split (each split has its own stream)")
    searches: int = field(default=2, validator=positive, doc="v_s: ground-truth search features")
    retrievals: int = field(default=2, validator=positive, doc="v_p: ground-truth retrieval features")
    length: int = field(default=10, validator=_at_least_two, doc="N: elements per sequence")
    coefficients: bool = field(default=True, doc="weight search s's retrieved value by c_s (official default) or by 1")
    train_size: int = field(default=2048, validator=positive, doc="sequences in the train split")
    test_size: int = field(default=1024, validator=positive, doc="sequences in the in-distribution test split")
    ood_size: int = field(default=1024, validator=positive, doc="sequences in the out-of-distribution split")
    ood_fraction: float = field(
        default=0.8, validator=in_range(0.0, 1.0, low_open=True, high_open=True),
        doc="fraction of retrieval combinations kept for training (the rest are OoD-only)",
    )

    def __attrs_post_init__(self) -> None:
        from etude.config import FieldValueError  # noqa: PLC0415

        if self.searches > len(COEFFICIENTS):
            raise FieldValueError("searches", self.searches, f"at most {len(COEFFICIENTS)}")
        if self.retrievals**self.searches < 2:
            raise FieldValueError("retrievals", self.retrievals, "such that retrievals**searches >= 2 (an OoD split needs 2 combinations)")


def combination_split(searches: int, retrievals: int, fraction: float = 0.8) -> tuple[Tensor, Tensor]:
    """Train and OoD sets of retrieval combinations (r_1, ..., r_vs), as (n, v_s) int64 tensors.

    As in the official generator: combinations in lexicographic order, even
    indices to train, odd to OoD, then OoD ones moved to train until train
    holds ``int(fraction * total)`` of them.
    """
    combos = list(itertools.product(range(retrievals), repeat=searches))
    train = [c for i, c in enumerate(combos) if i % 2 == 0]
    test = [c for i, c in enumerate(combos) if i % 2 == 1]
    target = int(len(combos) * fraction)
    if len(train) < target:
        moved = target - len(train)
        train, test = train + test[:moved], test[moved:]
    if not test:  # keep at least one unseen combination
        train, test = train[:-1], train[-1:]
    return torch.tensor(train, dtype=torch.long), torch.tensor(test, dtype=torch.long)


def generate(
    n: int, *, searches: int, retrievals: int, length: int, generator: torch.Generator,
    combinations: Tensor | None = None, coefficients: bool = True,
) -> dict[str, Tensor]:
    """Sample ``n`` sequences of the contextual retrieval task.

    Each element has ``searches`` search features and ``retrievals``
    retrieval features (N(0, 1)) and, per search s, a context index r_s(i).
    For search s, element i finds the nearest *other* element j on feature
    s and reads j's retrieval feature r_s(i); the target is
    ``sum_s c_s * x[j_s(i), v_s + r_s(i)]``. ``combinations`` (k, v_s)
    restricts each element's context tuple to those rows (the OoD split).

    Returns inputs (n, N, v_s + v_p + v_s v_p) (features, then the one-hot
    context), targets (n, N), neighbours (n, N, v_s) and contexts (n, N, v_s).
    """
    vs, vp = searches, retrievals
    data = torch.randn(n, length, vs + vp, generator=generator)
    if combinations is None:
        context = torch.randint(vp, (n, length, vs), generator=generator)
    else:
        pick = torch.randint(combinations.shape[0], (n, length), generator=generator)
        context = combinations[pick]
    keys = data[..., :vs]  # (n, N, v_s)
    dist = (keys.unsqueeze(2) - keys.unsqueeze(1)).abs()  # (n, N_i, N_j, v_s)
    eye = torch.eye(length, dtype=torch.bool).unsqueeze(-1)
    neighbours = dist.masked_fill(eye, float("inf")).argmin(dim=2)  # (n, N, v_s)
    values = data[..., vs:]  # (n, N, v_p)
    batch = torch.arange(n)[:, None, None]
    retrieved = values[batch, neighbours, context]  # (n, N, v_s)
    coeff = torch.tensor(COEFFICIENTS[:vs]) if coefficients else torch.ones(vs)
    targets = (retrieved * coeff).sum(-1)
    onehot = torch.nn.functional.one_hot(context, vp).float().reshape(n, length, vs * vp)
    return {
        "inputs": torch.cat([data, onehot], dim=-1),
        "targets": targets,
        "neighbours": neighbours,
        "contexts": context,
    }


class ContextualRetrieval(Task):
    """The contextual retrieval task (Mittal et al., 2022, Section 4.1), with an OoD split.

    A sequence of N elements, each with v_s search features, v_p retrieval
    features and a context that says, per search s, which retrieval feature
    r_s(i) to read. For each search s, element i finds its nearest other
    element on feature s and reads that element's feature r_s(i); the target
    is ``y_i = sum_s c_s x[nn_s(i), v_s + r_s(i)]`` with fixed c_s ~ U(-1, 1).
    Solving it needs every search paired with every retrieval, chosen per
    token. The "ood" split uses only context combinations (r_1, ..., r_vs)
    never seen in "train" (about 80/20 split of combinations); "test" is
    in-distribution. ``info`` holds the ground-truth neighbours and contexts.

    References:
        S. Mittal, S. C. Raparthy, I. Rish, Y. Bengio, G. Lajoie, "Compositional
        Attention: Disentangling Search and Retrieval", ICLR 2022, arXiv:2110.09419.

    Examples:
        >>> task = ContextualRetrieval(train_size=8, test_size=4, ood_size=4)
        >>> task.split("train").inputs.shape, task.split("ood").targets.shape
        (torch.Size([8, 10, 8]), torch.Size([4, 10]))
    """

    Config = ContextualRetrievalConfig
    split_names: ClassVar[tuple[str, ...]] = ("train", "test", "ood")

    def __init__(self, config: ContextualRetrievalConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.input_shape = (c.length, self.input_dim)
        self.train_combinations, self.ood_combinations = combination_split(c.searches, c.retrievals, c.ood_fraction)

    @property
    def input_dim(self) -> int:
        c = self.config
        return c.searches + c.retrievals + c.searches * c.retrievals

    def sample(self, n: int, generator: torch.Generator, *, split: str = "test") -> dict[str, Tensor]:
        """``n`` fresh sequences from ``split``'s distribution.

        "train" and "test" use the training combinations of contexts, "ood"
        the held-out ones, "any" every combination (the paper's
        in-distribution task without a held-out set).
        """
        c = self.config
        if split not in (*self.split_names, "any"):
            raise ValueError(f"split must be one of {(*self.split_names, 'any')}, got {split!r}")
        combos = {"train": self.train_combinations, "test": self.train_combinations, "ood": self.ood_combinations}.get(split)
        return generate(
            n, searches=c.searches, retrievals=c.retrievals, length=c.length, generator=generator,
            combinations=combos, coefficients=c.coefficients,
        )

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        sizes = {"train": c.train_size, "test": c.test_size, "ood": c.ood_size}
        splits = {}
        for offset, name in enumerate(self.split_names):
            g = torch.Generator().manual_seed(c.seed * 1000 + offset)
            data = self.sample(sizes[name], g, split=name)
            splits[name] = Split(
                data["inputs"], data["targets"], {"neighbours": data["neighbours"], "contexts": data["contexts"]}
            )
        return splits
