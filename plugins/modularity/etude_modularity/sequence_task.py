"""Rule-switching linear dynamics over sequences (the RNN tasks of Mittal et al. 2022, official ``RNN/*/data.py``).

Each example is a sequence of T steps with inputs ``x_t ~ N(0, I_D)`` and a
rule ``r_t`` per step (one-hot op, uniform over R rules or with
probabilities ``prior``). The target state follows the rule of the step:

    s_t = x_t B_{r_t} + sum_{o=1}^{min(order, t)} s_{t-o} A_{r_t, o}

with ``B_r ~ N(0, 1/D)`` (D x D) and ``A_{r, o} ~ N(0, 1/(order D))``
drawn from the task's ``seed`` alone (a switching linear dynamical
system). Inputs ``(n, T, D + R)`` (x_t, then the one-hot op), targets
``(n, T, D)`` float32, ``info["rule"]`` (n, T). The ``ood`` split multiplies
x by ``ood_scale`` (2) and recomputes the states.

References:
    S. Mittal, Y. Bengio, G. Lajoie, "Is a Modular Architecture Enough?", NeurIPS 2022, arXiv:2206.02713.

Examples:
    >>> task = RuleSequenceRegression(rules=2, dim=3, num_train=8, length=6)
    >>> task.split("train").inputs.shape, task.split("train").targets.shape
    (torch.Size([8, 6, 5]), torch.Size([8, 6, 3]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from etude.config import FieldValueError, configclass, field, positive
from etude.kinds import Split, Task

from .tasks import _optional_prior


@configclass
class RuleSequenceTaskConfig:
    seed: int = field(default=0, doc="data seed: the rule dynamics A, B and every sample")
    rules: int = field(default=4, validator=positive, doc="number of rules R")
    length: int = field(default=10, validator=positive, doc="sequence length T")
    dim: int = field(default=32, validator=positive, doc="state and input width D (the official README's 32)")
    order: int = field(default=1, validator=positive, doc="Markov order: states depend on the last `order` states")
    num_train: int = field(default=10000, validator=positive, doc="training sequences")
    num_test: int = field(default=1000, validator=positive, doc="in-distribution test sequences")
    num_ood: int = field(default=1000, validator=positive, doc="out-of-distribution test sequences")
    ood_scale: float = field(default=2.0, validator=positive, doc="factor on the inputs x in the 'ood' split")
    prior: tuple[float, ...] | None = field(default=None, converter=_optional_prior,
                                            doc="rule probabilities (None: uniform)")

    def __attrs_post_init__(self) -> None:
        if self.prior is not None:
            p = np.asarray(self.prior)
            if p.shape != (self.rules,) or (p < 0).any() or abs(p.sum() - 1) > 1e-6:
                raise FieldValueError("prior", self.prior, f"None or {self.rules} probabilities >= 0 summing to 1")


class RuleSequenceRegression(Task):
    """Rule-switching linear dynamics: inputs (n, T, D + R), target states (n, T, D) float32.

    :meth:`dynamics` gives (A, B); :meth:`states` runs the recurrence.
    Splits ``train``, ``test`` and ``ood`` (inputs x ood_scale).

    Examples:
        >>> A, B = RuleSequenceRegression(rules=3, dim=4).dynamics()
        >>> tuple(A.shape), tuple(B.shape)
        ((3, 1, 4, 4), (3, 4, 4))
    """

    Config = RuleSequenceTaskConfig
    split_names = ("train", "test", "ood")

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.input_shape = (int(c.length), c.dim + c.rules)
        self.output_dim = c.dim

    def dynamics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(A (R, order, D, D), B (R, D, D)) float64, from the data seed alone."""
        c = self.config
        rng = np.random.default_rng([int(c.seed), 0])
        a = rng.standard_normal((c.rules, c.order, c.dim, c.dim)) / np.sqrt(c.order * c.dim)
        b = rng.standard_normal((c.rules, c.dim, c.dim)) / np.sqrt(c.dim)
        return torch.from_numpy(a), torch.from_numpy(b)

    def states(self, x: torch.Tensor, rule: torch.Tensor) -> torch.Tensor:
        """The states s (n, T, D) float64 for inputs x (n, T, D) and rules (n, T) (a loop over time only)."""
        a, b = self.dynamics()
        x = x.double()
        n, t, _ = x.shape
        rows = torch.arange(n)
        out: list[torch.Tensor] = []
        for step in range(t):
            r = rule[:, step]
            cand = torch.einsum("nd,rde->nre", x[:, step], b)                      # every rule's update
            for o in range(1, min(self.config.order, step) + 1):
                cand = cand + torch.einsum("nd,rde->nre", out[step - o], a[:, o - 1])
            out.append(cand[rows, r])
        return torch.stack(out, 1)

    def sample(self, n: int, *, ood: bool = False, stream: int = 9, prior: Any = None) -> Split:
        """``n`` fresh sequences from an RNG stream of the data seed (``prior`` overrides the rule probabilities)."""
        c = self.config
        rng = np.random.default_rng([int(c.seed), 3, int(stream)])
        p = c.prior if prior is None else np.asarray(prior, dtype=np.float64)
        rule = torch.from_numpy(rng.choice(c.rules, size=(n, c.length), p=None if p is None else np.asarray(p) / np.sum(p)))
        x = torch.from_numpy(rng.standard_normal((n, c.length, c.dim)))
        if ood:
            x = x * c.ood_scale
        inputs = torch.cat([x, torch.nn.functional.one_hot(rule, c.rules).double()], -1).float()
        return Split(inputs, self.states(x, rule).float(), {"rule": rule})

    def make_splits(self) -> dict[str, Split]:
        c = self.config
        return {"train": self.sample(c.num_train, stream=0), "test": self.sample(c.num_test, stream=1),
                "ood": self.sample(c.num_ood, ood=True, stream=2)}


__all__ = ["RuleSequenceRegression", "RuleSequenceTaskConfig"]
