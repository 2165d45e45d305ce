"""Posterior heads: a dataset summary (..., C) to a Pyro distribution over theta (batch (...,), event (P,)).

- :class:`GaussianHead`: diagonal Gaussian ``Normal(loc, scale).to_event(1)``, loc and
  log-variance (clamped to [-30, 20]) from one linear layer (the reference code's parametrisation).
- :class:`FlowHead`: a conditional normalizing flow, ``num_layers`` ``conditional_affine_coupling``
  transforms interleaved with fixed ``Permute`` layers over a N(0, I) base, conditioned on the
  summary (``conditional_spline`` for P = 1, where coupling has nothing to split).

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025),
    section 3.2. L. Dinh, J. Sohl-Dickstein, S. Bengio, "Density estimation using Real NVP",
    ICLR 2017, arXiv:1605.08803.

Examples:
    >>> import torch
    >>> head = FlowHead(context=8, num_params=3, hidden=16, num_layers=2)
    >>> q = head(torch.randn(5, 8))
    >>> q.rsample((4,)).shape, q.log_prob(torch.zeros(5, 3)).shape
    (torch.Size([4, 5, 3]), torch.Size([5]))
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
from pyro.distributions.transforms import Permute, conditional_affine_coupling, conditional_spline
from torch import Tensor, nn


class GaussianHead(nn.Module):
    """q(theta | D) = N(mu(s), diag(exp(logvar(s)))) from a summary s."""

    def __init__(self, context: int, num_params: int) -> None:
        super().__init__()
        self.num_params = num_params
        self.linear = nn.Linear(context, 2 * num_params)

    def forward(self, summary: Tensor) -> dist.Distribution:
        loc, logvar = self.linear(summary).chunk(2, dim=-1)
        logvar = logvar.clamp(-30.0, 20.0)  # the reference code's bounds: no overflow early in training
        return dist.Normal(loc, torch.exp(0.5 * logvar)).to_event(1)


class FlowHead(nn.Module):
    """q(theta | D): a conditional coupling flow ``T_K o ... o T_1`` of a N(0, I) base, conditioned on the summary."""

    def __init__(self, context: int, num_params: int, hidden: int = 128, num_layers: int = 6) -> None:
        super().__init__()
        self.num_params = num_params
        transforms: list = []
        g = torch.Generator().manual_seed(0)
        for i in range(num_layers):
            if num_params == 1:
                transforms.append(conditional_spline(1, context, hidden_dims=[hidden, hidden]))
            else:
                transforms.append(conditional_affine_coupling(num_params, context, hidden_dims=[hidden, hidden]))
                if i < num_layers - 1:
                    transforms.append(Permute(torch.randperm(num_params, generator=g)))
        self.transforms = nn.ModuleList(t for t in transforms if isinstance(t, nn.Module))
        self._sequence = transforms
        self.register_buffer("_zero", torch.zeros(num_params))

    def forward(self, summary: Tensor) -> dist.Distribution:
        base = dist.Normal(self._zero.to(summary), 1.0).to_event(1).expand(summary.shape[:-1])
        steps = [t.condition(summary) if hasattr(t, "condition") else t for t in self._sequence]
        return dist.TransformedDistribution(base, steps)

    def _apply(self, fn, recurse=True):  # keep Permute's index buffers on the flow's device
        super()._apply(fn, recurse)
        for t in self._sequence:
            if isinstance(t, Permute):
                t.permutation = t.permutation.to(self._zero.device)
                t.__dict__.pop("inv_permutation", None)
        return self


HEADS = {"gaussian": GaussianHead, "flow": FlowHead}
