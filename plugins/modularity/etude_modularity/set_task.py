"""Rule-based search-and-retrieve regression over sets (the MHA tasks of Mittal et al. 2022, official ``MHA/*/data.py``).

Each example is a set of T elements; element i carries, for every rule r,
search features and retrieval features, and a rule r_i (one-hot op, uniform
over R rules or with probabilities ``prior``). Its target is computed from
two *other* elements found by searching:

- ``search_version=1``: features ``x[4r .. 4r + 3]`` ~ N(0, 1);
  ``j1 = argmin_{j != i} |x_i[4r] - x_j[4r]|``,
  ``j2 = argmin_{j != i} |x_i[4r+1] - x_j[4r+1]|``, values
  ``u = x_{j1}[4r+2]``, ``v = x_{j2}[4r+3]``;
- ``search_version=2``: per rule two unit 2-vectors and two values
  (6 features); ``j1 = argmax_{j != i} <q1_i, q1_j>`` (likewise j2), values
  the retrieved elements' two value features.

``data_v2`` (default): ``y_i = alpha_r u + beta_r v`` with alpha, beta ~
N(0, 1) drawn from the task's ``seed`` alone (the same coefficients as
``task/rule-regression`` of that seed); ``data_v1``: sum, difference,
product, min, max of (u, v) (R <= 5). Inputs ``(n, T, K R + R)`` (K = 4 or
6 data features per rule, then the one-hot op), targets ``(n, T)`` float32,
``info["rule"]`` (n, T). The ``ood`` split multiplies every data feature by
``ood_scale`` (2) and recomputes the targets (the searches find the same
partners; retrieved values double).

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> task = RuleSetRegression(rules=2, num_train=8, length=5)
    >>> task.split("train").inputs.shape, task.split("train").targets.shape
    (torch.Size([8, 5, 10]), torch.Size([8, 5]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.kinds import Split, Task

from .tasks import _optional_prior


@configclass
class RuleSetTaskConfig:
    seed: int = field(default=0, doc="data seed: the rule coefficients alpha, beta and every sample")
    rules: int = field(default=4, validator=positive, doc="number of rules R (data_v1: at most 5)")
    length: int = field(default=10, validator=positive, doc="set size T (>= 2: every element searches the others)")
    search_version: int = field(default=1, validator=one_of(1, 2),
                                doc="1: nearest scalar search feature; 2: largest dot product of unit 2-vectors")
    version: str = field(default="data_v2", validator=one_of("data_v2", "data_v1"),
                         doc="'data_v2': y = alpha_r u + beta_r v; 'data_v1': sum, difference, product, min, max")
    num_train: int = field(default=10000, validator=positive, doc="training sets")
    num_test: int = field(default=1000, validator=positive, doc="in-distribution test sets")
    num_ood: int = field(default=1000, validator=positive, doc="out-of-distribution test sets")
    ood_scale: float = field(default=2.0, validator=positive, doc="factor on every data feature in the 'ood' split")
    prior: tuple[float, ...] | None = field(default=None, converter=_optional_prior,
                                            doc="rule probabilities (None: uniform)")

    def __attrs_post_init__(self) -> None:
        if self.length < 2:
            raise FieldValueError("length", self.length, ">= 2 (each element retrieves from another element)")
        if self.version == "data_v1" and self.rules > 5:
            raise FieldValueError("rules", self.rules, "<= 5 with version='data_v1' (five fixed rules)")
        if self.prior is not None:
            p = np.asarray(self.prior)
            if p.shape != (self.rules,) or (p < 0).any() or abs(p.sum() - 1) > 1e-6:
                raise FieldValueError("prior", self.prior, f"None or {self.rules} probabilities >= 0 summing to 1")


def _search(features: np.ndarray, version: int) -> np.ndarray:
    """Index (n, T) of the partner each element finds among the *other* elements of its set."""
    n, t = features.shape[:2]
    eye = np.eye(t, dtype=bool)
    if version == 1:
        score = -np.abs(features[:, :, None] - features[:, None, :])           # (n, T, T): closest value
    else:
        score = np.einsum("nik,njk->nij", features, features)                   # largest dot product
    score[:, eye] = -np.inf
    return score.argmax(-1)


class RuleSetRegression(Task):
    """Search-and-retrieve rule regression over sets: inputs (n, T, K R + R), targets (n, T) float32.

    See the module docstring for the data model; :meth:`coefficients` gives
    (alpha, beta) and :meth:`partners` the searched indices. Splits
    ``train``, ``test`` and ``ood`` (data features x ood_scale).

    Examples:
        >>> task = RuleSetRegression(rules=3, num_train=4)
        >>> task.features_per_rule, task.input_shape
        (4, (10, 15))
    """

    Config = RuleSetTaskConfig
    split_names = ("train", "test", "ood")
    output_dim = 1

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.features_per_rule = 4 if c.search_version == 1 else 6
        self.input_shape = (int(c.length), self.features_per_rule * c.rules + c.rules)

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, beta), each (R,) float64, from the data seed alone (the MLP task's; data_v1: NaN)."""
        c = self.config
        if c.version == "data_v1":
            nan = torch.full((c.rules,), float("nan"), dtype=torch.float64)
            return nan, nan.clone()
        rng = np.random.default_rng([int(c.seed), 0])
        return torch.from_numpy(rng.standard_normal(c.rules)), torch.from_numpy(rng.standard_normal(c.rules))

    def _rule_columns(self, r: int) -> tuple[Any, Any, int, int]:
        k = self.features_per_rule
        if k == 4:
            return 4 * r, 4 * r + 1, 4 * r + 2, 4 * r + 3
        return slice(6 * r, 6 * r + 2), slice(6 * r + 2, 6 * r + 4), 6 * r + 4, 6 * r + 5

    def partners(self, data: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
        """The two searched partners (n, T) of every element under rule r, for data features (n, T, K R)."""
        s1, s2, _, _ = self._rule_columns(r)
        v = self.config.search_version
        return _search(data[:, :, s1], v), _search(data[:, :, s2], v)

    def rule_values(self, data: np.ndarray) -> np.ndarray:
        """Every rule's value (n, T, R) at every element, float64."""
        c = self.config
        n, t, _ = data.shape
        rows = np.arange(n)[:, None]
        alpha, beta = (x.numpy() for x in self.coefficients())
        out = np.empty((n, t, c.rules))
        for r in range(c.rules):  # a loop over rules, vectorised over sets and elements
            j1, j2 = self.partners(data, r)
            _, _, c1, c2 = self._rule_columns(r)
            u, v = data[rows, j1, c1], data[rows, j2, c2]
            if c.version == "data_v2":
                out[..., r] = alpha[r] * u + beta[r] * v
            else:
                out[..., r] = (u + v, u - v, u * v, np.minimum(u, v), np.maximum(u, v))[r]
        return out

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        c = self.config
        t = c.length
        if c.search_version == 1:
            return rng.standard_normal((n, t, 4 * c.rules))
        search = rng.standard_normal((n, t, c.rules, 2, 2))
        search /= np.linalg.norm(search, axis=-1, keepdims=True)
        values = rng.standard_normal((n, t, c.rules, 2))
        return np.concatenate([search.reshape(n, t, c.rules, 4), values], axis=-1).reshape(n, t, 6 * c.rules)

    def sample(self, n: int, *, ood: bool = False, stream: int = 9, prior: Any = None) -> Split:
        """``n`` fresh sets from an RNG stream of the data seed (``prior`` overrides the rule probabilities)."""
        c = self.config
        rng = np.random.default_rng([int(c.seed), 2, int(stream)])
        data = self._draw(rng, n)
        if ood:
            data = data * c.ood_scale
        p = c.prior if prior is None else np.asarray(prior, dtype=np.float64)
        rule = rng.choice(c.rules, size=(n, c.length), p=None if p is None else np.asarray(p) / np.sum(p))
        values = np.take_along_axis(self.rule_values(data), rule[..., None], -1)[..., 0]
        rule_t = torch.from_numpy(rule)
        x = torch.cat([torch.from_numpy(data), torch.nn.functional.one_hot(rule_t, c.rules).double()], -1).float()
        return Split(x, torch.from_numpy(values).float(), {"rule": rule_t})

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        return {"train": self.sample(c.num_train, stream=0), "test": self.sample(c.num_test, stream=1),
                "ood": self.sample(c.num_ood, ood=True, stream=2)}


__all__ = ["RuleSetRegression", "RuleSetTaskConfig"]
