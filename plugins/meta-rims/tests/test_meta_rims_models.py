"""RIMs and the LSTM baseline: conformance, traces, parameter groups, equal-size matching."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.testing.conformance import ModelConformance

from etude_meta_rims.cell import RIMCell
from etude_meta_rims.models import LSTMBaseline, RIMs, lstm_parameter_count, match_parameters


class TestRIMsConformance(ModelConformance):
    component = ("model", "rims")

    def make_model(self):
        return self.create(input_size=3, output_size=4, hidden_size=4, num_modules=3, active=2, encoder_dim=5,
                           cell_options={"input_embed_dim": 8, "comm_embed_dim": 8})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 4, 3, dtype=dtype, device=device),)


class TestLSTMConformance(ModelConformance):
    component = ("model", "lstm")

    def make_model(self):
        return self.create(input_size=3, output_size=4, hidden_size=8, encoder_dim=5)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 4, 3, dtype=dtype, device=device),)


def _rims(**kw):
    torch.manual_seed(0)
    base = {"input_size": 3, "output_size": 4, "hidden_size": 6, "num_modules": 4, "active": 2, "dropout": 0.0,
            "cell_options": {"input_embed_dim": 8, "comm_embed_dim": 8}}
    return RIMs(**{**base, **kw}).eval()


def test_rims_equals_hand_driven_cell_and_trace_holds_masks():
    model = _rims()
    x = torch.randn(5, 7, 3)
    logits, trace = model(x, return_trace=True)
    assert logits.shape == (5, 7, 4) and trace["active"].shape == (7, 5, 4)
    assert torch.equal(trace["active"].sum(-1), torch.full((7, 5), 2))
    state, outs = None, []
    for t in range(7):
        h, state, info = model.cell(x[:, t:t + 1], state)
        assert torch.equal(info["active"], trace["active"][t])
        outs.append(model.decoder(h.flatten(1)))
    assert torch.equal(logits, torch.stack(outs, 1))
    assert torch.equal(trace["state"].h, state.h)
    last = _rims(readout="last")
    assert torch.equal(last(x), logits[:, -1])  # same seed, same weights: the last step's logits


def test_parameter_groups_disjoint_and_cover_all():
    model = _rims(encoder_dim=5)
    groups = [model.module_parameters(), model.attention_parameters(), model.other_parameters()]
    ids = [{id(p) for p in g} for g in groups]
    assert all(ids) and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert ids[0] | ids[1] | ids[2] == {id(p) for p in model.parameters()}
    assert {id(p) for p in model.other_parameters()} == {id(p) for m in (model.encoder, model.decoder)
                                                          for p in m.parameters()}


def test_match_parameters_is_the_closest_lstm():
    model = _rims()
    lstm = match_parameters(model)
    target = model.num_parameters()
    h = lstm.config.hidden_size
    assert lstm.num_parameters() == lstm_parameter_count(h, input_size=3, output_size=4)
    for other in (h - 1, h + 1):
        assert abs(lstm_parameter_count(other, input_size=3, output_size=4) - target) >= \
            abs(lstm.num_parameters() - target)
    assert lstm.config.readout == model.config.readout and lstm.config.dropout == model.config.dropout
    two = match_parameters(50_000, input_size=3, output_size=4, num_layers=2, encoder_dim=7)
    assert two.num_parameters() == lstm_parameter_count(two.config.hidden_size, input_size=3, output_size=4,
                                                        num_layers=2, encoder_dim=7)
    with pytest.raises(ValueError, match="input_size"):
        match_parameters(torch.nn.Linear(3, 3))
    with pytest.raises(ValueError, match="smallest"):
        match_parameters(5, input_size=3, output_size=4)


def test_lstm_baseline_shapes_and_errors():
    lstm = LSTMBaseline(input_size=3, output_size=2, hidden_size=5, readout="last")
    assert lstm(torch.randn(4, 6, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match="inputs must be"):
        lstm(torch.randn(4, 6))
    with pytest.raises(ValueError, match="float"):
        _rims()(torch.ones(2, 3, 3, dtype=torch.int64))
    with pytest.raises(etude.ConfigError, match="cell_options|active"):
        RIMs(input_size=3, output_size=2, num_modules=2, active=3)


def test_created_through_the_registry():
    cell = etude.create("model", "rim-cell", input_size=4, hidden_size=4, num_modules=2, active=1,
                        input_embed_dim=8, comm_embed_dim=8)
    assert isinstance(cell, RIMCell)
    model = etude.create("model", "rims", input_size=4, output_size=2, hidden_size=4, num_modules=2, active=1)
    assert isinstance(model, RIMs)


@pytest.mark.gpu
def test_cuda_path_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    model = _rims()
    x = torch.randn(3, 5, 3)
    cpu_logits, cpu_trace = model(x, return_trace=True)
    gpu_logits, gpu_trace = model.to("cuda")(x.to("cuda"), return_trace=True)
    assert torch.equal(cpu_trace["active"], gpu_trace["active"].cpu())
    torch.testing.assert_close(cpu_logits, gpu_logits.cpu(), rtol=1e-4, atol=1e-5)
    gpu_logits.sum().backward()
    assert all(p.grad is not None and p.grad.is_cuda for p in model.cell.rnn.parameters())
