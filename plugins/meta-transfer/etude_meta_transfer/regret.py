"""The meta-transfer regret and its closed-form gradient in the structural parameter gamma.

With online log-likelihoods ``log L1`` (hypothesis G1 = A -> B) and ``log L2``
(G2 = B -> A) of the transfer data, each batch scored before the inner step
on it, the regret is

    R(gamma) = -log[ sigma(gamma) L1 + (1 - sigma(gamma)) L2 ]
             = -logsumexp(logsigmoid(gamma) + log L1, logsigmoid(-gamma) + log L2),

computed in log space (raw products of likelihoods underflow), and

    dR/dgamma = sigma(gamma) - sigma(gamma + log L1 - log L2),

``sigma(gamma)`` minus the posterior of G1. It is negative when G1 adapts
better, so a descent step increases gamma. Everything is float64 and
elementwise, so a ``(R,)`` tensor of gammas is R independent runs. (The function is
``transfer_regret``: a package attribute ``regret`` would be shadowed by this module.)

References:
    Y. Bengio, T. Deleu, N. Rahaman, N. R. Ke, S. Lachapelle, O. Bilaniuk,
    A. Goyal, C. Pal. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912 (Sec. 3, Eq. 3-4).

Example:
    >>> import torch
    >>> g, l1, l2 = torch.zeros(2, dtype=torch.float64), torch.tensor([-10.0, -12.0]), torch.tensor([-12.0, -10.0])
    >>> [round(v, 4) for v in regret_grad(g, l1.double(), l2.double()).tolist()]
    [-0.3808, 0.3808]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["posterior", "transfer_regret", "regret_grad", "per_batch_regret", "per_batch_regret_grad"]


def _check(gamma: Tensor, log_l1: Tensor, log_l2: Tensor) -> None:
    for name, t in (("gamma", gamma), ("log_l1", log_l1), ("log_l2", log_l2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"'{name}' must be a tensor, got {type(t).__name__}")
        if torch.isnan(t).any():
            raise ValueError(f"'{name}' contains NaN; the online log-likelihoods must be finite")


def transfer_regret(gamma: Tensor, log_l1: Tensor, log_l2: Tensor) -> Tensor:
    """``-logsumexp(logsigmoid(gamma) + log L1, logsigmoid(-gamma) + log L2)``, elementwise over runs."""
    _check(gamma, log_l1, log_l2)
    return -torch.logaddexp(F.logsigmoid(gamma) + log_l1, F.logsigmoid(-gamma) + log_l2)


def posterior(gamma: Tensor, log_l1: Tensor, log_l2: Tensor) -> Tensor:
    """``P(G1 | D) = sigma(gamma + log L1 - log L2)``."""
    _check(gamma, log_l1, log_l2)
    return torch.sigmoid(gamma + (log_l1 - log_l2))


def regret_grad(gamma: Tensor, log_l1: Tensor, log_l2: Tensor) -> Tensor:
    """Closed form ``dR/dgamma = sigma(gamma) - sigma(gamma + log L1 - log L2)``; exactly 0 when L1 = L2."""
    return torch.sigmoid(gamma) - posterior(gamma, log_l1, log_l2)


def per_batch_regret(gamma: Tensor, ll1: Tensor, ll2: Tensor) -> Tensor:
    """The official notebook's variant: the mixture per batch, ``sum_t R(gamma; ll1_t, ll2_t)`` (last dim = batches)."""
    return transfer_regret(gamma.unsqueeze(-1), ll1, ll2).sum(-1)


def per_batch_regret_grad(gamma: Tensor, ll1: Tensor, ll2: Tensor) -> Tensor:
    """``sum_t sigma(gamma) - sigma(gamma + ll1_t - ll2_t)`` (last dim = batches)."""
    return regret_grad(gamma.unsqueeze(-1), ll1, ll2).sum(-1)
