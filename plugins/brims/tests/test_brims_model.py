"""BRIMs: conformance, stacked-RIMs equivalence, time indexing, slots, presets, use_inactive, top-k counts."""

from __future__ import annotations

import pytest
import torch

from etude.config import FieldValueError
from etude.testing.conformance import ModelConformance

from etude_brims.model import BRIMs
from etude_brims.usage import layer_usage
from etude_meta_rims.cell import RIMCell


class TestBRIMsConformance(ModelConformance):
    component = ("model", "brims")

    def make_model(self):
        return self.create(input_size=3, output_size=4, hidden_size=8, num_modules=4, active=2, comm_embed_dim=8,
                           cell_options={"input_embed_dim": 8})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 4, 3, dtype=dtype, device=device),)


def _brims(seed=0, **kw):
    torch.manual_seed(seed)
    base = {"input_size": 3, "output_size": 5, "num_layers": 2, "hidden_size": 12, "num_modules": 4, "active": 2,
            "dropout": 0.0, "readout": "all", "comm_embed_dim": 8, "cell_options": {"input_embed_dim": 8}}
    return BRIMs(**{**base, **kw}).eval()


def test_all_top_down_false_equals_hand_driven_stack_of_rim_cells():
    model = _brims(top_down="none", num_layers=3, hidden_size=(12, 8, 12), num_modules=(4, 2, 3), active=(2, 1, 2))
    kw = {"comm_embed_dim": 8, "input_embed_dim": 8, "input_attention_options": {"num_heads": 4,
                                                                                  "output_projection": False}}
    cells = [RIMCell(input_size=12, hidden_size=3, num_modules=4, active=2, **kw),
             RIMCell(input_size=8, hidden_size=4, num_modules=2, active=1, **kw),
             RIMCell(input_size=12, hidden_size=4, num_modules=3, active=2, **kw)]
    for cell, own in zip(cells, model.cells, strict=True):
        cell.load_state_dict(own.state_dict())
        cell.eval()
    assert len(model.top_down) == 0
    x = torch.randn(4, 6, 3)
    logits = model(x)
    states, outs = [None] * 3, []
    encoded = model.bottom_up[0](x)  # the model encodes the whole sequence at once
    for t in range(6):
        below = encoded[:, t]
        for layer, cell in enumerate(cells):
            slot = below if layer == 0 else model.bottom_up[layer](below)
            h, states[layer], _ = cell(slot.unsqueeze(1), states[layer])
            below = h.flatten(1)
        outs.append(model.decoder(below))
    assert torch.equal(logits, torch.stack(outs, 1))


def test_no_same_step_leak_top_down_reads_step_t_minus_1():
    a = _brims()
    b = _brims()
    with torch.no_grad():  # change only layer 2 (index 1): its cell and its bottom-up projection
        for p in list(b.cells[1].parameters()) + list(b.bottom_up[1].parameters()):
            p.add_(0.5 * torch.randn_like(p))
    x = torch.randn(3, 5, 3)
    _, ta = a(x, return_trace=True)
    _, tb = b(x, return_trace=True)
    ha = ta["layers"][0]["slot_attention"]
    hb = tb["layers"][0]["slot_attention"]
    # the layer above at step t is only read from step t + 1 on: layer 0 at t = 0 is unchanged
    assert torch.equal(ha[0], hb[0])
    assert not torch.allclose(ha[1], hb[1])
    # through the states: layer 0's state after step 0 is equal, after step 1 different
    for t in range(2):
        _, sa_out = a(x[:, : t + 1], return_trace=True)
        _, sb_out = b(x[:, : t + 1], return_trace=True)
        same = torch.equal(sa_out["state"][0].h, sb_out["state"][0].h)
        assert same == (t == 0)


def test_without_top_down_layer_above_never_changes_layer_below():
    a, b = _brims(top_down="none"), _brims(top_down="none")
    with torch.no_grad():
        for p in b.cells[1].parameters():
            p.add_(torch.randn_like(p))
    x = torch.randn(3, 5, 3)
    assert torch.equal(a(x, return_trace=True)[1]["state"][0].h, b(x, return_trace=True)[1]["state"][0].h)


@pytest.mark.parametrize("top_down", ["paper", "official", "none"])
def test_causality_future_inputs_never_change_the_past(top_down):
    model = _brims(top_down=top_down)
    x = torch.randn(3, 7, 3)
    y = x.clone()
    y[:, 4:] += torch.randn_like(y[:, 4:])
    la, lb = model(x), model(y)
    assert torch.equal(la[:, :4], lb[:, :4])
    assert not torch.allclose(la[:, 4:], lb[:, 4:])


def test_input_attention_keys_are_null_bottom_up_top_down():
    model = _brims(num_layers=3, hidden_size=12)
    x = torch.randn(2, 4, 3)
    _, trace = model(x, return_trace=True)
    layers = trace["layers"]
    assert [layer["slots"] for layer in layers] == [("null", "bottom-up", "top-down")] * 2 + [("null", "bottom-up")]
    for layer in layers:
        probs = layer["slot_attention"]
        assert probs.shape == (4, 2, 4, len(layer["slots"]))
        torch.testing.assert_close(probs.sum(-1), torch.ones(4, 2, 4))
        assert layer["slot_mass"].shape == (4, 2, len(layer["slots"]))
        assert bool((probs > 0).all())  # every key gets mass: all slots are really read
        torch.testing.assert_close(layer["null_attention"], probs[..., 0])


def test_official_preset_only_layer0_reads_top_layer_previous_state():
    model = _brims(top_down="official", num_layers=3)
    assert model.config.top_down_flags == (True, False, False) and model.source == "top"
    assert list(model.top_down) == ["0"] and model.top_down["0"].in_features == 12
    x = torch.randn(2, 4, 3)
    top = model.num_layers - 1
    # perturb the top layer's state before step 0: only layer 0 reacts at step 0
    base = model.initial_state(2)
    bumped = list(base)
    bumped[top] = type(base[top])(base[top].h + 1.0, base[top].c)
    _, ta = model(x[:, :1], base, return_trace=True)
    _, tb = model(x[:, :1], bumped, return_trace=True)
    assert not torch.allclose(ta["layers"][0]["slot_attention"], tb["layers"][0]["slot_attention"])
    # a perturbation of the middle layer's previous h reaches nobody's input attention at step 0 but its own
    mid = list(base)
    mid[1] = type(base[1])(base[1].h + 1.0, base[1].c)
    _, tm = model(x[:, :1], mid, return_trace=True)
    assert torch.equal(ta["layers"][0]["slot_attention"], tm["layers"][0]["slot_attention"])


def test_official_preset_with_one_layer_reads_its_own_previous_state():
    model = _brims(top_down="official", num_layers=1)
    assert model.config.top_down_flags == (True,) and model.source_layer(0) == 0
    x = torch.randn(2, 4, 3)
    logits = model(x)
    state, outs = None, []
    cell = model.cells[0]
    encoded = model.bottom_up[0](x)
    for t in range(4):
        previous = cell.initial_state(2) if state is None else state
        slots = torch.stack([encoded[:, t], model.top_down["0"](previous.h.flatten(1))], dim=1)
        h, state, _ = cell(slots, previous)
        outs.append(model.decoder(h.flatten(1)))
    assert torch.equal(logits, torch.stack(outs, 1))
    assert BRIMs.official(input_size=3, output_size=2, num_layers=1, hidden_size=8, num_modules=4,
                          active=2).config.top_down == "official"


def test_use_inactive_false_zeroes_inactive_lower_modules_in_the_slot():
    on, off = _brims(top_down="none"), _brims(top_down="none", use_inactive=False)
    off.load_state_dict(on.state_dict())
    x = torch.randn(3, 4, 3)
    _, ton = on(x, return_trace=True)
    _, toff = off(x, return_trace=True)
    # layer 0 does not depend on the flag
    assert torch.equal(ton["layers"][0]["active"], toff["layers"][0]["active"])
    assert torch.equal(ton["state"][0].h, toff["state"][0].h)
    # hand-compute layer 1's first step with the zeroed slot
    h0, st0, info0 = off.cells[0](off.bottom_up[0](x[:, :1]))
    masked = (h0 * info0["active"].unsqueeze(-1)).flatten(1)
    assert bool((masked.view(3, 4, 3)[~info0["active"]] == 0).all())
    h1, _, _ = off.cells[1](off.bottom_up[1](masked).unsqueeze(1))
    _, t1 = off(x[:, :1], return_trace=True)
    assert torch.equal(t1["state"][1].h, h1)
    h1_on, _, _ = on.cells[1](on.bottom_up[1](h0.flatten(1)).unsqueeze(1))
    _, t1_on = on(x[:, :1], return_trace=True)
    assert torch.equal(t1_on["state"][1].h, h1_on)
    # at t = 0 the previous state is zero, so inactive modules of layer 0 hold zeros anyway; from t = 1 on the
    # flag changes layer 1
    assert not torch.allclose(ton["state"][1].h, toff["state"][1].h)


def test_exactly_k_active_per_layer_and_usage_metrics_run():
    model = _brims(num_layers=2, hidden_size=(12, 12), num_modules=(4, 6), active=(2, 3))
    x = torch.randn(8, 5, 3)
    _, trace = model(x, return_trace=True)
    assert torch.equal(trace["layers"][0]["active"].sum(-1), torch.full((5, 8), 2))
    assert torch.equal(trace["layers"][1]["active"].sum(-1), torch.full((5, 8), 3))
    reports = layer_usage(trace, torch.arange(8) % 2, 2)
    assert [tuple(r["usage"].shape) for r in reports] == [(2, 4), (2, 6)]
    for r in reports:
        assert abs(float(r["usage"].sum()) - 1) < 1e-9 and 0 <= r["inverse_mi"] <= 1
    with pytest.raises(ValueError, match="factor must be"):
        layer_usage(trace, torch.zeros(3, dtype=torch.long), 2)


def test_readout_from_top_layer_and_last_equals_all():
    model = _brims()
    x = torch.randn(2, 5, 3)
    logits, trace = model(x, return_trace=True)
    torch.testing.assert_close(logits[:, -1], model.decoder(trace["state"][-1].h.flatten(1)))
    last = _brims(readout="last")
    assert torch.equal(last(x), logits[:, -1])


def test_top_down_attention_gets_gradients_and_any_registered_mechanism():
    model = _brims(top_down="paper")
    model.train()
    model(torch.randn(2, 4, 3)).sum().backward()
    assert model.top_down["0"].weight.grad is not None and model.top_down["0"].weight.grad.abs().sum() > 0
    other = _brims(input_attention_options={"num_heads": 2})
    assert other.cells[0].input_attention.num_heads == 2


@pytest.mark.parametrize(("kw", "field"), [
    ({"hidden_size": 10}, "hidden_size"),
    ({"active": 5}, "active"),
    ({"top_down": (True, True)}, "top_down"),
    ({"top_down": (True,)}, "top_down"),
    ({"top_down": "sideways"}, "top_down"),
    ({"top_down": "official", "top_down_source": "above"}, "top_down_source"),
    ({"hidden_size": (12, 12, 12)}, "hidden_size"),
    ({"cell_options": {"hidden_size": 3}}, "cell_options"),
    ({"cell_options": {"no_such": 1}}, "cell_options"),
])
def test_bad_config_names_the_field(kw, field):
    with pytest.raises((FieldValueError, ValueError), match=field):
        _brims(**kw)


def test_bad_inputs_are_clear():
    model = _brims()
    with pytest.raises(ValueError, match="input_size=3"):
        model(torch.randn(2, 4, 5))
    with pytest.raises(ValueError, match="float"):
        model(torch.ones(2, 4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="one per layer"):
        model(torch.randn(2, 4, 3), state=[None])


@pytest.mark.gpu
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    model = _brims()
    x = torch.randn(3, 5, 3)
    ref = model(x)
    torch.testing.assert_close(model.cuda()(x.cuda()).cpu(), ref, atol=1e-4, rtol=1e-4)
