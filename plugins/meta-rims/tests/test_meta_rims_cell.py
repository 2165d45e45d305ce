"""The RIM cell: selection, exact state copies, independence, gradient blocking, a float64 reference."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import etude
from etude.testing.conformance import ModelConformance

from etude_meta_rims.cell import RIMCell, RIMState, select_active


def _cell(**kw):
    torch.manual_seed(0)
    base = {"input_size": 5, "hidden_size": 6, "num_modules": 4, "active": 2, "input_embed_dim": 8,
            "comm_embed_dim": 8}
    return RIMCell(**{**base, **kw}).eval()


class TestRIMCellConformance(ModelConformance):
    component = ("model", "rim-cell")

    def make_model(self):
        return self.create(input_size=3, hidden_size=4, num_modules=3, active=2, input_embed_dim=8, comm_embed_dim=8)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 2, 3, dtype=dtype, device=device),)


def _unroll(cell, x):
    state, states, infos = None, [], []
    for t in range(x.shape[1]):
        _, state, info = cell(x[:, t:t + 1], state)
        states.append(state)
        infos.append(info)
    return states, infos


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_exactly_k_active_and_inactive_state_copied_bit_for_bit(kind):
    cell = _cell(cell=kind)
    x = torch.randn(7, 9, 5)
    states, infos = _unroll(cell, x)
    prev = cell.initial_state(7)
    changed = 0
    for state, info in zip(states, infos, strict=True):
        active = info["active"]
        assert active.dtype == torch.bool and active.shape == (7, 4)
        assert torch.equal(active.sum(1), torch.full((7,), 2))
        inactive = ~active
        assert torch.equal(state.h[inactive], prev.h[inactive])
        assert torch.equal(state.c[inactive], prev.c[inactive])
        changed += int((state.h[active] != prev.h[active]).any(-1).sum())
        prev = state
    assert changed > 0.9 * 7 * 9 * 2  # active modules do move
    # selection varies: not always the same two modules
    masks = torch.stack([i["active"] for i in infos])
    assert masks.float().mean((0, 1)).min() > 0


def test_communication_off_modules_are_independent():
    cell = _cell(active=4, communication=False)
    x = torch.randn(3, 1, 5)
    h = torch.randn(3, 4, 6)
    c = torch.randn(3, 4, 6)
    _, base, _ = cell(x, RIMState(h, c))
    h2 = h.clone()
    h2[:, 1] += torch.randn(3, 6)
    c2 = c.clone()
    c2[:, 1] += 1.0
    _, moved, _ = cell(x, RIMState(h2, c2))
    others = [0, 2, 3]
    assert torch.equal(moved.h[:, others], base.h[:, others]) and torch.equal(moved.c[:, others], base.c[:, others])
    assert not torch.equal(moved.h[:, 1], base.h[:, 1])
    # with top-k: modules whose activity did not change are bit-identical too
    cell = _cell(active=2, communication=False)
    _, base, info_a = cell(x, RIMState(h, c))
    _, moved, info_b = cell(x, RIMState(h2, c2))
    same = (info_a["active"] == info_b["active"])
    same[:, 1] = False
    assert same.any()
    assert torch.equal(moved.h[same], base.h[same]) and torch.equal(moved.c[same], base.c[same])
    # with communication on, perturbing module 1 reaches the others
    cell = _cell(active=4)
    _, base, _ = cell(x, RIMState(h, c))
    _, moved, _ = cell(x, RIMState(h2, c2))
    assert not torch.equal(moved.h[:, others], base.h[:, others])


class _FixedAttention(nn.Module):
    """Stand-in input attention returning chosen weights (B, H, K, S + 1) and zero reads."""

    def __init__(self, weights):
        super().__init__()
        self.weights = weights

    def forward(self, query, key, value, *, mask=None, need_weights=False):
        return torch.zeros_like(query), self.weights.expand(query.shape[0], *self.weights.shape[1:])


def test_selection_ranks_null_probabilities_not_raw_logits():
    # module logits over (null, input): the null logit is LOWER for module 1, yet its null probability is HIGHER
    logits = torch.tensor([[2.0, 3.0], [0.0, 0.5], [5.0, 4.0], [1.0, -1.0]])
    probs = torch.softmax(logits, -1)
    assert logits[1, 0] < logits[0, 0] and probs[1, 0] > probs[0, 0]
    cell = _cell(active=1)
    cell.input_attention = _FixedAttention(probs.view(1, 1, 4, 2))
    _, _, info = cell(torch.randn(2, 1, 5))
    torch.testing.assert_close(info["null_attention"], probs[:, 0].expand(2, 4))
    assert info["active"].tolist() == [[True, False, False, False]] * 2  # by raw null logit it would be module 1
    assert int(logits[:, 0].argmin()) == 1


def test_equal_null_probabilities_pick_the_lower_index():
    cell = _cell(active=2)
    cell.input_attention = _FixedAttention(torch.full((1, 1, 4, 2), 0.5))
    _, _, info = cell(torch.randn(3, 1, 5))
    assert info["active"].tolist() == [[True, True, False, False]] * 3
    p = torch.tensor([[0.3, 0.1, 0.3, 0.1, 0.3, 0.3]])
    assert select_active(p, 3).tolist() == [[True, True, False, True, False, False]]
    assert select_active(p, 6).all()


def test_gradient_to_inactive_cell_output_through_communication_is_zero():
    for blocked in (True, False):
        cell = _cell(active=2, blocked_grad=blocked)
        captured = {}

        def keep(module, args, output):
            h_new = output[0]
            h_new.retain_grad()
            captured["h_new"] = h_new

        handle = cell.rnn.register_forward_hook(keep)
        h0 = torch.randn(4, 4, 6)
        _, state, info = cell(torch.randn(4, 1, 5), RIMState(h0, torch.randn(4, 4, 6)))
        handle.remove()
        (state.h * torch.randn_like(state.h)).sum().backward()
        grad = captured["h_new"].grad
        inactive = ~info["active"]
        if blocked:
            assert torch.equal(grad[inactive], torch.zeros_like(grad[inactive]))
            assert grad[info["active"]].abs().sum() > 0
        else:  # the test can fail: without blocking, communication carries gradient to inactive modules
            assert grad[inactive].abs().sum() > 0


def test_all_active_equals_group_cell_plus_communication():
    cell = _cell(active=4)
    x = torch.randn(3, 2, 5)
    h, c = torch.randn(3, 4, 6), torch.randn(3, 4, 6)
    _, state, info = cell(x, RIMState(h, c))
    assert info["active"].all()
    keys = cell.slot_embed(torch.cat([torch.zeros(3, 1, 5), x], 1))
    read, _ = cell.input_attention(cell.query(h), keys, keys)
    h1, c1 = cell.rnn(read, (h, c))
    out, _ = cell.comm_attention(cell.comm_tokens(h1))
    expected = h1 + torch.sigmoid(cell.comm_gate(out)) * torch.tanh(cell.comm_out(out))
    torch.testing.assert_close(state.h, expected, rtol=0, atol=1e-6)
    assert torch.equal(state.c, c1)


# -- an independent float64 reference, one module at a time -------------------------------
def _mha(mech, q_in, k_in, heads):
    """Multi-head attention from its parameters for ONE query row q_in (E,) over keys k_in (T, E)."""
    e = q_in.shape[-1]
    d = e // heads
    q = mech.q_proj.weight @ q_in + mech.q_proj.bias
    k = k_in @ mech.k_proj.weight.T + mech.k_proj.bias
    v = k_in @ mech.v_proj.weight.T + mech.v_proj.bias
    outs, probs = [], []
    for head in range(heads):
        sl = slice(head * d, (head + 1) * d)
        scores = torch.stack([q[sl] @ k[j, sl] for j in range(k.shape[0])]) / math.sqrt(d)
        p = torch.exp(scores - scores.max())
        p = p / p.sum()
        probs.append(p)
        outs.append(sum(p[j] * v[j, sl] for j in range(k.shape[0])))
    out = torch.cat(outs)
    if isinstance(mech.out_proj, nn.Linear):
        out = mech.out_proj.weight @ out + mech.out_proj.bias
    return out, torch.stack(probs).mean(0)


def _reference_step(cell, slots, h, c):
    k_mod, active_n = cell.num_modules, cell.active
    b = slots.shape[0]
    h_out, c_out = h.clone(), c.clone()
    masks = torch.zeros(b, k_mod, dtype=torch.bool)
    for n in range(b):
        keys = torch.cat([torch.zeros(1, slots.shape[-1], dtype=slots.dtype), slots[n]]) @ cell.slot_embed.weight.T \
            + cell.slot_embed.bias
        reads, nulls = [], []
        for k in range(k_mod):
            q = h[n, k] @ cell.query.weight[k] + cell.query.bias[k]
            read, p = _mha(cell.input_attention, q, keys, 1)
            reads.append(read)
            nulls.append(float(p[0]))
        order = sorted(range(k_mod), key=lambda i: (nulls[i], i))[:active_n]
        masks[n, order] = True
        new_h, new_c = [], []
        for k in range(k_mod):
            r = cell.rnn
            gates = reads[k] @ r.weight_ih[k] + r.bias_ih[k] + h[n, k] @ r.weight_hh[k] + r.bias_hh[k]
            i, f, g, o = gates.chunk(4)
            ck = torch.sigmoid(f) * c[n, k] + torch.sigmoid(i) * torch.tanh(g)
            new_c.append(ck)
            new_h.append(torch.sigmoid(o) * torch.tanh(ck))
        tokens = torch.stack([new_h[k] @ cell.comm_tokens.weight[k] + cell.comm_tokens.bias[k] for k in range(k_mod)])
        for k in order:
            out, _ = _mha(cell.comm_attention, tokens[k], tokens, 4)
            upd = torch.sigmoid(cell.comm_gate.weight @ out + cell.comm_gate.bias) * \
                torch.tanh(cell.comm_out.weight @ out + cell.comm_out.bias)
            h_out[n, k] = new_h[k] + upd
            c_out[n, k] = new_c[k]
    return h_out, c_out, masks


def test_batched_cell_equals_float64_loop_over_modules_reference():
    cell = _cell(num_modules=5, active=3).double()
    x = torch.randn(4, 3, 2, 5, dtype=torch.float64)
    state = RIMState(torch.randn(4, 5, 6, dtype=torch.float64), torch.randn(4, 5, 6, dtype=torch.float64))
    h_ref, c_ref = state
    with torch.no_grad():
        for t in range(3):
            _, state, info = cell(x[:, t], state)
            h_ref, c_ref, mask = _reference_step(cell, x[:, t], h_ref, c_ref)
            assert torch.equal(info["active"], mask)
            torch.testing.assert_close(state.h, h_ref, rtol=0, atol=1e-10)
            torch.testing.assert_close(state.c, c_ref, rtol=0, atol=1e-10)


def test_runs_with_compositional_input_attention():
    pytest.importorskip("etude_compositional_attention")
    cell = _cell(input_attention="compositional")
    _, state, info = cell(torch.randn(2, 3, 5))
    assert torch.equal(info["active"].sum(1), torch.full((2,), 2)) and torch.isfinite(state.h).all()
    torch.testing.assert_close(info["input_attention"].sum(-1), torch.ones(2, 4))


def test_slot_mask_hides_slots_but_never_the_null_slot():
    cell = _cell()
    x = torch.randn(2, 3, 5)
    mask = torch.tensor([[True, False, False], [False, False, False]])
    _, _, info = cell(x, slot_mask=mask)
    probs = info["input_attention"]
    assert torch.equal(probs[:, :, 2:], torch.zeros_like(probs[:, :, 2:]))
    torch.testing.assert_close(probs[1, :, 0], torch.ones(4))


def test_parameter_groups_are_disjoint_and_cover_the_cell():
    cell = _cell()
    theta, phi = {id(p) for p in cell.module_parameters()}, {id(p) for p in cell.attention_parameters()}
    assert theta and phi and not theta & phi and theta | phi == {id(p) for p in cell.parameters()}
    assert all(p.shape[0] == 4 for p in cell.module_parameters())


def test_bad_inputs_are_named():
    cell = _cell()
    with pytest.raises(ValueError, match="slots must be"):
        cell(torch.randn(2, 5))
    with pytest.raises(ValueError, match="state.h"):
        cell(torch.randn(2, 1, 5), RIMState(torch.zeros(2, 3, 6), torch.zeros(2, 3, 6)))
    with pytest.raises(ValueError, match="slot_mask"):
        cell(torch.randn(2, 1, 5), slot_mask=torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(etude.ConfigError, match="active"):
        RIMCell(input_size=3, num_modules=2, active=3)
    with pytest.raises(etude.ConfigError, match="cell"):
        RIMCell(input_size=3, cell="rnn")
