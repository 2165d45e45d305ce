"""Linear CKA (Kornblith et al. 2019), the measure Davari et al. (2023) stress-test."""

from __future__ import annotations

from torch import Tensor

from etude.config import configclass, field, one_of
from etude.kinds import SimilarityMetric

from ._hsic import centre, check_variance, cosine, cross_fro2, gram_linear, prefer_features, unit_scale


@configclass
class LinearCKAConfig:
    method: str = field(
        default="auto",
        validator=one_of("auto", "feature", "gram"),
        doc="'feature': d x d products X^T Y; 'gram': n x n Gram matrices; 'auto': the cheaper one "
        "(debiased CKA: unless outliers make the feature form inaccurate)",
    )


class LinearCKA(SimilarityMetric):
    """Linear centered kernel alignment between two representations of the same examples.

    With column-centred X (n, d1) and Y (n, d2), linear CKA is the cosine
    between the centred Gram matrices ``X X^T`` and ``Y Y^T``, which equals
    ``||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` in feature space. It is
    invariant to orthogonal transforms and isotropic scaling of either input
    (not to general invertible linear maps) and lies in [0, 1]. The value is
    computed from d x d feature products when that is cheaper than the n x n
    Gram matrices (``method="auto"``); both paths agree to float tolerance.
    Davari et al. show that it is dominated by directions of high variance:
    translating a single example far away drives it to ~0.

    References:
        S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of Neural
        Network Representations Revisited", ICML 2019, arXiv:1905.00414.
        M. Davari, S. Horoi, A. Natik, G. Lajoie, G. Wolf, E. Belilovsky,
        "Reliability of CKA as a Similarity Measure in Deep Learning",
        ICLR 2023, arXiv:2210.16156.

    Examples:
        >>> import torch
        >>> X = torch.randn(50, 8, dtype=torch.float64)
        >>> Q, _ = torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64))
        >>> round(float(LinearCKA()(X, 3.0 * X @ Q + 1.0)), 6)
        1.0
    """

    Config = LinearCKAConfig

    @staticmethod
    def hsic_features(Xc: Tensor, Yc: Tensor) -> Tensor:
        """The HSIC numerator in feature space, ``||Yc^T Xc||_F^2``."""
        return cross_fro2(Xc, Yc)

    @staticmethod
    def gram(Xc: Tensor) -> Tensor:
        """The centred Gram matrix ``Xc Xc^T`` (already centred: columns of Xc are)."""
        return gram_linear(Xc)

    @staticmethod
    def feature_form_is_accurate(Xc: Tensor, Yc: Tensor) -> bool:
        """Whether ``method="auto"`` may use the feature form (always, for the biased HSIC: no cancellation)."""
        return True

    def compute(self, X: Tensor, Y: Tensor) -> Tensor:
        name = type(self).__name__
        Xc, Yc = centre(X), centre(Y)
        check_variance(X, Xc, "X", name)
        check_variance(Y, Yc, "Y", name)
        # Scale-invariant: normalise before the fourth-order products (no overflow).
        Xc, Yc = unit_scale(Xc), unit_scale(Yc)
        method = self.config.method
        if method == "auto":
            cheaper = prefer_features(X.shape[0], X.shape[1], Y.shape[1])
            method = "feature" if cheaper and self.feature_form_is_accurate(Xc, Yc) else "gram"
        if method == "feature":
            num = self.hsic_features(Xc, Yc)
            den_x, den_y = self.hsic_features(Xc, Xc), self.hsic_features(Yc, Yc)
        else:
            K, L = self.gram(Xc), self.gram(Yc)
            num, den_x, den_y = (K * L).sum(), K.pow(2).sum(), L.pow(2).sum()
        return cosine(num, den_x, den_y, name)

    def centred_gram(self, X: Tensor) -> Tensor:
        """The matrix whose normalised Frobenius inner products give this CKA (``H X X^T H`` here)."""
        return self.gram(unit_scale(centre(X)))


def linear_cka(X: Tensor, Y: Tensor, *, method: str = "auto") -> Tensor:
    """Functional form of :class:`LinearCKA` (validates its inputs)."""
    return LinearCKA(method=method)(X, Y)


__all__ = ["LinearCKA", "LinearCKAConfig", "linear_cka"]
