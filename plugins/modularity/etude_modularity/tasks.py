"""Rule-based regression and classification (Mittal et al. 2022, Section 3), with an out-of-distribution split.

Each example draws two numbers a, b ~ N(0, 1) and a rule r uniform over R
rules (or with probabilities ``prior``); the input is ``(a, b, onehot(r))``
of shape (n, 2 + R). ``data_v2`` (default): ``y = alpha_r a + beta_r b``
with alpha, beta ~ N(0, 1) drawn once from the task's ``seed`` (the data
seed, independent of any model seed); ``data_v1``: the five fixed rules
(sum, difference, product, min, max; R <= 5). Classification:
``y = 1[rule value >= 0]``. The ``ood`` split multiplies a and b by
``ood_scale`` (2) and recomputes y; the rule distribution is unchanged.
``info["rule"]`` holds r of every example.

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713
    (official ``MLP/*/data.py``: ``data_v1``, ``data_v2``).

Examples:
    >>> task = RuleRegression(rules=4, num_train=100)
    >>> task.split("train").inputs.shape, task.split("ood").targets.shape
    (torch.Size([100, 6]), torch.Size([1000, 1]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.kinds import Split, Task


def _optional_prior(value: Any) -> tuple[float, ...] | None:
    return None if value is None else tuple(float(v) for v in value)


@configclass
class RuleTaskConfig:
    seed: int = field(default=0, doc="data seed: the rule coefficients alpha, beta and every sample")
    rules: int = field(default=4, validator=positive, doc="number of rules R (data_v1: at most 5)")
    version: str = field(default="data_v2", validator=one_of("data_v2", "data_v1"),
                         doc="'data_v2': y = alpha_r a + beta_r b; 'data_v1': sum, difference, product, min, max")
    num_train: int = field(default=10000, validator=positive, doc="training examples")
    num_test: int = field(default=1000, validator=positive, doc="in-distribution test examples")
    num_ood: int = field(default=1000, validator=positive, doc="out-of-distribution test examples")
    ood_scale: float = field(default=2.0, validator=positive, doc="factor on a and b in the 'ood' split")
    prior: tuple[float, ...] | None = field(default=None, converter=_optional_prior,
                                            doc="rule probabilities (None: uniform)")

    def __attrs_post_init__(self) -> None:
        if self.version == "data_v1" and self.rules > 5:
            raise FieldValueError("rules", self.rules, "<= 5 with version='data_v1' (five fixed rules)")
        if self.prior is not None:
            p = np.asarray(self.prior)
            if p.shape != (self.rules,) or (p < 0).any() or abs(p.sum() - 1) > 1e-6:
                raise FieldValueError("prior", self.prior, f"None or {self.rules} probabilities >= 0 summing to 1")


class RuleRegression(Task):
    """Rule-based regression: inputs (a, b, onehot(r)), target y = alpha_r a + beta_r b, (n, 1) float32.

    See the module docstring for the data model; :meth:`coefficients` gives
    (alpha, beta). Splits ``train``, ``test`` and ``ood`` (inputs x ood_scale).

    Examples:
        >>> task = RuleRegression(rules=2, num_train=8)
        >>> x, y = task.split("train").inputs, task.split("train").targets
        >>> a, b, r = x[:, 0].double(), x[:, 1].double(), x[:, 2:].argmax(1)
        >>> alpha, beta = task.coefficients()
        >>> bool(torch.allclose(y[:, 0].double(), alpha[r] * a + beta[r] * b, atol=1e-6))
        True
    """

    Config = RuleTaskConfig
    split_names = ("train", "test", "ood")
    output_dim = 1

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.input_shape = (2 + int(self.config.rules),)

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha, beta), each (R,) float64, drawn from the data seed alone (data_v2; data_v1: NaN)."""
        c = self.config
        if c.version == "data_v1":
            nan = torch.full((c.rules,), float("nan"), dtype=torch.float64)
            return nan, nan.clone()
        rng = np.random.default_rng([int(c.seed), 0])
        return torch.from_numpy(rng.standard_normal(c.rules)), torch.from_numpy(rng.standard_normal(c.rules))

    def rule_values(self, a: torch.Tensor, b: torch.Tensor, rule: torch.Tensor) -> torch.Tensor:
        """The regression value of rule ``rule`` at (a, b), float64."""
        a, b = a.double(), b.double()
        if self.config.version == "data_v2":
            alpha, beta = self.coefficients()
            return alpha[rule] * a + beta[rule] * b
        values = torch.stack([a + b, a - b, a * b, torch.minimum(a, b), torch.maximum(a, b)], dim=-1)
        return values.gather(-1, rule.unsqueeze(-1)).squeeze(-1)

    def _targets(self, values: torch.Tensor) -> torch.Tensor:
        return values.float().unsqueeze(-1)

    def sample(self, n: int, *, ood: bool = False, stream: int = 9, prior: Any = None) -> Split:
        """``n`` fresh examples from an RNG stream of the data seed (``prior`` overrides the rule probabilities)."""
        c = self.config
        rng = np.random.default_rng([int(c.seed), 1, int(stream)])
        ab = rng.standard_normal((n, 2))
        if ood:
            ab = ab * c.ood_scale
        p = c.prior if prior is None else np.asarray(prior, dtype=np.float64)
        rule = torch.from_numpy(rng.choice(c.rules, size=n, p=None if p is None else np.asarray(p) / np.sum(p)))
        a, b = torch.from_numpy(ab[:, 0]), torch.from_numpy(ab[:, 1])
        x = torch.cat([torch.from_numpy(ab), torch.nn.functional.one_hot(rule, c.rules).double()], dim=1).float()
        return Split(x, self._targets(self.rule_values(a, b, rule)), {"rule": rule})

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        return {"train": self.sample(c.num_train, stream=0), "test": self.sample(c.num_test, stream=1),
                "ood": self.sample(c.num_ood, ood=True, stream=2)}


class RuleClassification(RuleRegression):
    """Rule-based binary classification: y = 1[alpha_r a + beta_r b >= 0] (int64, 2 classes).

    Examples:
        >>> task = RuleClassification(rules=3, num_train=16)
        >>> task.num_classes, task.split("train").targets.dtype
        (2, torch.int64)
    """

    num_classes = 2
    output_dim = None

    def _targets(self, values: torch.Tensor) -> torch.Tensor:
        return (values >= 0).long()


__all__ = ["RuleClassification", "RuleRegression", "RuleTaskConfig"]
