"""Debiased linear CKA: CKA built on the unbiased HSIC estimator (Song et al. 2012)."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from etude.config import configclass

from ._hsic import feature_form_is_accurate, gram_linear, unbiased_centre_gram, unbiased_hsic_features
from .linear import LinearCKA, LinearCKAConfig


@configclass
class DebiasedCKAConfig(LinearCKAConfig):
    """The same fields as linear CKA: ``method`` chooses the feature or Gram computation."""


class DebiasedCKA(LinearCKA):
    """Linear CKA with the unbiased HSIC estimator (needs n >= 4 examples).

    The biased estimator ``tr(KHLH)/(n-1)^2`` is not ~0 on independent data
    at small n (about 0.2 at n = 32), so small minibatches bias CKA upwards.
    The unbiased estimator zeroes the Gram diagonals:
    ``HSIC_1 = [tr(K~L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n(n-3))``,
    and debiased CKA is ``HSIC_1(K, L) / sqrt(HSIC_1(K, K) HSIC_1(L, L))``. It is
    ~0 on independent data and may be slightly negative. Davari et al. train
    their CKA maps with it; for linear kernels it is computed from d x d
    feature products when that is cheaper than the n x n Gram matrices and
    accurate: the feature form adds and subtracts terms of the size of
    ``(sum_i ||x_i||^2)^2``, which cancel catastrophically when one example is
    far from the others (float32, n = 50, d = 4, one row shifted by 1e4: -0.096
    instead of -0.116). ``method="auto"`` bounds that rounding error and uses
    the Gram form (exact zero diagonal, no such cancellation) when it exceeds
    ``sqrt(eps)``; ``method="feature"`` always uses the feature form.

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

    @staticmethod
    def hsic_features(Xc: Tensor, Yc: Tensor) -> Tensor:
        """The unbiased HSIC in feature space (closed form, no n x n matrix)."""
        return unbiased_hsic_features(Xc, Yc)

    @staticmethod
    def feature_form_is_accurate(Xc: Tensor, Yc: Tensor) -> bool:
        """Whether the feature form's cancellation error is below ``sqrt(eps)`` (else auto uses Gram)."""
        return feature_form_is_accurate(Xc, Yc)

    @staticmethod
    def gram(Xc: Tensor) -> Tensor:
        """``U(Xc Xc^T)``: the unbiased centring whose inner products are the unbiased HSIC."""
        return unbiased_centre_gram(gram_linear(Xc))


__all__ = ["DebiasedCKA", "DebiasedCKAConfig"]
