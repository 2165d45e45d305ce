"""Minibatch CKA: accumulate unbiased HSIC over batches when n does not fit in memory."""

from __future__ import annotations

import torch
from torch import Tensor

from etude.kinds import check_representations

from ._hsic import centre, unbiased_hsic_features


class MinibatchCKA:
    """Stateful linear-kernel CKA over a stream of minibatches: ``update(X, Y)`` then ``compute()``.

    Two accumulation modes:

    - ``"average"`` (Nguyen, Raghu & Kornblith 2021; the mode Davari et al.'s
      code evaluates maps with): the unbiased HSIC_1 of each batch is averaged
      separately for the numerator ``HSIC_1(K, L)`` and the two denominator
      terms, and CKA is formed from the averages. This is an unbiased
      estimate of the same population quantity as full-batch debiased CKA,
      not its exact value. Each batch needs at least 4 examples.
    - ``"exact"``: running sums of feature products (``X^T Y``, ``X^T X``,
      ``Y^T Y``, column sums and row-norm moments, kept in float64) give
      exactly the full-batch debiased CKA of all rows seen, in
      O(d1^2 + d2^2 + d1 d2) memory, independent of n.

    Never average per-batch CKA values: numerator and denominators are
    accumulated separately (pitfall 5 of the paper brief).

    Examples:
        >>> import torch
        >>> from etude_cka import DebiasedCKA
        >>> X, Y = torch.randn(300, 4, dtype=torch.float64), torch.randn(300, 3, dtype=torch.float64)
        >>> acc = MinibatchCKA(mode="exact")
        >>> for i in range(0, 300, 64):
        ...     acc.update(X[i:i + 64], Y[i:i + 64])
        >>> bool(torch.isclose(acc.compute(), DebiasedCKA()(X, Y)))
        True
    """

    def __init__(self, mode: str = "average") -> None:
        if mode not in ("average", "exact"):
            raise ValueError(f"MinibatchCKA: mode must be 'average' or 'exact', got {mode!r}")
        self.mode = mode
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far."""
        self.batches = 0
        self.n = 0
        self._dims: tuple[int, int] | None = None
        self._sums: dict[str, Tensor] = {}
        self._shift: tuple[Tensor, Tensor] | None = None

    def update(self, X: Tensor, Y: Tensor) -> None:
        """Add one batch: X (b, d1) and Y (b, d2) for the same b examples in the same order."""
        X, Y = check_representations(X, Y, 4 if self.mode == "average" else 1, "MinibatchCKA.update")
        X, Y = X.detach(), Y.detach()
        if self._dims is None:
            self._dims = (X.shape[1], Y.shape[1])
        elif (X.shape[1], Y.shape[1]) != self._dims:
            raise ValueError(
                f"MinibatchCKA.update: feature widths changed from {self._dims} to {(X.shape[1], Y.shape[1])}; "
                "every batch must come from the same two layers (call reset() to start over)"
            )
        if self.mode == "average":
            self._update_average(X, Y)
        else:
            self._update_exact(X, Y)
        self.batches += 1
        self.n += X.shape[0]

    def _add(self, key: str, value: Tensor) -> None:
        self._sums[key] = self._sums[key] + value if key in self._sums else value

    def _update_average(self, X: Tensor, Y: Tensor) -> None:
        b = X.shape[0]
        Xc, Yc = centre(X.double()), centre(Y.double())
        scale = b * (b - 3)
        self._add("xy", unbiased_hsic_features(Xc, Yc) / scale)
        self._add("xx", unbiased_hsic_features(Xc, Xc) / scale)
        self._add("yy", unbiased_hsic_features(Yc, Yc) / scale)

    def _update_exact(self, X: Tensor, Y: Tensor) -> None:
        X, Y = X.double(), Y.double()
        if self._shift is None:  # any fixed shift leaves HSIC_1 unchanged; it only improves precision
            self._shift = (X.mean(0, keepdim=True), Y.mean(0, keepdim=True))
        X, Y = X - self._shift[0], Y - self._shift[1]
        a, b = X.pow(2).sum(1), Y.pow(2).sum(1)
        for key, value in (
            ("XtY", X.T @ Y), ("XtX", X.T @ X), ("YtY", Y.T @ Y),
            ("sx", X.sum(0)), ("sy", Y.sum(0)),
            ("Xta", X.T @ a), ("Xtb", X.T @ b), ("Yta", Y.T @ a), ("Ytb", Y.T @ b),
            ("A", a.sum()), ("B", b.sum()), ("aa", a @ a), ("bb", b @ b), ("ab", a @ b),
        ):
            self._add(key, value)

    def hsic_terms(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(HSIC_1(K, L), HSIC_1(K, K), HSIC_1(L, L))`` accumulated so far (float64)."""
        if self.batches == 0:
            raise ValueError("MinibatchCKA.compute: no batches yet; call update(X, Y) first")
        s = self._sums
        if self.mode == "average":
            return s["xy"] / self.batches, s["xx"] / self.batches, s["yy"] / self.batches
        n = self.n
        if n < 4:
            raise ValueError(f"MinibatchCKA.compute: the unbiased HSIC needs at least 4 examples in total, got {n}")

        def hsic(C: Tensor, s1: Tensor, s2: Tensor, A: Tensor, B: Tensor, ab: Tensor,
                 X1b: Tensor, X2a: Tensor) -> Tensor:
            # tr(K~L~) = ||X^T Y||^2 - a^T b
            trace = C.pow(2).sum() - ab
            # 1^T K~ 1 = ||s_x||^2 - sum a
            k1, l1 = s1 @ s1 - A, s2 @ s2 - B
            # 1^T K~ L~ 1 = (X s_x - a)^T (Y s_y - b)
            kl = s1 @ C @ s2 - s1 @ X1b - X2a @ s2 + ab
            return (trace + k1 * l1 / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * kl) / (n * (n - 3))

        xy = hsic(s["XtY"], s["sx"], s["sy"], s["A"], s["B"], s["ab"], s["Xtb"], s["Yta"])
        xx = hsic(s["XtX"], s["sx"], s["sx"], s["A"], s["A"], s["aa"], s["Xta"], s["Xta"])
        yy = hsic(s["YtY"], s["sy"], s["sy"], s["B"], s["B"], s["bb"], s["Ytb"], s["Ytb"])
        return xy, xx, yy

    def compute(self) -> Tensor:
        """Debiased CKA from the accumulated HSIC terms (float64 0-d tensor)."""
        xy, xx, yy = self.hsic_terms()
        for label, value in (("X", xx), ("Y", yy)):
            if not float(value) > 0:
                raise ValueError(
                    f"MinibatchCKA.compute: the accumulated HSIC_1({label}, {label}) is {float(value):.3g} "
                    f"(not > 0), so CKA is undefined; {label} is (numerically) constant over the "
                    f"{self.n} examples seen"
                )
        return xy / torch.sqrt(xx * yy)


__all__ = ["MinibatchCKA"]
