"""shared_value_attention: the blocked search kernel against the dense equations."""

from __future__ import annotations

import pytest
import torch

from etude_compositional_attention import shared_value_attention

D = torch.float64


def _dense(q, k, v, mask=None, scale=None):
    scores = q @ k.transpose(-1, -2) * (q.shape[-1] ** -0.5 if scale is None else scale)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.nan_to_num(torch.softmax(scores, -1), nan=0.0) @ v.unsqueeze(1)


def _inputs(b=2, s=3, tq=7, tk=5, d_k=4, width=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=g, dtype=D, requires_grad=True)
                 for shape in ((b, s, tq, d_k), (b, s, tk, d_k), (b, tk, width)))


def _masks():
    g = torch.Generator().manual_seed(1)
    per_batch = torch.rand(2, 1, 7, 5, generator=g) > 0.4
    per_search = torch.rand(2, 3, 7, 5, generator=g) > 0.5
    shared = torch.ones(7, 5, dtype=torch.bool).tril()
    for m in (per_batch, per_search):
        m[..., 2, :] = False  # an empty row
    return [None, per_batch, per_search, shared]


KEEP = pytest.mark.parametrize("keep", [False, True], ids=["recomputed", "kept"])


@KEEP
@pytest.mark.parametrize("mask", _masks(), ids=["none", "per-batch", "per-search", "2-d"])
@pytest.mark.parametrize("block", [1, 3, 7, 64])
def test_equals_dense_attention_and_its_gradients(mask, block, keep):
    q, k, v = _inputs()
    out = shared_value_attention(q, k, v, mask, block=block, keep_weights=keep)
    ref = _dense(q, k, v, mask)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    grad = torch.randn_like(out)
    for got, want in zip(torch.autograd.grad(out, (q, k, v), grad), torch.autograd.grad(ref, (q, k, v), grad)):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@KEEP
@pytest.mark.parametrize("mask", _masks()[:3], ids=["none", "per-batch", "per-search"])
def test_gradcheck(mask, keep):
    q, k, v = _inputs()
    assert torch.autograd.gradcheck(lambda a, b, c: shared_value_attention(a, b, c, mask, block=3, keep_weights=keep), (q, k, v))


@KEEP
def test_empty_rows_are_zero_with_zero_gradients(keep):
    q, k, v = _inputs()
    mask = torch.ones(2, 1, 7, 5, dtype=torch.bool)
    mask[1, :, 4] = False
    out = shared_value_attention(q, k, v, mask, block=2, keep_weights=keep)
    assert torch.equal(out[1, :, 4].detach(), torch.zeros_like(out[1, :, 4]))
    out.sum().backward()
    assert torch.isfinite(q.grad).all() and torch.equal(q.grad[1, :, 4], torch.zeros_like(q.grad[1, :, 4]))


def test_memory_is_linear_in_length_unless_the_weights_are_kept():
    q, k, v = (t.detach().float().requires_grad_() for t in _inputs(b=1, s=2, tq=300, tk=300, d_k=4, width=6))
    for keep in (False, True):
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
            shared_value_attention(q, k, v, block=16, keep_weights=keep)
        assert (max(saved) >= 2 * 300 * 300) == keep


def test_scale_and_float32():
    q, k, v = _inputs(tq=70, tk=40)
    out = shared_value_attention(q, k, v, scale=0.3, block=16)
    torch.testing.assert_close(out, _dense(q, k, v, scale=0.3), rtol=0, atol=1e-12)
    q32, k32, v32 = (t.detach().float() for t in (q, k, v))
    torch.testing.assert_close(shared_value_attention(q32, k32, v32, block=16), _dense(q, k, v).float(), rtol=1e-5, atol=1e-5)


def test_bad_inputs_name_the_problem():
    q, k, v = _inputs()
    with pytest.raises(ValueError, match="v"):
        shared_value_attention(q, k, v.unsqueeze(1))
    with pytest.raises(ValueError, match="do not match"):
        shared_value_attention(q, k[:, :2], v)
    with pytest.raises(ValueError, match="block"):
        shared_value_attention(q, k, v, block=0)
    with pytest.raises(TypeError, match="bool"):
        shared_value_attention(q, k, v, torch.ones(7, 5))
