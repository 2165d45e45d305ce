"""Components: conformance suites, exact reductions of SelfAttentiveRNN, formulas of additive attention and modReLU."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.config import ConfigError
from etude.testing.conformance import AttentionConformance, ModelConformance, NeuronConformance, TaskConformance
from etude_relevancy_screening import AdditiveAttention, Denoise, ModReLU, SelfAttentiveRNN, recall_accuracy

D = torch.float64


class TestAdditiveAttention(AttentionConformance):
    component = ("attention", "additive")


class TestAdditiveAttentionProjections(AttentionConformance):
    component = ("attention", "additive")

    def make_attention(self):
        return self.create(embed_dim=self.embed_dim, value_projection=True, output_projection=True)


class TestModReLU(NeuronConformance):
    component = ("neuron", "modrelu")

    def make_neuron(self):
        return self.create(num_units=self.units)


class TestSelfAttentiveRNN(ModelConformance):
    component = ("model", "self-attentive-rnn")

    def make_model(self):
        return self.create(input_size=5, num_classes=4, hidden_size=8, buffer_size=3, relevant_size=2)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(2, 9, 5, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device),)


class TestSelfAttentiveLSTMFull(TestSelfAttentiveRNN):
    def make_model(self):
        return self.create(input_size=5, num_classes=4, hidden_size=8, cell="lstm", memory="full")


class TestSelfAttentiveRNNMultihead(TestSelfAttentiveRNN):
    def make_model(self):
        return self.create(input_size=5, num_classes=4, hidden_size=8, attention="multihead",
                           attention_options={"num_heads": 2}, buffer_size=2, relevant_size=2)


class TestDenoise(TaskConformance):
    component = ("task", "denoise")

    def make_task(self, seed):
        return self.create(seed=seed, length=3, delay=6, num_train=16, num_test=8)


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=D)


def test_additive_attention_equals_the_formula():
    torch.manual_seed(0)
    attn = AdditiveAttention(embed_dim=6).to(D)
    q, k = _x(2, 3, 6), _x(2, 5, 6, seed=1)
    mask = torch.rand(2, 3, 5, generator=torch.Generator().manual_seed(2)) > 0.3
    mask[..., 0] = True
    out, w = attn(q, k, mask=mask, need_weights=True)
    Wq, Wk, v = attn.query_proj.weight, attn.key_proj.weight, attn.v[0]
    expected_w = torch.zeros(2, 3, 5, dtype=D)
    for b in range(2):
        for i in range(3):
            e = torch.stack([v @ torch.tanh(Wq @ q[b, i] + Wk @ k[b, j]) for j in range(5)])
            e = e.masked_fill(~mask[b, i], float("-inf"))
            expected_w[b, i] = torch.softmax(e, 0)
    torch.testing.assert_close(w, expected_w, rtol=0, atol=1e-12)
    torch.testing.assert_close(out, expected_w @ k, rtol=0, atol=1e-12)


def test_modrelu_equals_its_definition():
    neuron = ModReLU(num_units=5).to(D)
    with torch.no_grad():
        neuron.b.copy_(torch.tensor([-0.5, 0.0, 0.3, -2.0, 0.01], dtype=D))
    z = _x(4, 5)
    b = neuron.b.detach()
    expected = torch.where(z >= 0, 1.0, -1.0) * torch.clamp(z.abs() + b, min=0.0)
    expected[z == 0] = 0.0
    torch.testing.assert_close(neuron(z)[0], expected, rtol=0, atol=0)


def test_imported_henaff_matrix_is_orthogonal_and_used():
    from etude_adaptive_neurons.neurons import recurrent_matrix

    W = recurrent_matrix(16, "henaff", torch.Generator().manual_seed(0))
    torch.testing.assert_close(W.T @ W, torch.eye(16), atol=1e-5, rtol=0)
    net = SelfAttentiveRNN(input_size=3, hidden_size=16, recurrent_gain=0.9)
    V = net.V.weight.detach()
    torch.testing.assert_close(V.T @ V, 0.81 * torch.eye(16), atol=1e-5, rtol=0)


def _pair(T_buffer: int, **common):
    torch.manual_seed(0)
    rel = SelfAttentiveRNN(memory="relevancy", buffer_size=T_buffer, **common).to(D)
    full = SelfAttentiveRNN(memory="full", **common).to(D)
    full.load_state_dict(rel.state_dict())
    return rel, full


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_buffer_longer_than_sequence_equals_full_memory(cell):
    rel, full = _pair(12, input_size=4, num_classes=3, hidden_size=8, relevant_size=3, cell=cell)
    x = _x(3, 10, 4)
    torch.testing.assert_close(rel(x), full(x), rtol=0, atol=1e-12)


def test_zero_relevant_size_equals_banded_full_attention():
    """ρ = 0: the RelRNN step equals attention over all past states under a band mask of width ν."""
    torch.manual_seed(0)
    nu, T = 3, 9
    net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=6, buffer_size=nu, relevant_size=0).to(D)
    x = _x(2, T, 4)
    h = torch.zeros(2, 6, dtype=D)
    s = torch.zeros(2, 6, dtype=D)
    hs = []
    for t in range(T):
        if t == 0:
            c = torch.zeros_like(h)
        else:
            keys = torch.stack(hs, dim=1)
            band = (torch.arange(t) >= t - nu).expand(2, 1, t)
            c = net.attention(s.unsqueeze(1), keys, mask=band)[0].squeeze(1)
        s = 0.5 * (h + c)
        h = net.neuron(net.U(x[:, t]) + net.V(s))[0]
        hs.append(h)
    torch.testing.assert_close(net(x), net.readout(torch.stack(hs, 1)), rtol=0, atol=1e-12)


def test_no_memory_is_the_plain_rnn():
    torch.manual_seed(0)
    net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=6, memory="none", neuron="tanh").to(D)
    x = _x(2, 7, 4)
    h, hs = torch.zeros(2, 6, dtype=D), []
    for t in range(7):
        h = torch.tanh(net.U(x[:, t]) + net.V(h))
        hs.append(h)
    torch.testing.assert_close(net(x), net.readout(torch.stack(hs, 1)), rtol=0, atol=1e-12)


def test_attention_set_is_bounded_and_retained_steps_are_reported():
    net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=6, buffer_size=3, relevant_size=2)
    trace = net.unroll(torch.randn(2, 20, 4), record=True)
    assert int(trace.attended.max()) == 5 and trace.attended.shape == (20, 2)
    steps = trace.memory.inspect()["relevant_steps"]
    assert steps.shape == (2, 2) and bool(((steps >= 0) & (steps < 20 - 3)).all())
    full = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=6, memory="full")
    assert full.unroll(torch.randn(2, 20, 4), record=True).attended[:, 0].tolist() == list(range(20))


def test_gradients_reach_retained_states_in_the_model():
    torch.manual_seed(0)
    net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=6, buffer_size=2, relevant_size=2).to(D)
    trace = net.unroll(_x(1, 15, 4))
    grads = torch.autograd.grad(trace.logits[:, -1].sum(), trace.hiddens)
    for i in trace.memory.inspect()["relevant_steps"][0].tolist():
        assert grads[i].abs().sum() > 0


def test_denoise_layout():
    task = Denoise(length=4, delay=8, num_symbols=5, num_train=32, num_test=8)
    split = task.split("train")
    tok = split.info["tokens"]
    span = 4 + 8 - 1
    assert tok.shape == (32, 16) and bool((tok[:, span] == 6).all())
    assert bool(((tok[:, :span] > 0).sum(1) == 4).all())
    symbols = tok[:, :span][tok[:, :span] > 0].view(32, 4)  # in order of position
    assert torch.equal(split.targets[:, -4:], symbols) and bool((split.targets[:, :-4] == 0).all())
    assert not torch.equal(split.info["positions"][0], split.info["positions"][1])


def test_recall_accuracy():
    targets = torch.tensor([[0, 0, 1, 2]])
    logits = torch.nn.functional.one_hot(torch.tensor([[1, 1, 1, 0]]), 3).float()
    assert recall_accuracy(logits, targets, 2) == 0.5


@pytest.mark.parametrize("memory", ["none", "full", "relevancy"])
def test_last_readout_is_the_last_step_of_the_per_step_logits(memory):
    torch.manual_seed(0)
    every = SelfAttentiveRNN(input_size=2, num_classes=5, hidden_size=6, memory=memory, buffer_size=2, relevant_size=2)
    last = SelfAttentiveRNN(input_size=2, num_classes=5, hidden_size=6, memory=memory, buffer_size=2, relevant_size=2,
                            readout="last")
    last.load_state_dict(every.state_dict())
    x = torch.randn(3, 9, 2)
    out = last(x)
    assert out.shape == (3, 5)
    torch.testing.assert_close(out, every(x)[:, -1], rtol=0, atol=0)
    with pytest.raises(ConfigError, match="readout"):
        SelfAttentiveRNN(input_size=2, readout="mean")


def test_bad_config_and_input_errors():
    with pytest.raises(ConfigError, match="input_size"):
        etude.create("model", "self-attentive-rnn")
    with pytest.raises(ConfigError, match="memory"):
        etude.create("model", "self-attentive-rnn", input_size=3, memory="sparse")
    net = SelfAttentiveRNN(input_size=3, hidden_size=4)
    with pytest.raises(ValueError, match="input_size=3"):
        net(torch.randn(2, 5, 4))
    with pytest.raises(TypeError, match="floating"):
        net(torch.zeros(2, 5, 3, dtype=torch.long))


@pytest.mark.gpu
def test_cuda_path():
    net = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=8, buffer_size=3, relevant_size=2).cuda()
    x = torch.randn(2, 12, 4, device="cuda")
    out = net(x)
    assert out.device.type == "cuda"
    out.sum().backward()
    cpu = SelfAttentiveRNN(input_size=4, num_classes=3, hidden_size=8, buffer_size=3, relevant_size=2)
    cpu.load_state_dict({k: v.cpu() for k, v in net.state_dict().items()})
    torch.testing.assert_close(cpu(x.cpu()), out.detach().cpu(), atol=1e-4, rtol=1e-4)
