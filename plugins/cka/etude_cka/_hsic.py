"""HSIC estimators and the centred matrices behind every CKA variant.

Notation (Davari et al. 2023, Sec. 2): ``H = I - 11^T / n``; ``K = X X^T``,
``L = Y Y^T`` (or kernel matrices). The biased estimator is
``HSIC_0(K, L) = tr(K H L H) / (n-1)^2`` and the unbiased one (Song et al.
2012) is, with ``K~, L~`` the matrices with zeroed diagonals,

    HSIC_1 = [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1) / ((n-1)(n-2))
              - 2/(n-2) 1^T K~ L~ 1] / (n (n-3)).

CKA is ``HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``, so every estimator here
is a cosine between two "centred" matrices whose Frobenius inner product is
the HSIC (up to a constant factor that cancels in CKA):

- biased: ``G = H K H``;
- unbiased: ``U(K)``, the zero-diagonal matrix with entries
  ``K~_ij - r_i - r_j``, ``r = K~1/(n-2) - (1^T K~ 1) / (2(n-1)(n-2)) 1``.
  Its off-diagonal rows sum to zero, and ``<U(K), U(L)> = n(n-3) HSIC_1``.

For linear kernels the same quantities come from d x d feature products
(cheaper when d < n): ``||X_c^T Y_c||_F^2`` for the biased numerator and,
with row norms ``a_i = ||x_i||^2`` of the centred features,
``n(n-3) HSIC_1 = ||X_c^T Y_c||^2 + (sum a)(sum b)/((n-1)(n-2)) - n/(n-2) a^T b``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def centre(X: Tensor) -> Tensor:
    """Column-centred copy of ``X`` (n, d)."""
    return X - X.mean(dim=0, keepdim=True)


def unit_scale(X: Tensor) -> Tensor:
    """``X / max|X|`` (``X`` itself when it is all zeros).

    Every CKA variant is invariant to isotropic scaling, so dividing by the
    largest magnitude first changes nothing but keeps the fourth-order
    products (``||X^T Y||^2``, the product of the two denominators) inside the
    float range: without it a float32 input of scale 3e5 overflows to 0.0
    and one of scale 1e19 looks constant.
    """
    top = X.detach().abs().amax()
    return X / top if float(top) > 0 else X


def check_variance(X: Tensor, Xc: Tensor, label: str, name: str) -> None:
    """Raise a clear ValueError when ``X`` has (numerically) zero variance.

    CKA divides by the representation's self-similarity; when every feature
    is constant (all rows identical) that is 0 and CKA is undefined.
    """
    with torch.no_grad():
        top = X.detach().abs().amax()
        if not float(top) > 0:
            top = torch.ones((), dtype=X.dtype, device=X.device)
        energy = float((Xc.detach() / top).pow(2).sum())
        scale = float((X.detach() / top).pow(2).sum())
        tol = (64 * torch.finfo(X.dtype).eps) ** 2 * max(scale, torch.finfo(X.dtype).tiny)
    if energy <= tol:
        raise ValueError(
            f"{name}: {label} has zero variance (every feature is constant across the n={X.shape[0]} "
            "examples, so all rows are identical); CKA is undefined for it. Check that the layer is not "
            "dead or saturated; pass float64 if the variation is below float32 precision"
        )


def gram_linear(Xc: Tensor) -> Tensor:
    """``Xc Xc^T``: the linear Gram matrix of (centred) features; already ``H K H`` when centred."""
    return Xc @ Xc.T


def centre_gram(K: Tensor) -> Tensor:
    """``H K H`` computed by subtracting row and column means (no n x n centring matrix)."""
    row = K.mean(dim=1, keepdim=True)
    col = K.mean(dim=0, keepdim=True)
    return K - row - col + K.mean()


def unbiased_centre_gram(K: Tensor) -> Tensor:
    """``U(K)``: the matrix whose inner products give the unbiased HSIC times n(n-3).

    Requires n >= 4 (the caller checks).
    """
    n = K.shape[0]
    Kt = K - torch.diag_embed(torch.diagonal(K))
    rows = Kt.sum(dim=1)
    r = rows / (n - 2) - rows.sum() / (2 * (n - 1) * (n - 2))
    U = Kt - r[:, None] - r[None, :]
    return U - torch.diag_embed(torch.diagonal(U))


def unbiased_hsic_gram(K: Tensor, L: Tensor) -> Tensor:
    """Song et al.'s unbiased HSIC_1 from two kernel matrices (the formula as printed)."""
    n = K.shape[0]
    Kt = K - torch.diag_embed(torch.diagonal(K))
    Lt = L - torch.diag_embed(torch.diagonal(L))
    trace = (Kt * Lt).sum()
    k1, l1 = Kt.sum(dim=1), Lt.sum(dim=1)
    middle = k1.sum() * l1.sum() / ((n - 1) * (n - 2))
    last = 2.0 / (n - 2) * (k1 * l1).sum()
    return (trace + middle - last) / (n * (n - 3))


def cross_fro2(Xc: Tensor, Yc: Tensor) -> Tensor:
    """``||X^T Y||_F^2``; for ``Y is X`` the symmetric blocks are computed once (about 25% fewer flops)."""
    if Yc is not Xc:
        return (Xc.T @ Yc).pow(2).sum()
    d = Xc.shape[1]
    if d < 512:
        return (Xc.T @ Xc).pow(2).sum()
    A, B = Xc[:, : d // 2], Xc[:, d // 2 :]
    return cross_fro2(A, A) + 2.0 * (A.T @ B).pow(2).sum() + cross_fro2(B, B)


def unbiased_hsic_features(Xc: Tensor, Yc: Tensor) -> Tensor:
    """``n(n-3) HSIC_1`` for linear kernels from column-centred features (d x d products).

    Cheap but prone to cancellation with outliers: see :func:`feature_form_is_accurate`.
    """
    return unbiased_feature_terms(Xc, Yc)[0]


def unbiased_feature_terms(Xc: Tensor, Yc: Tensor) -> tuple[Tensor, Tensor]:
    """``n(n-3) HSIC_1`` from features, and the sum of the magnitudes of its three terms.

    The closed form adds and subtracts terms of the size of ``(sum a)^2``;
    with one far outlier they nearly cancel and the rounding error
    (about ``eps x magnitude``) can exceed the value itself.
    """
    n = Xc.shape[0]
    a = Xc.pow(2).sum(dim=1)
    b = a if Yc is Xc else Yc.pow(2).sum(dim=1)
    first = cross_fro2(Xc, Yc)
    middle = a.sum() * b.sum() / ((n - 1) * (n - 2))
    last = n / (n - 2) * (a * b).sum()
    return first + middle - last, first.abs() + middle.abs() + last.abs()


def feature_form_is_accurate(Xc: Tensor, Yc: Tensor) -> bool:
    """Whether the unbiased HSIC feature form loses less than ``sqrt(eps)`` of CKA to cancellation.

    The bound: each of the three HSIC values carries an absolute rounding
    error of about ``8 eps`` times the magnitude of its terms; propagated to
    ``CKA = xy / sqrt(xx yy)`` that is
    ``8 eps (m_xy / sqrt(xx yy) + |CKA| (m_xx / xx + m_yy / yy) / 2)``.
    """
    with torch.no_grad():
        Xd, Yd = Xc.detach(), Yc.detach()
        xy, m_xy = unbiased_feature_terms(Xd, Yd)
        xx, m_xx = unbiased_feature_terms(Xd, Xd)
        yy, m_yy = unbiased_feature_terms(Yd, Yd)
        if not (float(xx) > 0 and float(yy) > 0):
            return False
        eps = torch.finfo(Xc.dtype).eps
        root = torch.sqrt(xx * yy)
        bound = 8 * eps * (m_xy / root + (xy / root).abs() * (m_xx / xx + m_yy / yy) / 2)
        return bool(float(bound) <= eps**0.5)


def cosine(num: Tensor, den_x: Tensor, den_y: Tensor, name: str) -> Tensor:
    """``num / sqrt(den_x den_y)`` with a clear error when a denominator is not positive."""
    for label, den in (("X", den_x), ("Y", den_y)):
        if not float(den.detach()) > 0:
            raise ValueError(
                f"{name}: the self-similarity HSIC({label}, {label}) is {float(den.detach()):.3g} (not > 0), "
                f"so CKA is undefined; {label} is (numerically) constant up to translation. "
                "Use more examples or float64 inputs"
            )
    return num / (torch.sqrt(den_x) * torch.sqrt(den_y))


def prefer_features(n: int, d1: int, d2: int) -> bool:
    """Whether d x d feature products are cheaper than n x n Gram matrices."""
    feature_cost = n * (d1 * d2 + d1 * d1 + d2 * d2)
    gram_cost = n * n * (d1 + d2 + 3)
    return feature_cost <= gram_cost
