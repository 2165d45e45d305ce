"""Debiased linear CKA: CKA built on the unbiased HSIC estimator (Song et al. 2012)."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from etude.config import configclass, field, one_of
from etude.kinds import SimilarityMetric

from ._hsic import (
    centre,
    check_variance,
    cosine,
    gram_linear,
    prefer_features,
    unbiased_centre_gram,
    unbiased_hsic_features,
)


@configclass
class DebiasedCKAConfig:
    method: str = field(
        default="auto",
        validator=one_of("auto", "feature", "gram"),
        doc="'feature': d x d products; 'gram': n x n Gram matrices; 'auto': the cheaper one",
    )


class DebiasedCKA(SimilarityMetric):
    """Linear CKA with the unbiased HSIC estimator (needs n >= 4 examples).

    The biased estimator ``tr(KHLH)/(n-1)^2`` is not ~0 on independent data
    at small n (about 0.2 at n = 32), so small minibatches bias CKA upwards.
    The unbiased estimator zeroes the Gram diagonals:
    ``HSIC_1 = [tr(K~L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n(n-3))``,
    and debiased CKA is ``HSIC_1(K, L) / sqrt(HSIC_1(K, K) HSIC_1(L, L))``. It is
    ~0 on independent data and may be slightly negative. Davari et al. train
    their CKA maps with it; for linear kernels it is computed from d x d
    feature products when that is cheaper than the n x n Gram matrices.

    References:
        L. Song, A. Smola, A. Gretton, J. Bedo, K. Borgwardt, "Feature
        Selection via Dependence Maximization", JMLR 2012.
        M. Davari, S. Horoi, A. Natik, G. Lajoie, G. Wolf, E. Belilovsky,
        "Reliability of CKA as a Similarity Measure in Deep Learning",
        ICLR 2023, arXiv:2210.16156.

    Examples:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> X = torch.randn(400, 5, generator=g, dtype=torch.float64)
        >>> Y = torch.randn(400, 5, generator=g, dtype=torch.float64)
        >>> abs(float(DebiasedCKA()(X, Y))) < 0.05
        True
        >>> round(float(DebiasedCKA()(X, X)), 6)
        1.0
    """

    Config = DebiasedCKAConfig
    min_examples: ClassVar[int] = 4

    def compute(self, X: Tensor, Y: Tensor) -> Tensor:
        name = type(self).__name__
        Xc, Yc = centre(X), centre(Y)
        check_variance(X, Xc, "X", name)
        check_variance(Y, Yc, "Y", name)
        n, d1, d2 = X.shape[0], X.shape[1], Y.shape[1]
        method = self.config.method
        if method == "auto":
            method = "feature" if prefer_features(n, d1, d2) else "gram"
        if method == "feature":
            num = unbiased_hsic_features(Xc, Yc)
            den_x = unbiased_hsic_features(Xc, Xc)
            den_y = unbiased_hsic_features(Yc, Yc)
        else:
            U, V = unbiased_centre_gram(gram_linear(Xc)), unbiased_centre_gram(gram_linear(Yc))
            num, den_x, den_y = (U * V).sum(), U.pow(2).sum(), V.pow(2).sum()
        return cosine(num, den_x, den_y, name)

    def centred_gram(self, X: Tensor) -> Tensor:
        """``U(X X^T)``: the matrix whose normalised inner products give debiased CKA."""
        return unbiased_centre_gram(gram_linear(centre(X)))


__all__ = ["DebiasedCKA", "DebiasedCKAConfig"]
