"""Centred kernel-target alignment of tangent features (Baratin et al. 2021, Sec. 3).

With tangent features ``Phi`` (n, C, P), one-hot labels ``Y`` (n, C) and
the example-major order of :mod:`etude_feature_alignment.tangent`:

- ``mode="full"``: centre ``Phi`` over examples per output, lay it out as
  (n C, P) and the centred labels as the column y = ``(Y - mean_i Y)``
  reshaped (n C, 1); linear CKA of the two is

      A = y^T K_c y / (||K_c||_F ||y||^2) = <K_c, y y^T>_F / (||K_c||_F ||y y^T||_F),

  with ``K_c = (H x I_C) K (H x I_C)``, ``H = I_n - 1 1^T / n``.
- ``mode="trace"``: linear CKA of ``Phi`` flattened (n, C P) against ``Y``
  (n, C): the classic CKA of the trace kernel ``K_tr = sum_c K_(.c),(.c)``
  against ``Y Y^T``.

Both are computed by :class:`etude_cka.linear.LinearCKA` (its centring and
normalisation), so the numbers equal the Kornblith et al. CKA.
:func:`kernel_alignment` is the same quantity for precomputed (n C, n C)
or (n, n) kernels (centring by block means, no n x n matrix H).

References:
    A. Baratin, T. George, C. Laurent, R. D. Hjelm, G. Lajoie, P. Vincent,
    S. Lacoste-Julien, "Implicit Regularization via Neural Feature
    Alignment", AISTATS 2021, arXiv:2008.00938.
    C. Cortes, M. Mohri, A. Rostamizadeh, "Algorithms for Learning Kernels
    Based on Centered Alignment", JMLR 2012, arXiv:1203.0550.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, one_of
from etude.data.base import optional_positive_int
from etude.kinds import SimilarityMetric
from etude_cka.linear import LinearCKA


@configclass
class KernelTargetAlignmentConfig:
    mode: str = field(default="full", validator=one_of("full", "trace"),
                      doc="'full': the (nC x nC) tangent kernel against y y^T; 'trace': the (n x n) trace kernel against Y Y^T")
    num_outputs: int | None = field(default=None, validator=optional_positive_int, doc="C; None: the number of columns of Y")



class KernelTargetAlignment(SimilarityMetric):
    """Centred alignment between tangent features X (n, C P) and targets Y (n, C).

    X is ``Phi(x).reshape(n, C * P)`` (outputs outer, parameters inner, as
    :meth:`TangentKernel.jacobian` lays it out); Y the one-hot labels (or
    any (n, C) target). ``mode="full"`` centres X over examples per output
    and returns LinearCKA between the (n C, P) features and the centred
    label column; ``mode="trace"`` is LinearCKA of X against Y. The value
    is in [-1, 1] (full mode) or [0, 1] (trace mode), invariant to scaling
    either input and to permuting examples jointly. It is not symmetric:
    X must have a multiple of C columns.

    References:
        A. Baratin et al., "Implicit Regularization via Neural Feature
        Alignment", AISTATS 2021, arXiv:2008.00938.

    Examples:
        >>> import torch
        >>> Y = torch.nn.functional.one_hot(torch.arange(6) % 3, 3).double()
        >>> phi = torch.kron(Y, torch.ones(1, 4, dtype=torch.float64))  # Phi_c(x_i) = y_ic * 1: aligned
        >>> round(float(KernelTargetAlignment()(phi.reshape(6, 12), Y)), 6) > 0
        True
    """

    Config = KernelTargetAlignmentConfig

    def compute(self, X: Tensor, Y: Tensor) -> Tensor:
        n, C = Y.shape[0], (self.config.num_outputs or Y.shape[1])
        if C != Y.shape[1]:
            raise ValueError(f"KernelTargetAlignment: Y has {Y.shape[1]} columns but num_outputs={C}")
        if X.shape[1] % C:
            raise ValueError(
                f"KernelTargetAlignment: X must be tangent features (n, C*P) with C={C} outputs, got {X.shape[1]} "
                "columns (not a multiple of C); pass Phi.reshape(n, -1) of a Jacobian (n, C, P)"
            )
        if self.config.mode == "trace":
            return LinearCKA(method="gram")(X, Y)
        phi = X.reshape(n, C, -1)
        phi = phi - phi.mean(dim=0, keepdim=True)
        y = (Y - Y.mean(dim=0, keepdim=True)).reshape(n * C, 1)
        return LinearCKA(method="gram")(phi.reshape(n * C, -1), y)


def centre_blocks(K: Tensor, num_outputs: int = 1) -> Tensor:
    """``(H x I_C) K (H x I_C)`` for a kernel (n C, n C) in example-major order (block means, no H)."""
    C = int(num_outputs)
    n = K.shape[0] // C
    if K.dim() != 2 or K.shape[0] != K.shape[1] or K.shape[0] != n * C:
        raise ValueError(f"centre_blocks: K must be square (n*C, n*C) with C={C}, got shape {tuple(K.shape)}")
    B = K.reshape(n, C, n, C)
    B = B - B.mean(dim=0, keepdim=True) - B.mean(dim=2, keepdim=True) + B.mean(dim=(0, 2), keepdim=True)
    return B.reshape(n * C, n * C)


def kernel_alignment(K: Tensor, L: Tensor, *, num_outputs: int = 1, centred: bool = True) -> Tensor:
    """Alignment ``<K_c, L_c>_F / (||K_c||_F ||L_c||_F)`` of two precomputed kernels, in float64.

    For the tangent kernel pass ``K`` (n C, n C) and ``L = y y^T`` with
    ``num_outputs=C`` (centring per output over examples); for the trace
    kernel pass (n, n) matrices and ``num_outputs=1``.

    Examples:
        >>> import torch
        >>> y = torch.randn(8, 1, dtype=torch.float64)
        >>> round(float(kernel_alignment(3.0 * y @ y.T, y @ y.T)), 6)
        1.0
    """
    for label, M in (("K", K), ("L", L)):
        if not isinstance(M, Tensor) or M.dim() != 2 or M.shape[0] != M.shape[1]:
            raise ValueError(f"kernel_alignment: {label} must be a square 2-D tensor, got "
                             f"{tuple(M.shape) if isinstance(M, Tensor) else type(M).__name__}")
    if K.shape != L.shape:
        raise ValueError(f"kernel_alignment: K {tuple(K.shape)} and L {tuple(L.shape)} must have the same shape")
    K, L = K.double(), L.double()
    if not (bool(torch.isfinite(K).all()) and bool(torch.isfinite(L).all())):
        raise ValueError("kernel_alignment: K or L contains NaN or inf")
    if centred:
        K, L = centre_blocks(K, num_outputs), centre_blocks(L, num_outputs)
    den = K.norm() * L.norm()
    if not float(den) > 0:
        raise ValueError("kernel_alignment: a centred kernel is zero (constant features or labels); alignment undefined")
    return (K * L).sum() / den


def label_kernel(Y: Tensor, mode: str = "full") -> Tensor:
    """The target kernel: ``y y^T`` (n C, n C) for ``mode="full"`` (y = Y.reshape(n C)), ``Y Y^T`` for ``"trace"``."""
    Y = Y.double()
    if mode == "trace":
        return Y @ Y.T
    y = Y.reshape(-1, 1)
    return y @ y.T


def effective_rank(K: Tensor) -> float:
    """``Tr K / lambda_max(K)`` of a PSD kernel (float64 eigenvalues): the number of dominant directions."""
    eig = torch.linalg.eigvalsh(K.double())
    top = float(eig[-1])
    return float(eig.clamp_min(0).sum()) / top if top > 0 else 0.0


__all__ = [
    "KernelTargetAlignment",
    "KernelTargetAlignmentConfig",
    "centre_blocks",
    "effective_rank",
    "kernel_alignment",
    "label_kernel",
]
