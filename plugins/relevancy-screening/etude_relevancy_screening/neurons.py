"""modReLU, the real-valued form of the unitary RNN's nonlinearity."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import configclass, field, positive
from etude.kinds import Neuron

__all__ = ["ModReLU", "ModReLUConfig"]


@configclass
class ModReLUConfig:
    num_units: int = field(validator=positive, doc="number of units U (one learned bias b per unit)")
    bias_init: float = field(default=0.01, validator=positive, doc="b is drawn from U(-bias_init, bias_init)")


class ModReLU(Neuron):
    """modReLU: ``y = sign(z) · relu(|z| + b)`` with a learned bias ``b`` per unit.

    The magnitude of the pre-activation is shifted by ``b`` and rectified; its
    sign is kept. With ``b < 0`` small inputs are zeroed (a dead zone), with
    ``b >= 0`` the unit is a signed identity plus ``b``. Default of the
    self-attentive RNNs' official code, where ``b ~ U(-0.01, 0.01)``.

    References:
        M. Arjovsky, A. Shah, Y. Bengio, "Unitary Evolution Recurrent Neural Networks", ICML 2016,
        arXiv:1511.06464 (modReLU);
        G. Kerg et al., NeurIPS 2020, arXiv:2006.09471 (its use in RelRNN).

    Examples:
        >>> import torch
        >>> neuron = ModReLU(num_units=3)
        >>> with torch.no_grad():
        ...     _ = neuron.b.fill_(-0.5)
        >>> neuron(torch.tensor([[-2.0, 0.2, 1.0]]))[0]
        tensor([[-1.5000,  0.0000,  0.5000]], grad_fn=<MulBackward0>)
    """

    Config = ModReLUConfig

    def __init__(self, config: ModReLUConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.b = nn.Parameter(torch.empty(self.config.num_units))
        nn.init.uniform_(self.b, -self.config.bias_init, self.config.bias_init)

    def activate(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        return torch.sign(x) * torch.relu(x.abs() + self.b), state
