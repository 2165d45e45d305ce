"""Set (MHA) and sequence (RNN) rule tasks and model families: references written from the formulas, routing, conformance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

import etude
from etude.testing.conformance import ModelConformance, TaskConformance

from etude_modularity.mha import intermediate_width
from etude_modularity.models import GTModular, Modular, ModularOp, Monolithic
from etude_modularity.rnn import module_hidden_size
from etude_modularity.sequence_task import RuleSequenceRegression
from etude_modularity.set_task import RuleSetRegression
from etude_modularity.tasks import RuleRegression

CLASSES = (Monolithic, Modular, ModularOp, GTModular)


# -- tasks ------------------------------------------------------------------------------
class TestRuleSetRegressionConformance(TaskConformance):
    component = ("task", "rule-regression-set")

    def make_task(self, seed):
        return self.create(seed=seed, num_train=16, num_test=8, num_ood=8)


class TestRuleSetRegressionSearch2Conformance(TaskConformance):
    component = ("task", "rule-regression-set")

    def make_task(self, seed):
        return self.create(seed=seed, search_version=2, num_train=16, num_test=8, num_ood=8)


class TestRuleSequenceRegressionConformance(TaskConformance):
    component = ("task", "rule-regression-sequence")

    def make_task(self, seed):
        return self.create(seed=seed, dim=4, num_train=16, num_test=8, num_ood=8)


def _set_reference(task, x):
    """Brute force over every set, element and candidate partner (python loops, float64)."""
    c = task.config
    k = task.features_per_rule
    data, rule = x[..., :k * c.rules].double().numpy(), x[..., k * c.rules:].argmax(-1).numpy()
    alpha, beta = (v.numpy() for v in task.coefficients())
    n, t, _ = data.shape
    out = np.zeros((n, t))
    for i, j in itertools.product(range(n), range(t)):
        r = rule[i, j]
        others = [o for o in range(t) if o != j]
        if k == 4:
            j1 = min(others, key=lambda o: abs(data[i, o, 4 * r] - data[i, j, 4 * r]))
            j2 = min(others, key=lambda o: abs(data[i, o, 4 * r + 1] - data[i, j, 4 * r + 1]))
            u, v = data[i, j1, 4 * r + 2], data[i, j2, 4 * r + 3]
        else:
            j1 = max(others, key=lambda o: float(data[i, o, 6 * r:6 * r + 2] @ data[i, j, 6 * r:6 * r + 2]))
            j2 = max(others, key=lambda o: float(data[i, o, 6 * r + 2:6 * r + 4] @ data[i, j, 6 * r + 2:6 * r + 4]))
            u, v = data[i, j1, 6 * r + 4], data[i, j2, 6 * r + 5]
        if c.version == "data_v2":
            out[i, j] = alpha[r] * u + beta[r] * v
        else:
            out[i, j] = (u + v, u - v, u * v, min(u, v), max(u, v))[r]
    return torch.from_numpy(out)


@pytest.mark.parametrize("search_version,version", [(1, "data_v2"), (2, "data_v2"), (1, "data_v1")])
def test_set_targets_equal_a_brute_force_search(search_version, version):
    task = RuleSetRegression(rules=3, length=6, num_train=12, search_version=search_version, version=version)
    split = task.split("train")
    assert split.inputs.shape == (12, 6, task.features_per_rule * 3 + 3) and split.targets.shape == (12, 6)
    assert torch.equal(split.inputs[..., -3:].argmax(-1), split.info["rule"])
    torch.testing.assert_close(split.targets.double(), _set_reference(task, split.inputs), atol=1e-5, rtol=0)
    if search_version == 2:  # search features are unit 2-vectors
        q = split.inputs[..., :4].reshape(12, 6, 2, 2)
        torch.testing.assert_close(q.norm(dim=-1), torch.ones(12, 6, 2), atol=1e-6, rtol=0)


def test_set_coefficients_belong_to_the_data_seed_and_ood_rescales_inputs_only():
    task = RuleSetRegression(seed=3, rules=4)
    ref = RuleRegression(seed=3, rules=4).coefficients()
    for a, b in zip(task.coefficients(), ref, strict=True):
        assert torch.equal(a, b)
    torch.manual_seed(1)
    first = RuleSetRegression(seed=3, num_train=8).split("train")
    torch.manual_seed(2)
    second = RuleSetRegression(seed=3, num_train=8).split("train")
    assert torch.equal(first.inputs, second.inputs) and torch.equal(first.targets, second.targets)
    same, ood = task.sample(10, stream=5), task.sample(10, ood=True, stream=5)
    torch.testing.assert_close(ood.inputs[..., :16], 2 * same.inputs[..., :16])
    assert torch.equal(ood.inputs[..., 16:], same.inputs[..., 16:])
    torch.testing.assert_close(ood.targets, 2 * same.targets, atol=1e-5, rtol=0)  # same partners, values doubled


def test_set_task_errors():
    with pytest.raises(etude.ConfigError, match="length"):
        RuleSetRegression(length=1)
    with pytest.raises(etude.ConfigError, match="rules"):
        RuleSetRegression(rules=6, version="data_v1")


@pytest.mark.parametrize("order", [1, 2])
def test_sequence_states_equal_the_recurrence(order):
    task = RuleSequenceRegression(rules=3, dim=4, order=order, length=7, num_train=5)
    split = task.split("train")
    a, b = (m.numpy() for m in task.dynamics())
    x, rule = split.inputs[..., :4].double().numpy(), split.info["rule"].numpy()
    states = np.zeros((5, 7, 4))
    for i, t in itertools.product(range(5), range(7)):
        r = rule[i, t]
        s = x[i, t] @ b[r]
        for o in range(1, order + 1):
            if t - o >= 0:
                s = s + states[i, t - o] @ a[r, o - 1]
        states[i, t] = s
    torch.testing.assert_close(split.targets.double(), torch.from_numpy(states), atol=1e-5, rtol=1e-5)
    assert torch.equal(split.inputs[..., 4:].argmax(-1), split.info["rule"])
    # 1/sqrt(D) scaling of the dynamics, drawn from the data seed only
    assert abs(float(task.dynamics()[1].std()) - 0.5) < 0.2
    torch.manual_seed(7)
    assert torch.equal(RuleSequenceRegression(rules=3, dim=4, order=order).dynamics()[0], task.dynamics()[0])
    assert not torch.equal(RuleSequenceRegression(seed=1, rules=3, dim=4, order=order).dynamics()[0],
                           task.dynamics()[0])


def test_sequence_ood_rescales_inputs_and_recomputes_states():
    task = RuleSequenceRegression(rules=2, dim=3)
    same, ood = task.sample(6, stream=4), task.sample(6, ood=True, stream=4)
    torch.testing.assert_close(ood.inputs[..., :3], 2 * same.inputs[..., :3])
    assert torch.equal(ood.inputs[..., 3:], same.inputs[..., 3:])
    torch.testing.assert_close(ood.targets, 2 * same.targets, atol=1e-5, rtol=1e-5)  # linear dynamics


# -- models -----------------------------------------------------------------------------
def _set_inputs(n=4, rules=2, length=5, dtype=torch.float32, device="cpu"):
    x = RuleSetRegression(rules=rules, length=length, num_train=n).split("train").inputs
    return x.to(dtype=dtype, device=device)


def _sequence_inputs(n=4, rules=2, length=5, dim=3, dtype=torch.float32, device="cpu"):
    x = RuleSequenceRegression(rules=rules, length=length, dim=dim, num_train=n).split("train").inputs
    return x.to(dtype=dtype, device=device)


class _SetSuite(ModelConformance):
    def make_model(self):
        return self.create(family="mha", rules=2, encoder_dim=8, in_features=10)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (_set_inputs(dtype=dtype, device=device),)


class _SequenceSuite(ModelConformance):
    def make_model(self):
        return self.create(family="rnn", rules=2, encoder_dim=8, in_features=5, out_features=3)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (_sequence_inputs(dtype=dtype, device=device),)


class TestSetMonolithicConformance(_SetSuite):
    component = ("model", "monolithic")


class TestSetModularConformance(_SetSuite):
    component = ("model", "modular")


class TestSetModularOpConformance(_SetSuite):
    component = ("model", "modular-op")


class TestSetGTModularConformance(_SetSuite):
    component = ("model", "gt-modular")


class TestSequenceMonolithicConformance(_SequenceSuite):
    component = ("model", "monolithic")


class TestSequenceModularConformance(_SequenceSuite):
    component = ("model", "modular")


class TestSequenceModularOpConformance(_SequenceSuite):
    component = ("model", "modular-op")


class TestSequenceGTModularConformance(_SequenceSuite):
    component = ("model", "gt-modular")


def _set_modular_reference(net, x):
    """Per-head softmax attention with the diagonal masked, then every module's MLP, by explicit loops."""
    body, c = net.body, net.config
    b, t, _ = x.shape
    e, m, heads, hd = c.encoder_dim, c.num_modules, c.heads, body.head_dim
    s = body.encoder(x.reshape(b * t, -1)).view(b, t, e)
    att = body.attention
    q, k, v = (nn.functional.linear(s, p.weight, p.bias) for p in (att.q_proj, att.k_proj, att.v_proj))
    head_out = []
    for h in range(m * heads):
        sl = slice(h * hd, (h + 1) * hd)
        scores = q[..., sl] @ k[..., sl].transpose(1, 2) / hd ** 0.5
        scores = scores.masked_fill(torch.eye(t, dtype=torch.bool), float("-inf"))
        head_out.append(torch.softmax(scores, -1) @ v[..., sl])
    outs, scores = [], []
    for j in range(m):
        skip = s @ body.skip.weight[j] + body.skip.bias[j]
        inp = torch.cat([*head_out[j * heads:(j + 1) * heads], skip], -1)
        hidden = torch.relu(inp @ body.modules_in.weight[j] + body.modules_in.bias[j])
        out = hidden @ body.modules_out.weight[j] + body.modules_out.bias[j]
        if body.routing == "joint":
            out, score = out[..., :-1], out[..., -1]
            scores.append(score)
        outs.append(out)
    op = x[..., -c.rules:]
    if body.routing == "joint":
        p = torch.softmax(torch.stack(scores, -1), -1)
    elif body.routing == "op":
        p = torch.softmax(body.scorer(op.reshape(b * t, -1)).view(b, t, m), -1)
    else:
        p = op
    h = sum(p[..., j:j + 1] * outs[j] for j in range(m))
    return body.decoder(h.reshape(b * t, e)).view(b, t), p


@pytest.mark.parametrize("cls", [Modular, ModularOp, GTModular])
def test_set_modular_equals_reference_float64(cls):
    torch.manual_seed(0)
    net = cls(family="mha", rules=3, encoder_dim=12, heads=2, in_features=15).double()
    x = _set_inputs(n=3, rules=3, length=6, dtype=torch.float64)
    y, p = net(x, return_routing=True)
    y_ref, p_ref = _set_modular_reference(net, x)
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(p, p_ref, atol=1e-12, rtol=0)


def test_set_monolithic_equals_reference_float64():
    torch.manual_seed(0)
    net = Monolithic(family="mha", rules=2, encoder_dim=8, in_features=10).double()
    x = _set_inputs(n=3, dtype=torch.float64)
    body = net.body
    b, t, _ = x.shape
    s = body.encoder(x.reshape(b * t, -1)).view(b, t, -1)
    mha = nn.MultiheadAttention(8, body.total_heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        att = body.attention
        mha.in_proj_weight.copy_(torch.cat([att.q_proj.weight, att.k_proj.weight, att.v_proj.weight]))
        mha.in_proj_bias.copy_(torch.cat([att.q_proj.bias, att.k_proj.bias, att.v_proj.bias]))
        mha.out_proj.weight.copy_(torch.eye(8, dtype=torch.float64))
        mha.out_proj.bias.zero_()
    out, _ = mha(s, s, s, attn_mask=torch.eye(t, dtype=torch.bool))  # torch: True = may NOT attend
    h = body.output(torch.cat([out, body.skip(s)], -1).reshape(b * t, -1))
    torch.testing.assert_close(net(x), body.decoder(h).view(b, t), atol=1e-12, rtol=0)


def _sequence_reference(net, x):
    """M separate torch cells with copied weights, the shared routed state, an explicit loop over modules."""
    body, c = net.body, net.config
    m, hid = c.num_modules, body.hidden
    torch_cell = nn.LSTMCell if c.cell == "lstm" else nn.GRUCell
    cells = []
    for j in range(m):
        cell = torch_cell(c.encoder_dim, hid, bias=False, dtype=x.dtype)
        with torch.no_grad():
            cell.weight_ih.copy_(body.rnn.weight_ih[j].t())
            cell.weight_hh.copy_(body.rnn.weight_hh[j].t())
        cells.append(cell)
    b, steps, _ = x.shape
    s = body.encoder(x.reshape(b * steps, -1)).view(b, steps, -1)
    h = x.new_zeros(b, hid)
    cs = torch.zeros_like(h)
    states, routing = [], []
    for t in range(steps):
        cand, scores = [], []
        for j, cell in enumerate(cells):
            cand.append(cell(s[:, t], (h, cs)) if c.cell == "lstm" else cell(s[:, t], h))
            if body.routing == "joint":
                pre = torch.cat([s[:, t] @ cell.weight_ih.t(), h @ cell.weight_hh.t()], -1)
                assert body.scorer.bias is None  # bias-free, as the official cell
                scores.append(torch.relu(pre) @ body.scorer.weight[j][:, 0])
        op = x[:, t, -c.rules:]
        if body.routing == "joint":
            p = torch.softmax(torch.stack(scores, -1), -1)
        elif body.routing == "op":
            p = torch.softmax(body.scorer(op), -1)
        else:
            p = op
        if c.cell == "lstm":
            h = sum(p[:, j:j + 1] * cand[j][0] for j in range(m))
            cs = sum(p[:, j:j + 1] * cand[j][1] for j in range(m))
        else:
            h = sum(p[:, j:j + 1] * cand[j] for j in range(m))
        states.append(h)
        routing.append(p)
    hs = torch.stack(states, 1)
    return body.decoder(hs.reshape(b * steps, -1)).view(b, steps, -1), torch.stack(routing, 1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("cls", [Modular, ModularOp, GTModular])
def test_sequence_modular_equals_separate_torch_cells_float64(cls, cell):
    torch.manual_seed(0)
    net = cls(family="rnn", rules=3, encoder_dim=6, cell=cell, in_features=7, out_features=4).double()
    x = _sequence_inputs(n=3, rules=3, length=5, dim=4, dtype=torch.float64)
    y, p = net(x, return_routing=True)
    y_ref, p_ref = _sequence_reference(net, x)
    torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(p, p_ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("family,make", [("mha", _set_inputs), ("rnn", _sequence_inputs)])
def test_routing_kinds(family, make):
    x = make(n=6)
    kw = {"in_features": x.shape[-1]} | ({"out_features": 3} if family == "rnn" else {})
    _, p = GTModular(family=family, rules=2, encoder_dim=8, **kw)(x, return_routing=True)
    assert torch.equal(p, x[..., -2:])
    y = x.clone()
    y[..., :-2] = torch.randn_like(y[..., :-2])
    op_net, joint = ModularOp(family=family, rules=2, encoder_dim=8, **kw), Modular(family=family, rules=2, encoder_dim=8, **kw)
    assert torch.equal(op_net(x, return_routing=True)[1], op_net(y, return_routing=True)[1])
    assert not torch.allclose(joint(x, return_routing=True)[1], joint(y, return_routing=True)[1])
    torch.testing.assert_close(joint(x, return_routing=True)[1].sum(-1), torch.ones(6, x.shape[1]))
    assert Monolithic(family=family, rules=2, encoder_dim=8, **kw)(x, return_routing=True)[1] is None


def test_parameter_counts_stay_comparable():
    for family, kw in (("mha", {"in_features": 20}), ("rnn", {"in_features": 36, "out_features": 32})):
        counts = {cls.__name__: cls(family=family, rules=4, encoder_dim=32, **kw).num_parameters() for cls in CLASSES}
        assert max(counts.values()) / min(counts.values()) < 1.15, (family, counts)


def test_module_widths_solve_the_official_equations():
    e, d = 32, 64
    for m in (2, 4, 8, 16, 32):
        h = module_hidden_size(e, d, m, gates=4)
        quad = lambda w: (4 * m + 1) * w * w + (4 * m * e + 1) * w  # noqa: E731
        target = 5 * d * d + d * (4 * e + 1)
        assert quad(h) <= target < quad(h + 1), (m, h)
    # the official MHA width at dim 128, att_dim 512, 2 heads, 4 rules: floor(2*128*(8*640+512) / (4*(1536+1024)))
    assert intermediate_width(128, 512, 2, 4) == (2 * 128 * (8 * 640 + 512)) // (4 * (512 * 3 + 8 * 128))


def test_family_config_errors():
    with pytest.raises(etude.ConfigError, match="encoder_dim"):
        Modular(family="mha", rules=4, encoder_dim=12, in_features=20)
    with pytest.raises(etude.ConfigError, match="in_features"):
        Modular(family="rnn", rules=4)
    with pytest.raises(ValueError, match=r"\(B, T >= 2, F = 10\)"):
        Modular(family="mha", rules=2, encoder_dim=8, in_features=10)(torch.randn(3, 10))
    with pytest.raises(ValueError, match="family='mha'"):
        Modular(rules=2, encoder_dim=8)(torch.randn(3, 5, 4))


def test_supervised_loop_fills_in_per_element_widths():
    """procedure/supervised fills in per-example totals (T x F, T x D) and input_shape; the models divide by T."""
    task = RuleSequenceRegression(rules=2, dim=3, length=4, num_train=32, num_test=8, num_ood=8)
    proc = etude.create("procedure", "supervised", model="modular", model_options={"rules": 2, "encoder_dim": 8,
                        "family": "rnn"}, loss="l1", optimizer="adam", lr=1e-3, epochs=1, batch_size=16)
    net = proc.run(task, seed=0).models["model"]
    assert net.config.token_features == 5 and net.config.token_outputs == 3
    assert net(task.split("test").inputs).shape == (8, 4, 3)
