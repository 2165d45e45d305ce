"""The retrieval competition of compositional attention, with a hand-written backward.

For every (token, search) compositional attention (Mittal et al., 2022,
arXiv:2110.09419, eq. 5-6) scores each retrieval's output ``O_sr`` against the
retrieval query and mixes the outputs by the softmax of the scores. With one
shared retrieval key, ``<q_s, O_sr W^k + b> / sqrt(d_r) = <O_sr, u_s> + beta_s``
with ``u_s = q_s W^k / sqrt(d_r)`` and ``beta_s = <q_s, b> / sqrt(d_r)``, so
:func:`retrieval_competition` takes ``u`` and ``beta`` and computes

    c_sr = softmax_r(<O_sr, u_s> + beta_s),    O_s = sum_r c_sr O_sr.

Autograd would run it as broadcasting multiplies over (.., R, d) tensors and a
softmax over rows of length R, which on CPU cost several times their memory
traffic; here every step is a contiguous (.., d) multiply-add per retrieval
(R is small) and the softmax backward over R is written out.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["retrieval_competition"]


def _softmax(logits: Tensor) -> Tensor:
    """Softmax over a short last axis: a few elementwise ops beat the row kernel on rows of length R."""
    e = (logits - logits.amax(dim=-1, keepdim=True)).exp_()
    return e.div_(e.sum(dim=-1, keepdim=True))


def _mix(parts: Tensor, weights: Tensor) -> Tensor:
    """``sum_r weights[.., r] * parts[.., r, :]`` as a chain of contiguous multiply-adds."""
    out = parts[..., 0, :] * weights[..., 0:1]
    for r in range(1, parts.shape[-2]):
        out.addcmul_(parts[..., r, :], weights[..., r : r + 1])
    return out


class _RetrievalCompetition(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pairs: Tensor, u: Tensor, beta: Tensor | None) -> tuple[Tensor, Tensor]:
        logits = torch.stack([torch.linalg.vecdot(pairs[..., r, :], u) for r in range(pairs.shape[-2])], dim=-1)  # (.., R)
        if beta is not None:
            logits = logits + beta.unsqueeze(-1)
        choice = _softmax(logits)
        ctx.save_for_backward(pairs, u, choice)
        ctx.has_beta = beta is not None
        return _mix(pairs, choice), choice

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor | None, grad_choice: Tensor | None):
        pairs, u, choice = ctx.saved_tensors
        R = pairs.shape[-2]
        if grad_out is None:
            grad_out = torch.zeros_like(u)
        grad_c = torch.stack([torch.linalg.vecdot(pairs[..., r, :], grad_out) for r in range(R)], dim=-1)
        if grad_choice is not None:
            grad_c = grad_c + grad_choice
        grad_logits = choice * (grad_c - (grad_c * choice).sum(dim=-1, keepdim=True))  # softmax backward over R
        # dO_sr = c_sr dO_s + dlogit_sr u_s;  du_s = sum_r dlogit_sr O_sr
        grad_pairs = torch.stack(
            [(grad_out * choice[..., r : r + 1]).addcmul_(u, grad_logits[..., r : r + 1]) for r in range(R)], dim=-2
        )
        grad_beta = grad_logits.sum(dim=-1) if ctx.has_beta else None
        return grad_pairs, _mix(pairs, grad_logits), grad_beta


def retrieval_competition(pairs: Tensor, u: Tensor, beta: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Mix the R retrieval outputs per (token, search) by ``softmax_r(<O_sr, u_s> + beta_s)``.

    Args:
        pairs: (.., R, d_v) the outputs ``O_sr`` of every retrieval.
        u: (.., d_v) the retrieval query mapped through the shared key, ``q_s W^k / sqrt(d_r)``.
        beta: (..) the key bias term ``<q_s, b> / sqrt(d_r)``, or None. It is
            the same for every retrieval, so it cancels in the softmax (its
            gradient is zero up to rounding); it is kept for fidelity.

    Returns:
        ``(out, choice)``: (.., d_v) the mixed outputs ``O_s`` and (.., R) the
        choice weights. Differentiable once (hand-written backward).
    """
    if pairs.dim() < 2 or u.shape != pairs.shape[:-2] + pairs.shape[-1:]:
        raise ValueError(
            f"retrieval_competition: pairs must be (.., R, d_v) and u (.., d_v), got pairs {tuple(pairs.shape)}, "
            f"u {tuple(u.shape)}"
        )
    if beta is not None and beta.shape != pairs.shape[:-2]:
        raise ValueError(f"retrieval_competition: beta must be {tuple(pairs.shape[:-2])}, got {tuple(beta.shape)}")
    if pairs.numel() <= AUTOGRAD_MAX_NUMEL:
        return _autograd_competition(pairs, u, beta)
    return _RetrievalCompetition.apply(pairs, u, beta)


#: up to this many pair elements the competition runs as five autograd ops (fewer calls: faster for
#: small inputs); above it, the hand-written function (measured on CPU, one thread)
AUTOGRAD_MAX_NUMEL = 2**15


def retrieval_logits(pairs: Tensor, u: Tensor, beta: Tensor | None = None) -> Tensor:
    """The competition's scores ``<O_sr, u_s> + beta_s`` (.., R), as plain autograd ops."""
    logits = (pairs * u.unsqueeze(-2)).sum(dim=-1)
    return logits if beta is None else logits + beta.unsqueeze(-1)


def _autograd_competition(pairs: Tensor, u: Tensor, beta: Tensor | None) -> tuple[Tensor, Tensor]:
    choice = torch.softmax(retrieval_logits(pairs, u, beta), dim=-1)
    return (choice.unsqueeze(-1) * pairs).sum(dim=-2), choice
