"""Classic stateless neurons: ReLU, sigmoid, tanh, softplus."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, positive
from etude.kinds import Neuron


class ReLU(Neuron):
    """Rectified linear unit, ``max(0, x)`` (Nair & Hinton, ICML 2010).

    Examples:
        >>> import torch
        >>> ReLU()(torch.tensor([-1.0, 2.0]))[0]
        tensor([0., 2.])
    """

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.relu(x), state


class Sigmoid(Neuron):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``.

    Examples:
        >>> import torch
        >>> Sigmoid()(torch.zeros(1))[0]
        tensor([0.5000])
    """

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.sigmoid(x), state


class Tanh(Neuron):
    """Hyperbolic tangent.

    Examples:
        >>> import torch
        >>> Tanh()(torch.zeros(1))[0]
        tensor([0.])
    """

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.tanh(x), state


@configclass
class SoftplusConfig:
    beta: float = field(default=1.0, validator=positive, doc="sharpness; softplus tends to ReLU as beta grows")


class Softplus(Neuron):
    """Softplus, ``log(1 + exp(beta x)) / beta`` (Dugas et al., NeurIPS 2000).

    Examples:
        >>> import torch
        >>> round(float(Softplus(beta=1.0)(torch.zeros(1))[0]), 4)
        0.6931
    """

    Config = SoftplusConfig

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.nn.functional.softplus(x, beta=self.config.beta), state


class GELU(Neuron):
    """Gaussian error linear unit, ``x Phi(x)`` (Hendrycks & Gimpel, arXiv:1606.08415, 2016; exact erf form).

    Examples:
        >>> import torch
        >>> GELU()(torch.zeros(1))[0]
        tensor([0.])
    """

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.nn.functional.gelu(x), state
