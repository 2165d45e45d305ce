"""The search step of compositional attention on CPU: S searches over one shared value, in query blocks.

Compositional attention (Mittal et al., 2022, arXiv:2110.09419) needs every
pairing ``O_sr = softmax(Q_s K_s^T / sqrt(d_k)) V_r``. With the R values side
by side as one (B, Tk, R d_v) value shared by the S searches, that is one
attention per search whose value is wider than its query and key. PyTorch's
CPU flash kernel takes only equal widths (otherwise SDPA falls back to its
O(T^2)-memory math path), and zero-padding the query and key to the value's
width doubles the cost of the four query-key products of a step (forward,
its recomputation, dQ and dK). :func:`shared_value_attention` does the exact
computation at the true widths instead, one block of queries at a time:

- forward: per block, the (B, S, n, Tk) scores, one fused softmax, and one
  batched matmul of the weights (B, S n, Tk) by the shared value (B, Tk, W);
  only the inputs are kept for backward (O(T) memory, as in flash attention),
  or with ``keep_weights`` also the weights, block after block in one tensor
  (O(T^2) memory, no recomputation: faster while they fit in the caches);
- backward: per block, the weights recomputed (or read back), then
  ``dV += P^T dO`` (summed over searches by the same matmul), ``dP = dO V^T``,
  ``dS = P * (dP - rowsum(dP * P))`` (the fused softmax backward),
  ``dQ = dS K`` and ``dK += dS^T Q``; the accumulations run on transposed
  buffers, where the CPU matmul is fastest.

Query rows with no key to attend output zeros (and get zero gradients).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = ["shared_value_attention"]


def _block_weights(qs: Tensor, kt: Tensor, mask: Tensor | None, empty: Tensor | None, i: int, j: int,
                   buffer: Tensor) -> Tensor:
    """Attention weights (B, S, j - i, Tk) of queries i..j-1, computed in ``buffer``.

    ``qs`` is pre-scaled and ``kt`` is K^T. The scores are written to the
    flat ``buffer`` and the softmax overwrites them there (the CPU row kernel
    reads a row before it writes it); every block reuses the buffer: a fresh
    multi-megabyte tensor per block costs more than the softmax itself.
    """
    b, s = qs.shape[:2]
    shape = (b, s, j - i, kt.shape[-1])
    weights = buffer[: shape[0] * shape[1] * shape[2] * shape[3]].view(shape)
    torch.matmul(qs[:, :, i:j], kt, out=weights)
    if mask is not None:
        weights.masked_fill_(~mask[..., i:j, :], float("-inf"))
    if weights.device.type == "cpu":
        torch.ops.aten._softmax.out(weights, -1, False, out=weights)
    else:
        weights.copy_(torch.softmax(weights, dim=-1))
    if empty is not None:
        weights.masked_fill_(empty[..., i:j, :], 0.0)  # softmax of an all -inf row is NaN: make it 0
    return weights


class _SharedValueAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, scale: float, block: int, keep: bool) -> Tensor:
        b, s, tq, _ = q.shape
        tk, width = v.shape[1], v.shape[2]
        qs = torch.mul(q, scale, out=q.new_empty(q.shape))  # contiguous (B, S, Tq, d_k), in one pass
        k, v = k.contiguous(), v.contiguous()
        empty = None if mask is None else ~mask.any(dim=-1, keepdim=True)
        kt = k.transpose(-1, -2)
        out = q.new_empty(b, s, tq, width)
        # kept: every block's weights, one after another; otherwise one block's buffer, reused
        kept = q.new_empty(b * s * tq * tk) if keep else None
        buffer = None if keep else q.new_empty(b * s * min(block, tq) * tk)
        for i in range(0, tq, block):
            j = min(i + block, tq)
            weights = _block_weights(qs, kt, mask, empty, i, j, kept[b * s * i * tk :] if keep else buffer)
            out[:, :, i:j] = torch.bmm(weights.view(b, s * (j - i), tk), v).view(b, s, j - i, width)
        ctx.save_for_backward(qs, k, v, mask, empty, kept)
        ctx.scale, ctx.block = scale, block
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):
        qs, k, v, mask, empty, kept = ctx.saved_tensors
        b, s, tq, d_k = qs.shape
        tk, width = v.shape[1], v.shape[2]
        grad_out = grad_out.contiguous()
        grad_q = torch.empty_like(qs)
        grad_kt = qs.new_zeros(b * s, d_k, tk)  # dK^T and dV^T: the fast layout for these sums over blocks
        grad_vt = v.new_zeros(b, width, tk)
        kt, vt = k.transpose(-1, -2), v.transpose(-1, -2)
        numel = b * s * min(ctx.block, tq) * tk
        weight_buffer = qs.new_empty(numel) if kept is None else None
        grad_buffer = qs.new_empty(numel)
        for i in range(0, tq, ctx.block):
            j = min(i + ctx.block, tq)
            n = j - i
            if kept is not None:
                weights = kept[b * s * i * tk : b * s * j * tk].view(b, s, n, tk)
            else:
                weights = _block_weights(qs, kt, mask, empty, i, j, weight_buffer)  # (B, S, n, Tk)
            g = grad_out[:, :, i:j].reshape(b, s * n, width)
            grad_vt.baddbmm_(g.transpose(1, 2), weights.view(b, s * n, tk))
            grad_w = grad_buffer[: weights.numel()].view(weights.shape)
            torch.bmm(g, vt, out=grad_w.view(b, s * n, tk))
            # dS = P * (dP - rowsum(dP * P)); on CPU written over dP (the row kernel reads a row before writing it)
            grad_s = grad_w if grad_w.device.type == "cpu" else torch.empty_like(grad_w)
            torch.ops.aten._softmax_backward_data.out(grad_w, weights, -1, weights.dtype, grad_input=grad_s)
            grad_q[:, :, i:j] = torch.matmul(grad_s, k)
            grad_kt.baddbmm_(qs[:, :, i:j].reshape(b * s, n, d_k).transpose(1, 2), grad_s.view(b * s, n, tk))
        grad_k = grad_kt.view(b, s, d_k, tk).transpose(-1, -2)
        return grad_q.mul_(ctx.scale), grad_k, grad_vt.transpose(1, 2), None, None, None, None


def shared_value_attention(
    q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None, *, scale: float | None = None, block: int = 64,
    keep_weights: bool = False,
) -> Tensor:
    """``softmax(q k^T * scale) v`` for S searches sharing one value, exact, in blocks of ``block`` queries.

    Args:
        q: (B, S, Tq, d_k) queries; k: (B, S, Tk, d_k) keys; v: (B, Tk, W) the
            value shared by the S searches (any width W).
        attn_mask: bool, True = attend, broadcastable to (B, S, Tq, Tk).
        scale: default ``1 / sqrt(d_k)``.
        block: queries per block; memory is O(B S block Tk) beyond the inputs.
        keep_weights: keep the (B, S, Tq, Tk) weights for backward instead of
            recomputing them (faster for small inputs, O(Tq Tk) memory).

    Returns:
        (B, S, Tq, W); rows with no key to attend are zeros. Differentiable
        once (the backward is hand-written; no double backward).
    """
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 3:
        raise ValueError(
            f"shared_value_attention: q, k must be (B, S, T, d_k) and v (B, Tk, W), got q {tuple(q.shape)}, "
            f"k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if k.shape[:2] != q.shape[:2] or k.shape[-1] != q.shape[-1] or v.shape[0] != q.shape[0] or v.shape[1] != k.shape[2]:
        raise ValueError(
            f"shared_value_attention: shapes do not match: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} "
            "(need k (B, S, Tk, d_k) and v (B, Tk, W) for q (B, S, Tq, d_k))"
        )
    if block < 1:
        raise ValueError(f"shared_value_attention: block must be >= 1, got {block}")
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        raise TypeError(f"shared_value_attention: attn_mask must be bool (True = attend), got {attn_mask.dtype}")
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    return _SharedValueAttention.apply(q, k, v, attn_mask, scale, block, keep_weights)
