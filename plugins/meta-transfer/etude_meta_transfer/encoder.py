"""``model/rotation-encoder``: a learnable rotation that maps observations back to causal variables.

The representation-learning experiment of the paper (Sec. 6 of arXiv v2, "Representation learning";
official notebook ``bivariate-continuous-multimodal/03_encoder_learning``): the causal variables
(A, B) of a spline SCM A -> B are never observed; the observations are a fixed rotation of them,
``(X, Y) = R(phi) (A, B)``. An encoder ``(U, V) = R(theta) (X, Y)`` with one learnable angle is trained
jointly with the structural parameter gamma on the meta-transfer regret (see
:mod:`etude_meta_transfer.representation`). Any ``theta* + k pi/2`` with ``theta* = -phi`` recovers the
causal variables up to order and sign: ``k`` even gives ``(+-A, +-B)`` (G1 = U -> V is correct), ``k``
odd gives ``(+-B, +-A)`` (G2 = V -> U is correct).

Convention: ``R(theta) = [[cos, -sin], [sin, cos]]`` acting on column vectors, so a batch of rows
``x`` (n, 2) maps to ``x @ R(theta)^T`` (a counter-clockwise rotation by theta). The official
``Rotor(theta)`` computes ``x @ R(theta)``, a rotation by ``-theta``: its ground-truth decoder
``Rotor(-pi/4)`` is our ``phi = pi/4``, and its solutions ``+pi/4`` / ``-pi/4`` are our ``-pi/4`` / ``+pi/4``.

References:
    Y. Bengio, T. Deleu, N. Rahaman, N. R. Ke, S. Lachapelle, O. Bilaniuk, A. Goyal, C. Pal.
    "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms". ICLR 2020.
    arXiv:1901.10912.

Example:
    >>> import math, torch
    >>> enc = RotationEncoder(init_angle=math.pi / 2)
    >>> [round(v, 6) + 0.0 for v in enc(torch.tensor([[1.0, 0.0]]))[0].tolist()]
    [0.0, 1.0]
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from etude.config import configclass, field
from etude.kinds import Model

__all__ = ["RotationEncoder", "RotationEncoderConfig", "rotation_matrix", "angle_to_solution", "solution_index"]


def _finite(instance, attribute, value) -> None:
    if not math.isfinite(float(value)):
        raise ValueError(f"'{attribute.name}' must be a finite angle in radians, got {value!r}")


@configclass
class RotationEncoderConfig:
    init_angle: float = field(default=0.0, validator=_finite, doc="initial angle theta in radians (the notebook: 0)")


def rotation_matrix(theta: Tensor) -> Tensor:
    """``R(theta) = [[cos, -sin], [sin, cos]]`` (2, 2), differentiable in ``theta``."""
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s]), torch.stack([s, c])])


def angle_to_solution(theta: float, solution: float) -> float:
    """Distance in radians from ``theta`` to the nearest ``solution + k pi/2`` (in [0, pi/4])."""
    quarter = math.pi / 2
    return abs(math.remainder(theta - solution, quarter))


def solution_index(theta: float, solution: float) -> int:
    """``k mod 4`` of the nearest ``solution + k pi/2``: even -> (+-A, +-B), odd -> (+-B, +-A)."""
    return round((theta - solution) / (math.pi / 2)) % 4


class RotationEncoder(Model):
    """``(U, V) = R(theta) (X, Y)``: one learnable angle, inputs and outputs ``(..., 2)``.

    ``R(theta)`` is orthogonal with determinant 1, so densities are preserved:
    ``p_UV(R x) = p_XY(x)``; the encoder changes which factorisation adapts fast, not the likelihood
    of the joint.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms".
        ICLR 2020. arXiv:1901.10912 (representation learning; notebook ``03_encoder_learning``).

    Example:
        >>> import torch
        >>> enc = RotationEncoder()
        >>> enc(torch.randn(5, 2)).shape
        torch.Size([5, 2])
    """

    Config = RotationEncoderConfig

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.theta = nn.Parameter(torch.tensor(float(self.config.init_angle)))

    def matrix(self) -> Tensor:
        return rotation_matrix(self.theta)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"'x' must be a tensor (..., 2), got {type(x).__name__}")
        if x.dim() < 1 or x.shape[-1] != 2:
            raise ValueError(f"'x' must have a last dimension of 2 (the two observed variables), got shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"'x' must be a floating tensor, got {x.dtype}; convert with x.float()")
        if not torch.isfinite(x).all():
            raise ValueError("'x' contains NaN or inf; observations must be finite")
        return x @ self.matrix().to(x.dtype).T

    def extra_repr(self) -> str:
        return f"theta={float(self.theta):.4f}"
