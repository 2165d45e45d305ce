"""Tabular hypotheses G1 = A -> B and G2 = B -> A, batched over runs, with closed-form gradients.

Each hypothesis is an :class:`etude_scm.SCM` with learnable
:class:`etude_scm.CategoricalTable` mechanisms (logits; softmax rows), reset
by :meth:`etude_scm.SCM.fit_mle`. For the hot path, R runs' tables are
stacked into one set of float64 tensors, :class:`TabularHypotheses`:
``a1`` (R, N) logits of p(A), ``c1`` (R, N, N) of p(B | A) (row = A),
``a2`` (R, N) of p(B), ``c2`` (R, N, N) of p(A | B) (row = B).

The gradient of a batch's summed log-likelihood with respect to softmax
logits is closed form: ``counts - n softmax`` for the marginal,
``counts[a, b] - n[a] softmax(c[a])`` for a conditional row; an SGD step on
``-mean(ll)`` adds ``lr / batch`` times it. SGD is elementwise, so the
stacked tensors evolve exactly as R separate runs.

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912 (Sec. 2-3, App. on the
    tabular parametrisation).

Example:
    >>> import torch
    >>> from etude_scm import create_categorical_scm
    >>> scm = create_categorical_scm("A->B", torch.Generator().manual_seed(0), num_categories=3)
    >>> h = TabularHypotheses.exact([scm])
    >>> x = torch.tensor([[[0, 1], [2, 2]]])                     # (R=1, batch=2, 2)
    >>> ll1, ll2 = h.score(x)
    >>> bool(torch.allclose(ll1, ll2))                          # same joint before any transfer
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from etude_scm import SCM, CausalGraph, CategoricalTable

__all__ = ["TabularHypotheses", "hypothesis_scms", "joint_probs", "check_categories"]

_F64 = torch.float64


def check_categories(x: Tensor, num_categories: int, name: str) -> Tensor:
    """Raise naming ``name`` if ``x`` is not integer data in ``[0, N)``; return it as int64."""
    if not isinstance(x, Tensor):
        raise TypeError(f"'{name}' must be a tensor, got {type(x).__name__}")
    if x.is_floating_point():
        if torch.isnan(x).any():
            raise ValueError(f"'{name}' contains NaN; categorical data must be integers in [0, {num_categories})")
        if not torch.equal(x, x.round()):
            raise ValueError(f"'{name}' has non-integer values; categorical data must be integers in [0, {num_categories})")
    if x.shape[-1] != 2:
        raise ValueError(f"'{name}' must end in a dimension of 2 (columns A, B), got shape {tuple(x.shape)}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= num_categories):
        bad = x[(x < 0) | (x >= num_categories)].unique()[:5].tolist()
        raise ValueError(
            f"'{name}' has categories {bad} outside [0, {num_categories}); set num_categories or recode the data"
        )
    return x.long()


def hypothesis_scms(num_categories: int) -> tuple[SCM, SCM]:
    """G1 = A -> B and G2 = B -> A as etude-scm SCMs with learnable ``CategoricalTable`` mechanisms."""
    n = num_categories
    g1 = SCM(CausalGraph(["A", "B"], [("A", "B")]), {"A": CategoricalTable(n), "B": CategoricalTable(n, (n,))})
    g2 = SCM(CausalGraph(["A", "B"], [("B", "A")]), {"A": CategoricalTable(n, (n,)), "B": CategoricalTable(n)})
    return g1, g2


def joint_probs(scm: SCM) -> Tensor:
    """The exact joint ``P[a, b]`` (float64) of a two-node categorical SCM over nodes A, B."""
    probs = {v: scm.mechanisms[v].logits.detach().to(_F64).softmax(-1) for v in ("A", "B")}
    if scm.parents("B") == ("A",):
        return probs["A"][:, None] * probs["B"]
    if scm.parents("A") == ("B",):
        return (probs["B"][:, None] * probs["A"]).T
    raise ValueError(f"joint_probs needs an SCM A -> B or B -> A, got {scm!r}")


def _counts(x: Tensor, n: int) -> Tensor:
    """Joint counts ``(R, N, N)`` float64 of a batch ``x`` (R, b, 2)."""
    r = x.shape[0]
    flat = x[..., 0] * n + x[..., 1]
    out = torch.zeros(r, n * n, dtype=_F64, device=x.device)
    out.scatter_add_(1, flat, torch.ones_like(flat, dtype=_F64))
    return out.view(r, n, n)


class TabularHypotheses:
    """R runs' tables of G1 and G2 as stacked float64 logits; closed-form scores, gradients and SGD steps.

    Internally the two hypotheses are one more batch dimension: ``marginals`` (R, 2, N) holds p(A) of G1
    and p(B) of G2, ``conditionals`` (R, 2, N, N) p(B | A) of G1 and p(A | B) of G2 (row = parent);
    G2 sees the transposed joint counts. ``a1, c1, a2, c2`` are views.
    """

    def __init__(self, a1: Tensor, c1: Tensor, a2: Tensor, c2: Tensor) -> None:
        if a1.dim() != 2 or c1.shape != (*a1.shape, a1.shape[-1]) or a2.shape != a1.shape or c2.shape != c1.shape:
            raise ValueError(
                f"tables must be a1, a2 (R, N) and c1, c2 (R, N, N); got {tuple(a1.shape)}, {tuple(c1.shape)}, "
                f"{tuple(a2.shape)}, {tuple(c2.shape)}"
            )
        self.marginals = torch.stack([a1, a2], 1).to(_F64)
        self.conditionals = torch.stack([c1, c2], 1).to(_F64)

    @property
    def a1(self) -> Tensor:
        return self.marginals[:, 0]

    @property
    def a2(self) -> Tensor:
        return self.marginals[:, 1]

    @property
    def c1(self) -> Tensor:
        return self.conditionals[:, 0]

    @property
    def c2(self) -> Tensor:
        return self.conditionals[:, 1]

    @property
    def num_runs(self) -> int:
        return self.marginals.shape[0]

    @property
    def num_categories(self) -> int:
        return self.marginals.shape[-1]

    def tensors(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.a1, self.c1, self.a2, self.c2

    def to(self, device) -> TabularHypotheses:
        return TabularHypotheses(*(t.to(device) for t in self.tensors()))

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def from_scms(cls, pairs: Sequence[tuple[SCM, SCM]]) -> TabularHypotheses:
        """Stack the tables of R ``(G1, G2)`` pairs made by :func:`hypothesis_scms`."""
        a1 = torch.stack([g1.mechanisms["A"].logits.detach() for g1, _ in pairs])
        c1 = torch.stack([g1.mechanisms["B"].logits.detach() for g1, _ in pairs])
        a2 = torch.stack([g2.mechanisms["B"].logits.detach() for _, g2 in pairs])
        c2 = torch.stack([g2.mechanisms["A"].logits.detach() for _, g2 in pairs])
        return cls(a1, c1, a2, c2)

    @classmethod
    def mle(cls, train: Tensor, num_categories: int, pseudo_count: float = 0.0) -> TabularHypotheses:
        """Both hypotheses at the MLE of each run's training data ``(R, n, 2)`` (or ``(n, 2)``).

        ``pseudo_count == 0``: etude-scm's ``fit_mle`` of G1 and G2 (the official code's empirical
        MLE; a cell never seen gets log 0 = -inf). ``pseudo_count = a > 0``: the *joint* is smoothed,
        ``P[a, b] = (n[a, b] + a) / (n + N^2 a)``, and factorised exactly both ways, so G1 and G2
        still represent one and the same joint (smoothing each table separately would not, and
        biases the comparison: a per-table pseudo-count of 1 reverses sigma(gamma) here).
        """
        if pseudo_count < 0:
            raise ValueError(f"'pseudo_count' must be >= 0, got {pseudo_count!r}")
        train = check_categories(train, num_categories, "train")
        if train.dim() == 2:
            train = train.unsqueeze(0)
        if pseudo_count > 0:
            counts = _counts(train, num_categories) + pseudo_count
            return cls.exact_joints(counts / counts.sum((-2, -1), keepdim=True))
        pairs = []
        for x in train:
            g1, g2 = hypothesis_scms(num_categories)
            values = {"A": x[:, 0], "B": x[:, 1]}
            pairs.append((g1.fit_mle(values).double(), g2.fit_mle(values).double()))
        return cls.from_scms(pairs)

    @classmethod
    def exact(cls, scms: Sequence[SCM]) -> TabularHypotheses:
        """Both hypotheses at the exact tables of each data SCM (G2 by Bayes' rule; the notebook's reset)."""
        return cls.exact_joints(torch.stack([joint_probs(s) for s in scms]))

    @classmethod
    def exact_joints(cls, joints: Tensor) -> TabularHypotheses:
        """Both hypotheses at the exact factorisations of joints ``P[r, a, b]`` (R, N, N)."""
        joints = joints.to(_F64)
        pa, pb = joints.sum(2), joints.sum(1)
        tiny = torch.finfo(_F64).tiny
        c1 = (joints / pa.clamp_min(tiny)[:, :, None]).clamp_min(tiny).log()
        c2 = (joints.transpose(1, 2) / pb.clamp_min(tiny)[:, :, None]).clamp_min(tiny).log()
        return cls(pa.log(), c1, pb.log(), c2)

    def write_to(self, pairs: Sequence[tuple[SCM, SCM]]) -> None:
        """Copy run ``r``'s tables into the mechanisms of ``pairs[r]``."""
        with torch.no_grad():
            for r, (g1, g2) in enumerate(pairs):
                g1.mechanisms["A"].logits.copy_(self.a1[r])
                g1.mechanisms["B"].logits.copy_(self.c1[r])
                g2.mechanisms["B"].logits.copy_(self.a2[r])
                g2.mechanisms["A"].logits.copy_(self.c2[r])

    @contextlib.contextmanager
    def restored(self) -> Iterator[TabularHypotheses]:
        """Adapt freely inside; on exit the tables are bitwise what they were (pitfall 1: no leakage).

        Steps rebind new tensors (never in place), so keeping the references is a snapshot.
        """
        saved = (self.marginals, self.conditionals)
        try:
            yield self
        finally:
            self.marginals, self.conditionals = saved

    # -- closed forms ----------------------------------------------------------------------------------
    @staticmethod
    def _both(joint: Tensor) -> Tensor:
        """Joint counts as each hypothesis sees them, (R, 2, N, N) with rows = its parent."""
        return torch.stack([joint, joint.transpose(-2, -1)], 1)

    def _score(self, both: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        pm, pc = self.marginals.softmax(-1), self.conditionals.softmax(-1)
        parents = both.sum(-1)  # (R, 2, N)
        # xlogy: 0 log 0 = 0 for cells of zero probability that were never seen
        ll = torch.special.xlogy(parents, pm).sum(-1) + torch.special.xlogy(both, pc).sum((-2, -1))
        return ll, pm, pc, parents

    def score(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Summed log-likelihood ``(R,)`` of a batch ``x`` (R, b, 2) under G1 and G2."""
        ll = self._score(self._both(_counts(x, self.num_categories)))[0]
        return ll[:, 0], ll[:, 1]

    def grads(self, joint: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Gradient of the summed log-likelihood for joint counts (or probabilities) ``(R, N, N)``.

        ``d/d a1 = n_a - n softmax(a1)``; ``d/d c1[a] = joint[a] - n_a softmax(c1[a])``; likewise for G2
        with the roles of A and B swapped. With ``joint`` the transfer probabilities, this is the
        exact expected gradient of the log-likelihood per sample.
        """
        gm, gc = self._grads(self._both(joint.to(_F64)))
        return gm[:, 0], gc[:, 0], gm[:, 1], gc[:, 1]

    def _grads(self, both: Tensor, pm=None, pc=None, parents=None) -> tuple[Tensor, Tensor]:
        pm = self.marginals.softmax(-1) if pm is None else pm
        pc = self.conditionals.softmax(-1) if pc is None else pc
        parents = both.sum(-1) if parents is None else parents
        total = parents.sum(-1, keepdim=True)
        return parents - total * pm, both - parents.unsqueeze(-1) * pc

    def step(self, x: Tensor, lr: float) -> tuple[Tensor, Tensor]:
        """Score the batch ``x`` (R, b, 2) first, then one SGD step on ``-mean(ll1) - mean(ll2)``.

        Returns the pre-update scores ``(ll1, ll2)``, each ``(R,)`` (pitfall 2: each batch is scored before
        the inner step on it).
        """
        both = self._both(_counts(x, self.num_categories))
        ll, pm, pc, parents = self._score(both)
        gm, gc = self._grads(both, pm, pc, parents)
        scale = lr / x.shape[1]
        self.marginals = self.marginals + scale * gm
        self.conditionals = self.conditionals + scale * gc
        return ll[:, 0], ll[:, 1]

    def expected_log_likelihood(self, joint: Tensor) -> tuple[Tensor, Tensor]:
        """Exact expected log-likelihood per sample ``(R,)`` under probabilities ``joint`` (R, N, N)."""
        ll = self._score(self._both(joint.to(_F64)))[0]
        return ll[:, 0], ll[:, 1]
