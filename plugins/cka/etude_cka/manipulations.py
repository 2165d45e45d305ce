"""The paper's manipulations of representations: subset translation and its closed-form CKA limit."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def _check_matrix(X: Tensor, name: str) -> None:
    if not isinstance(X, Tensor):
        raise TypeError(f"{name}: X must be a torch.Tensor, got {type(X).__name__}")
    if X.dim() != 2:
        raise ValueError(f"{name}: X must be 2-D (n examples, d features), got shape {tuple(X.shape)}")
    if not torch.isfinite(X).all():
        raise ValueError(f"{name}: X contains NaN or inf")


def subset_mask(subset: Tensor | Sequence[int] | int, n: int, name: str, device=None) -> Tensor:
    """A boolean (n,) mask from a mask, a list of row indices or one index."""
    if isinstance(subset, Tensor) and subset.dtype == torch.bool:
        if subset.shape != (n,):
            raise ValueError(f"{name}: a boolean subset mask must have shape ({n},), got {tuple(subset.shape)}")
        mask = subset.to(device)
    else:
        index = torch.as_tensor(subset, dtype=torch.long, device=device).reshape(-1)
        if index.numel() and (index.min() < -n or index.max() >= n):
            raise ValueError(f"{name}: subset indices must lie in [-{n}, {n}), got {index.min()}..{index.max()}")
        mask = torch.zeros(n, dtype=torch.bool, device=device)
        mask[index] = True
    k = int(mask.sum())
    if k == 0 or k == n:
        raise ValueError(
            f"{name}: the subset must hold between 1 and n-1={n - 1} of the n={n} examples, got {k}; "
            "translating none or all of the points changes nothing after centring"
        )
    return mask


def random_direction(
    d: int,
    *,
    orthogonal_to: Tensor | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> Tensor:
    """A uniformly random unit vector in R^d, optionally orthogonal to the columns of ``orthogonal_to`` (d, k)."""
    v = torch.randn(d, generator=generator, dtype=dtype).to(device)
    if orthogonal_to is not None:
        B = orthogonal_to.to(dtype=dtype, device=v.device).reshape(d, -1)
        Q, _ = torch.linalg.qr(B)
        v = v - Q @ (Q.T @ v)
    norm = v.norm()
    if not float(norm) > 0:
        raise ValueError(f"random_direction: no direction left in R^{d} orthogonal to the given vectors")
    return v / norm


def translate_subset(
    X: Tensor,
    subset: Tensor | Sequence[int] | int,
    distance: float,
    direction: Tensor | None = None,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Translate the rows in ``subset`` by ``distance * v`` (Davari et al. Sec. 4.1).

    ``v`` is ``direction`` normalised to unit length, or a random unit vector
    (from ``generator``). Translating a whole class preserves linear
    separability; translating one point makes it an outlier. Returns a new
    tensor; ``X`` is unchanged.

    Examples:
        >>> import torch
        >>> X = torch.zeros(4, 2)
        >>> translate_subset(X, [1], 5.0, torch.tensor([0.0, 2.0]))[1]
        tensor([0., 5.])
    """
    _check_matrix(X, "translate_subset")
    mask = subset_mask(subset, X.shape[0], "translate_subset", device=X.device)
    if direction is None:
        direction = random_direction(X.shape[1], generator=generator, dtype=X.dtype, device=X.device)
    direction = torch.as_tensor(direction, dtype=X.dtype, device=X.device).reshape(-1)
    if direction.numel() != X.shape[1]:
        raise ValueError(f"translate_subset: direction must have d={X.shape[1]} entries, got {direction.numel()}")
    norm = direction.norm()
    if not float(norm) > 0:
        raise ValueError("translate_subset: direction is the zero vector; pass a non-zero direction")
    shift = float(distance) * direction / norm
    return X + mask.to(X.dtype)[:, None] * shift[None, :]


def translate_outlier(
    X: Tensor,
    distance: float,
    index: int = 0,
    direction: Tensor | None = None,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Move one example (row ``index``) by ``distance`` along ``direction`` (random if None)."""
    return translate_subset(X, [index], distance, direction, generator=generator)


def translation_limit(X: Tensor, subset: Tensor | Sequence[int] | int) -> Tensor:
    """The c -> infinity limit of linear CKA(X, X with ``subset`` translated by c v) (paper Theorem 1).

    With ``X_c`` the centred representation and ``u`` the centred indicator of
    the subset, ``lim CKA = ||X_c^T u||^2 / (||u||^2 ||X_c^T X_c||_F)``,
    independently of the unit direction v. For one outlier this is ~0.

    Examples:
        >>> import torch
        >>> X = torch.randn(200, 5, dtype=torch.float64)
        >>> float(translation_limit(X, [0])) < 0.05
        True
    """
    _check_matrix(X, "translation_limit")
    mask = subset_mask(subset, X.shape[0], "translation_limit", device=X.device)
    Xc = X - X.mean(0, keepdim=True)
    u = mask.to(X.dtype)
    u = u - u.mean()
    gram_norm = (Xc.T @ Xc).norm()
    if not float(gram_norm) > 0:
        raise ValueError("translation_limit: X has zero variance; the limit is undefined")
    return (Xc.T @ u).pow(2).sum() / (u.pow(2).sum() * gram_norm)


def invertible_linear_map(
    d: int,
    *,
    mean: float = 0.0,
    std: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """A Gaussian random d x d matrix with entries N(mean, std^2) (paper Sec. 4.1's invertible maps).

    Any such matrix A is invertible with probability 1, so ``X -> X A``
    preserves linear separability (classifier ``w -> A^{-1} w``), yet linear
    CKA is not invariant to it. Raises if the draw is numerically singular.
    """
    if not std > 0:
        raise ValueError(f"invertible_linear_map: std must be > 0, got {std}")
    A = mean + std * torch.randn(d, d, generator=generator, dtype=dtype)
    if torch.linalg.matrix_rank(A) < d:
        raise ValueError("invertible_linear_map: the drawn matrix is numerically singular; use another seed")
    return A


__all__ = [
    "invertible_linear_map",
    "random_direction",
    "subset_mask",
    "translate_outlier",
    "translate_subset",
    "translation_limit",
]
