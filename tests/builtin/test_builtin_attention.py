"""The built-in multi-head attention: conformance and agreement with torch.nn.MultiheadAttention."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.builtin.attention import MultiHeadAttention
from etude.testing.conformance import AttentionConformance


class TestMultiHeadAttention(AttentionConformance):
    component = ("attention", "multihead")

    def make_attention(self):
        return self.create(embed_dim=self.embed_dim, num_heads=4)


def _copy_into_torch(ours: MultiHeadAttention) -> torch.nn.MultiheadAttention:
    ref = torch.nn.MultiheadAttention(ours.embed_dim, ours.num_heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.weight.copy_(ours.out_proj.weight)
        ref.out_proj.bias.copy_(ours.out_proj.bias)
    return ref


def test_matches_torch_multihead_attention_with_mask():
    torch.manual_seed(0)
    ours = MultiHeadAttention(embed_dim=16, num_heads=4).double().eval()
    ref = _copy_into_torch(ours).eval()
    q, kv = torch.randn(2, 5, 16, dtype=torch.float64), torch.randn(2, 7, 16, dtype=torch.float64)
    mask = torch.rand(2, 5, 7) > 0.3
    mask[..., 0] = True
    out, weights = ours(q, kv, kv, mask=mask, need_weights=True)
    ref_out, ref_w = ref(q, kv, kv, attn_mask=~mask.repeat_interleave(4, 0), average_attn_weights=False)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(weights, ref_w)


def test_head_divisibility_error():
    with pytest.raises(etude.ConfigError, match="num_heads.*divisor of embed_dim=10"):
        etude.create("attention", "multihead", embed_dim=10, num_heads=3)


def test_torch_compile_runs():
    attn = MultiHeadAttention(embed_dim=8, num_heads=2).eval()
    x = torch.randn(1, 3, 8)
    compiled = torch.compile(attn, backend="eager")
    torch.testing.assert_close(compiled(x)[0], attn(x)[0])


@pytest.mark.gpu
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    attn = MultiHeadAttention(embed_dim=16, num_heads=4).eval()
    x = torch.randn(2, 9, 16)
    torch.testing.assert_close(attn.cuda()(x.cuda())[0].cpu(), attn.cpu()(x)[0], atol=1e-5, rtol=1e-4)


def test_query_masked_in_every_head_outputs_zeros_and_partly_masked_does_not():
    """Issue 14, item 15: the contract (zeros) holds for 4-D per-head masks too, not out_proj.bias."""
    import etude

    attn = etude.create("attention", "multihead", embed_dim=8, num_heads=2).double()
    torch.nn.init.constant_(attn.out_proj.bias, 0.5)
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    mask = torch.ones(2, 2, 4, 4, dtype=torch.bool)
    mask[:, :, 0] = False  # query 0: nothing in any head
    mask[:, 0, 1] = False  # query 1: nothing in head 0 only
    out, _ = attn(x, mask=mask)
    assert torch.equal(out[:, 0], torch.zeros_like(out[:, 0]))
    assert out[:, 1].abs().sum() > 0 and torch.isfinite(out).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_supported_once_cast_and_refused_clearly_otherwise(dtype):
    """Issue 14, item 11: no raw 'mat1 and mat2 must have the same dtype'."""
    import etude

    attn = etude.create("attention", "multihead", embed_dim=8, num_heads=2)
    x = torch.randn(2, 3, 8).to(dtype)
    with pytest.raises(TypeError, match=rf"query is {dtype} but the module's parameters are torch.float32; cast"):
        attn(x)
    out, _ = attn.to(dtype)(x)
    assert out.dtype == dtype and torch.isfinite(out).all()


def test_meta_device_is_supported_once_moved_and_refused_clearly_otherwise():
    import etude

    attn = etude.create("attention", "multihead", embed_dim=8, num_heads=2)
    x = torch.randn(2, 3, 8, device="meta")
    with pytest.raises(ValueError, match="query is on meta but the module's parameters are on cpu"):
        attn(x)
    out, _ = attn.to("meta")(x, mask=torch.ones(3, 3, dtype=torch.bool, device="meta"))
    assert out.device.type == "meta" and out.shape == (2, 3, 8)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_builtin_neurons_run_in_half_precision_and_on_meta(name, dtype):
    import etude

    neuron = etude.create("neuron", name)
    y, _ = neuron(torch.randn(4, 5).to(dtype))
    assert y.dtype == dtype
    y, _ = neuron(torch.randn(4, 5, device="meta"))
    assert y.device.type == "meta"


def test_multihead_without_output_projection_concatenates_per_head_sdpa():
    torch.manual_seed(0)
    attn = MultiHeadAttention(embed_dim=12, num_heads=3, output_projection=False).double()
    assert isinstance(attn.out_proj, torch.nn.Identity)
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    out, _ = attn(x)
    heads = []
    for h in range(3):
        cols = slice(4 * h, 4 * (h + 1))
        q, k, v = (torch.nn.functional.linear(x, p.weight[cols], p.bias[cols])
                   for p in (attn.q_proj, attn.k_proj, attn.v_proj))
        heads.append(torch.softmax(q @ k.transpose(-1, -2) / 2.0, dim=-1) @ v)
    torch.testing.assert_close(out, torch.cat(heads, dim=-1), atol=1e-12, rtol=0)
