"""CompositionalAttention: exact reductions, invariances, masks, gradients, compile, conformance."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.attention import SDPBackend, sdpa_kernel

import etude
from etude.builtin.attention import MultiHeadAttention
from etude.config import ConfigError
from etude.testing.conformance import AttentionConformance
from etude_compositional_attention import CompositionalAttention, attention_parameter_count, competition

D = torch.float64


class TestCompositionalAttention(AttentionConformance):
    component = ("attention", "compositional")

    def make_attention(self):
        return self.create(embed_dim=self.embed_dim, searches=4, retrievals=2)


class TestCompositionalAttentionVariants(AttentionConformance):
    """The same contract with every option switched on."""

    component = ("attention", "compositional")

    def make_attention(self):
        return self.create(
            embed_dim=self.embed_dim, searches=2, retrievals=3, search_dim=6, value_dim=5, retrieval_dim=7,
            separate_keys=True, q_compose=True, concat_input=True,
        )


def _copy_projections(ca: CompositionalAttention, mha: MultiHeadAttention) -> None:
    with torch.no_grad():
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            getattr(mha, name).weight.copy_(getattr(ca, name).weight)
            getattr(mha, name).bias.copy_(getattr(ca, name).bias)


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def _naive(ca: CompositionalAttention, q_in, k_in, v_in, mask=None):
    """The paper's equations term by term (einsum, no SDPA), for dot retrieval."""
    S, R, dk, dv, dr = ca.searches, ca.retrievals, ca.d_k, ca.d_v, ca.d_r
    b, tq, _ = q_in.shape
    q = ca.q_proj(q_in).view(b, tq, S, dk)
    k = ca.k_proj(k_in).view(b, -1, S, dk)
    v = ca.v_proj(v_in).view(b, -1, R, dv)
    scores = torch.einsum("bisd,bjsd->bsij", q, k) / dk**0.5
    if mask is not None:
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
    A = torch.softmax(scores, -1)
    O = torch.einsum("bsij,bjrv->bsirv", A, v)  # O_sr
    rq = ca.retrieval_query(q_in).view(b, tq, S, dr)
    rk = ca.retrieval_key(O)  # (b, S, i, R, dr)
    c = torch.softmax(torch.einsum("bisd,bsird->bsir", rq, rk) / dr**0.5, -1)
    Os = torch.einsum("bsir,bsirv->bisv", c, O).reshape(b, tq, S * dv)
    return ca.out_proj(Os), A, c


def _on_path(ca: CompositionalAttention, path: str) -> CompositionalAttention:
    """Force one search path whatever the input size: explicit softmax, blocked (blocks of 2 queries, the
    weights recomputed in backward or kept), or SDPA."""
    ca.explicit_max_scores = 2**62 if path == "explicit" else 0
    ca.blocked_on = ("cpu",) if path.startswith("blocked") else ()
    ca.keep_weights_max_scores = 2**62 if path == "blocked-kept" else 0
    ca.search_block = 2  # several blocks and a ragged last one at these sizes
    return ca


PATHS = pytest.mark.parametrize("path", ["explicit", "blocked", "blocked-kept", "fused"])


@PATHS
def test_identity_pairing_is_multihead_attention(path):
    torch.manual_seed(0)
    ca = _on_path(CompositionalAttention(embed_dim=24, searches=3, retrievals=3).to(D), path)
    mha = MultiHeadAttention(embed_dim=24, num_heads=3).to(D)
    _copy_projections(ca, mha)
    ca.fixed_retrieval = torch.eye(3)
    q, kv = _x(2, 5, 24), _x(2, 7, 24, seed=1)
    mask = torch.rand(2, 5, 7, generator=torch.Generator().manual_seed(3)) > 0.3
    for args in ((q,), (q, kv)):
        for m in (None, mask if len(args) == 2 else None):
            torch.testing.assert_close(ca(*args, mask=m)[0], mha(*args, mask=m)[0], rtol=0, atol=1e-12)


def test_one_retrieval_is_multihead_with_shared_value():
    """R = 1: every search reads the same value projection; the competition is a no-op."""
    torch.manual_seed(1)
    ca = CompositionalAttention(embed_dim=12, searches=3, retrievals=1, value_dim=4).to(D)
    q, kv = _x(2, 4, 12), _x(2, 6, 12, seed=1)
    out, w = ca(q, kv, need_weights=True)
    torch.testing.assert_close(w["retrieval"], torch.ones_like(w["retrieval"]))
    # explicit per-head reference: softmax(Q_s K_s^T / sqrt(d_k)) V with one shared V
    Q = ca.q_proj(q).view(2, 4, 3, 4).transpose(1, 2)
    K = ca.k_proj(kv).view(2, 6, 3, 4).transpose(1, 2)
    V = ca.v_proj(kv)  # (2, 6, 4), shared
    heads = torch.softmax(Q @ K.transpose(-1, -2) / 2.0, -1) @ V.unsqueeze(1)
    ref = ca.out_proj(heads.transpose(1, 2).reshape(2, 4, 12))
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)
    # and a multi-head attention whose per-head value projections are all the same matrix
    mha = MultiHeadAttention(embed_dim=12, num_heads=3).to(D)
    with torch.no_grad():
        for name in ("q_proj", "k_proj", "out_proj"):
            getattr(mha, name).weight.copy_(getattr(ca, name).weight)
            getattr(mha, name).bias.copy_(getattr(ca, name).bias)
        mha.v_proj.weight.copy_(ca.v_proj.weight.repeat(3, 1))
        mha.v_proj.bias.copy_(ca.v_proj.bias.repeat(3))
    torch.testing.assert_close(out, mha(q, kv)[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize(
    "dims",
    [{"searches": 2, "retrievals": 4}, {"searches": 4, "retrievals": 4}, {"searches": 2, "retrievals": 3, "search_dim": 6, "value_dim": 5},
     {"searches": 2, "retrievals": 1, "search_dim": 8, "value_dim": 3}],
)
@PATHS
def test_fused_path_equals_naive_equations(masked, dims, path):
    """Both search paths (explicit; SDPA with query/key or value padded or not) equal the paper's equations."""
    torch.manual_seed(2)
    ca = _on_path(CompositionalAttention(embed_dim=16, **dims).to(D), path)
    q, kv = _x(3, 5, 16), _x(3, 6, 16, seed=1)
    mask = (torch.rand(3, 5, 6, generator=torch.Generator().manual_seed(4)) > 0.4) if masked else None
    if mask is not None:
        mask[..., 0] = True  # no empty rows here (tested separately)
    out, w = ca(q, kv, mask=mask, need_weights=True)
    ref, A, c = _naive(ca, q, kv, kv, mask)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(w["search"], A, rtol=0, atol=1e-12)
    torch.testing.assert_close(w["retrieval"], c, rtol=0, atol=1e-12)
    # float32 fused kernel within float32 tolerance of the float64 reference
    out32 = ca.float()(q.float(), kv.float(), mask=mask)[0]
    torch.testing.assert_close(out32, ref.float(), rtol=1e-4, atol=1e-5)


def _op_names(ca, x):
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        ca(x)
    return [e.name for e in prof.events()]


def test_large_searches_run_blocked_at_the_true_widths():
    """Above ``explicit_max_scores`` scores on CPU: the blocked kernel (O(T) memory), no SDPA math fallback."""
    ca = CompositionalAttention(embed_dim=32, searches=4, retrievals=2)
    big = torch.randn(1, 1024, 32)  # 1 * 4 * 1024^2 = 4.2M scores > 2^20
    assert 4 * 1024**2 > ca.explicit_max_scores
    names = _op_names(ca, big)
    assert "_SharedValueAttention" in names and not any("scaled_dot_product" in n for n in names)
    # nothing of size Tq x Tk is kept for backward: the saved tensors are O(T)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        ca(big)
    assert max(saved) < 1024 * 1024


def test_sdpa_path_runs_on_the_fused_cpu_kernel():
    """Without the blocked path, the padded SDPA call takes the CPU flash kernel (never math)."""
    for x in (torch.randn(1, 1024, 32), torch.randn(2, 16, 32)):
        ca = _on_path(CompositionalAttention(embed_dim=32, searches=4, retrievals=2), "fused")
        names = _op_names(ca, x)
        assert names.count("aten::_scaled_dot_product_flash_attention_for_cpu") == 1
        assert "aten::_scaled_dot_product_attention_math" not in names


def test_small_inputs_take_the_explicit_path():
    ca = CompositionalAttention(embed_dim=32, searches=4, retrievals=2)
    names = _op_names(ca, torch.randn(2, 16, 32))
    assert not any("scaled_dot_product" in n for n in names) and "aten::_softmax" in names


def test_self_attention_projects_in_one_matmul():
    """query is key is value: Q, K, V and the retrieval queries come from one linear (the same numbers as four)."""
    torch.manual_seed(13)
    ca = CompositionalAttention(embed_dim=16, searches=4, retrievals=2).to(D)
    x = _x(2, 5, 16)
    assert _op_names(ca, x).count("aten::linear") == 2  # the fused input projection and the output
    torch.testing.assert_close(ca(x)[0], ca(x, x.clone(), x.clone())[0], rtol=0, atol=1e-12)


def test_math_backend_equals_default_backend():
    torch.manual_seed(3)
    ca = _on_path(CompositionalAttention(embed_dim=16, searches=4, retrievals=2), "fused")
    x = torch.randn(2, 9, 16)
    with sdpa_kernel(SDPBackend.MATH):
        ref = ca(x)[0]
    torch.testing.assert_close(ca(x)[0], ref, rtol=1e-5, atol=1e-5)


def test_weights_are_distributions():
    torch.manual_seed(4)
    ca = CompositionalAttention(embed_dim=16, searches=4, retrievals=3, value_dim=4)
    _, w = ca(torch.randn(2, 6, 16), need_weights=True)
    assert w["search"].shape == (2, 4, 6, 6) and w["retrieval"].shape == (2, 4, 6, 3)
    torch.testing.assert_close(w["search"].sum(-1), torch.ones(2, 4, 6))
    torch.testing.assert_close(w["retrieval"].sum(-1), torch.ones(2, 4, 6))


@settings(max_examples=15, deadline=None)
@given(
    s=st.integers(1, 3), r=st.integers(1, 3), t=st.integers(2, 6), seed=st.integers(0, 1000),
    mode=st.sampled_from(["dot", "mlp"]),
)
def test_permutation_equivariance(s, r, t, seed, mode):
    torch.manual_seed(seed)
    ca = CompositionalAttention(embed_dim=6, searches=s, retrievals=r, search_dim=2, value_dim=3, retrieval=mode).to(D)
    x = _x(2, t, 6, seed=seed)
    perm = torch.randperm(t, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(ca(x[:, perm])[0], ca(x)[0][:, perm], rtol=0, atol=1e-12)


@PATHS
def test_causal_mask_blocks_the_future(path):
    torch.manual_seed(5)
    ca = _on_path(CompositionalAttention(embed_dim=8, searches=2, retrievals=2).to(D), path)
    x = _x(1, 6, 8)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    changed = x.clone()
    changed[:, 4:] += 5.0
    torch.testing.assert_close(ca(x, mask=causal)[0][:, :4], ca(changed, mask=causal)[0][:, :4], rtol=0, atol=1e-12)


@PATHS
@pytest.mark.parametrize("concat_input", [False, True])
def test_fully_masked_row_policy(concat_input, path):
    """A query with nothing to attend outputs exactly zeros (the kind's contract), weights 0."""
    torch.manual_seed(6)
    ca = _on_path(CompositionalAttention(embed_dim=8, searches=2, retrievals=2, concat_input=concat_input).to(D), path)
    x = _x(2, 4, 8)
    mask = torch.ones(2, 4, 4, dtype=torch.bool)
    mask[0, 1] = False
    out, w = ca(x, mask=mask, need_weights=True)
    assert torch.isfinite(out).all() and torch.isfinite(w["retrieval"]).all()
    assert float(ca.out_proj.bias.detach().abs().sum()) > 0
    assert torch.equal(out[0, 1].detach(), torch.zeros_like(out[0, 1]))
    assert float(w["search"].detach()[0, :, 1].abs().sum()) == 0.0
    out.sum().backward()  # finite gradients through the empty row
    assert all(torch.isfinite(p.grad).all() for p in ca.parameters())


def test_per_search_mask():
    torch.manual_seed(7)
    ca = CompositionalAttention(embed_dim=8, searches=2, retrievals=2).to(D)
    x = _x(1, 5, 8)
    mask = torch.ones(1, 2, 5, 5, dtype=torch.bool)
    mask[:, 1, :, 3:] = False
    _, w = ca(x, mask=mask, need_weights=True)
    search = w["search"].detach()
    assert float(search[:, 1, :, 3:].abs().sum()) == 0.0 and float(search[:, 0, :, 3:].sum()) > 0
    mask[:, 0, 2] = False  # an empty row in one search only
    explicit = _on_path(ca, "explicit")(x, mask=mask)[0]
    for path in ("blocked", "blocked-kept", "fused"):
        torch.testing.assert_close(_on_path(ca, path)(x, mask=mask)[0], explicit, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="head axis"):
        ca(x, mask=torch.ones(1, 3, 5, 5, dtype=torch.bool))


@PATHS
def test_gradcheck_tiny(path):
    torch.manual_seed(8)
    ca = _on_path(CompositionalAttention(embed_dim=4, searches=2, retrievals=2, search_dim=3, value_dim=2).to(D), path)
    x = _x(2, 3, 4).requires_grad_(True)
    kv = _x(2, 4, 4, seed=1).requires_grad_(True)
    mask = torch.ones(2, 3, 4, dtype=torch.bool)
    mask[0, 1] = False  # an empty row: zero output, finite gradients
    mask[1, :, 2] = False
    assert torch.autograd.gradcheck(lambda t: ca(t)[0], (x,))
    assert torch.autograd.gradcheck(lambda t, u: ca(t, u, mask=mask)[0], (x, kv))


@pytest.mark.parametrize("options", [{}, {"bias": False}, {"q_compose": True}, {"retrieval_dim": 5, "value_dim": 3}])
@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("hand_written", [False, True])
def test_fast_competition_equals_autograd_reference(options, cross, hand_written, monkeypatch):
    """retrieval_competition and the folded retrieval-query projection: the same outputs and every gradient."""
    if hand_written:
        monkeypatch.setattr(competition, "AUTOGRAD_MAX_NUMEL", 0)
    torch.manual_seed(14)
    ca = CompositionalAttention(embed_dim=12, searches=3, retrievals=2, **options).to(D)
    x = _x(2, 5, 12)
    args = (x, _x(2, 6, 12, seed=1)) if cross else (x,)
    assert ca._fast_competition()
    results = []
    for fast in (True, False):
        ca._fast_competition = (lambda: True) if fast else (lambda: False)
        ca.zero_grad()
        out, w = ca(*args, need_weights=True)
        (out.square().sum() + w["retrieval"][..., 0].sum()).backward()  # a loss on the choice weights too
        results.append((out, w["retrieval"], {n: p.grad.clone() for n, p in ca.named_parameters() if p.grad is not None}))
    (out, choice, grads), (ref, ref_choice, ref_grads) = results
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(choice, ref_choice, rtol=0, atol=1e-12)
    assert grads.keys() == ref_grads.keys()
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], rtol=0, atol=1e-11, msg=name)


@pytest.mark.parametrize(
    "options",
    [{}, {"bias": False}, {"separate_keys": True}, {"q_compose": True}, {"concat_input": True},
     {"search_dim": 5, "value_dim": 3, "retrieval_dim": 7}, {"separate_keys": True, "bias": False}],
)
def test_parameter_count_formula(options):
    ca = CompositionalAttention(embed_dim=16, searches=4, retrievals=2, **options)
    assert sum(p.numel() for p in ca.parameters()) == attention_parameter_count(16, 4, 2, **options)


def test_mlp_retrieval_and_gumbel_train_mode():
    torch.manual_seed(9)
    ca = CompositionalAttention(embed_dim=8, searches=2, retrievals=3, value_dim=4, retrieval="mlp", gumbel=True, dropout=0.1)
    x = torch.randn(2, 5, 8)
    ca.train()
    out, w = ca(x, need_weights=True)
    torch.testing.assert_close(w["retrieval"].sum(-1), torch.ones(2, 2, 5))
    out.square().sum().backward()
    assert all(p.grad is not None for p in ca.parameters())
    ca.eval()  # eval mode: deterministic softmax, no dropout
    torch.testing.assert_close(ca(x)[0], ca(x)[0])


def test_bf16_close_to_fp32():
    torch.manual_seed(10)
    ca = CompositionalAttention(embed_dim=16, searches=2, retrievals=2)
    x = torch.randn(2, 6, 16)
    ref = ca(x)[0]
    out = ca.to(torch.bfloat16)(x.bfloat16())[0]
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, rtol=0.05, atol=0.05)


@PATHS
def test_torch_compile(path):
    """One graph, traced through autograd and the hand-written kernels; the same outputs and gradients as eager."""
    torch.manual_seed(11)
    ca = _on_path(CompositionalAttention(embed_dim=8, searches=2, retrievals=2), path)
    x = torch.randn(2, 5, 8)
    compiled = torch.compile(ca, backend="aot_eager", fullgraph=True)
    out = compiled(x)[0]
    ref = ca(x)[0]
    torch.testing.assert_close(out, ref)
    params = list(ca.parameters())
    grad = torch.randn_like(out)
    for got, want in zip(torch.autograd.grad(out, params, grad), torch.autograd.grad(ref, params, grad)):
        torch.testing.assert_close(got, want)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="searches"):
        etude.create("attention", "compositional", embed_dim=10, searches=3)
    with pytest.raises(ConfigError, match="retrieval"):
        etude.create("attention", "compositional", embed_dim=8, retrieval="cosine")
    with pytest.raises(ConfigError, match="retrievals"):
        etude.create("attention", "compositional", embed_dim=8, retrievals=0)
    ca = CompositionalAttention(embed_dim=8)
    ca.fixed_retrieval = torch.eye(3)
    with pytest.raises(ValueError, match="fixed_retrieval"):
        ca(torch.randn(1, 3, 8))
    with pytest.raises(TypeError, match="bool"):
        ca(torch.randn(1, 3, 8), mask=torch.ones(3, 3))


@pytest.mark.gpu
def test_cuda_matches_cpu():
    torch.manual_seed(12)
    ca = CompositionalAttention(embed_dim=64, searches=4, retrievals=2)
    x = torch.randn(4, 128, 64)
    mask = torch.rand(4, 128, 128) > 0.2
    ref, wref = ca(x, mask=mask, need_weights=True)
    out, w = ca.cuda()(x.cuda(), mask=mask.cuda(), need_weights=True)
    torch.testing.assert_close(out.cpu(), ref, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(w["retrieval"].cpu(), wref["retrieval"], rtol=1e-3, atol=1e-3)
    out.float().sum().backward()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        half, _ = ca(x.cuda())
    assert torch.isfinite(half).all()
