"""The adaptive-gamma controller (ANRU): state, sharing, constraints, reset."""

import math

import pytest
import torch
import torch.nn.functional as F

import etude
from etude.testing.conformance import NeuronConformance
from etude_adaptive_neurons import AdaptiveGammaNeuron, AdaptiveGammaState, gamma


def run(neuron, xs, state=None):
    ys, states = [], []
    for x in xs:
        y, state = neuron(x, state)
        ys.append(y)
        states.append(state)
    return torch.stack(ys), states


def test_state_shape_is_batch_units_controller():
    neuron = AdaptiveGammaNeuron(hidden_size=5)
    state = neuron.init_state((3, 7))
    assert isinstance(state, AdaptiveGammaState)
    assert state.g.shape == (3, 7, 5) and state.n.shape == (3, 7) and state.s.shape == (3, 7)
    y, state = neuron(torch.randn(3, 7), state)
    assert state.g.shape == (3, 7, 5)


def test_parameter_count_independent_of_units():
    neuron = AdaptiveGammaNeuron(hidden_size=6)
    count = sum(p.numel() for p in neuron.parameters())
    assert count == 6 + 6 * 6 + 6 + 2 * 6 + 2
    for units in (1, 10, 300):  # one module serves any width
        assert neuron(torch.randn(2, units))[0].shape == (2, units)
    small = etude.create("model", "anru", hidden_size=8, neuron="adaptive-gamma", neuron_options={"hidden_size": 6})
    large = etude.create("model", "anru", hidden_size=80, neuron="adaptive-gamma", neuron_options={"hidden_size": 6})
    assert sum(p.numel() for p in small.neuron.parameters()) == sum(p.numel() for p in large.neuron.parameters())


def test_output_is_gamma_of_input_with_the_state_n_s():
    torch.manual_seed(0)
    neuron = AdaptiveGammaNeuron(hidden_size=4)
    x = torch.randn(3, 5)
    y, state = neuron(x)
    torch.testing.assert_close(y, gamma(x, state.n, state.s))


def test_one_step_matches_the_equations():
    torch.manual_seed(1)
    neuron = AdaptiveGammaNeuron(hidden_size=4).double()
    x = torch.randn(2, 3, dtype=torch.float64)
    g0 = torch.randn(2, 3, 4, dtype=torch.float64) * 0.5
    state = AdaptiveGammaState(g0, torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64))
    y, new = neuron(x, state)
    g = torch.tanh(x[..., None] * neuron.input_weight + g0 @ neuron.recurrent_weight.T + neuron.bias)
    raw = g @ neuron.readout_weight.T + neuron.readout_bias
    n, s = F.softplus(raw[..., 0]) + neuron.config.min_gain, torch.sigmoid(raw[..., 1])
    torch.testing.assert_close(new.g, g)
    torch.testing.assert_close(new.n, n)
    torch.testing.assert_close(new.s, s)
    torch.testing.assert_close(y, gamma(x, n, s))


def test_initialisation_follows_the_reference():
    for seed in range(5):
        torch.manual_seed(seed)
        neuron = AdaptiveGammaNeuron(hidden_size=50)
        state = neuron.init_state((1, 1))
        assert 5.0 <= float(state.n.detach()) <= 7.0 + 1e-4  # n ≈ 5 + 2 U(0, 1)
        assert abs(float(state.s.detach()) - 0.01) < 1e-6  # s ≈ 0
    W = neuron.recurrent_weight.detach()
    torch.testing.assert_close(W @ W.T, torch.eye(50), atol=1e-5, rtol=0)  # henaff: orthogonal


def test_constraints_hold_after_arbitrary_optimiser_steps():
    torch.manual_seed(0)
    neuron = AdaptiveGammaNeuron(hidden_size=4)
    opt = torch.optim.SGD(neuron.parameters(), lr=50.0)
    for step in range(6):
        ys, states = run(neuron, [torch.randn(3, 5) * 4 for _ in range(4)])
        ((-1) ** step * ys.sum() * 100).backward()
        opt.step()
        opt.zero_grad()
        for st in states:
            assert (st.n > 0).all() and (st.s >= 0).all() and (st.s <= 1).all()
        assert torch.isfinite(ys).all()


def test_reset_gives_identical_outputs_for_identical_sequences():
    torch.manual_seed(0)
    neuron = AdaptiveGammaNeuron(hidden_size=4)
    xs = [torch.randn(2, 3) for _ in range(6)]
    first, states = run(neuron, xs)
    # continuing from the final state is a different computation ...
    carried, _ = run(neuron, xs, states[-1])
    assert not torch.allclose(first, carried)
    # ... a fresh state (init_state or None) reproduces the first run exactly
    again, _ = run(neuron, xs, neuron.init_state((2, 3)))
    torch.testing.assert_close(first, again, rtol=0, atol=0)


def test_controller_adapts_to_input_scale():
    torch.manual_seed(0)
    neuron = AdaptiveGammaNeuron(hidden_size=8, n_readout_gain=1.0)
    _, small = run(neuron, [torch.full((1, 2), 0.1)] * 10)
    _, large = run(neuron, [torch.full((1, 2), 3.0)] * 10)
    assert not torch.allclose(small[-1].n, large[-1].n)


def test_bad_state_is_a_clear_error():
    neuron = AdaptiveGammaNeuron(hidden_size=4)
    with pytest.raises(ValueError, match=r"init_state"):
        neuron(torch.randn(2, 3), neuron.init_state((2, 5)))
    with pytest.raises(etude.ConfigError, match="recurrent_init"):
        AdaptiveGammaNeuron(recurrent_init="cayley")


def test_inverse_softplus_round_trip():
    from etude_adaptive_neurons.neurons import inverse_softplus

    for y in (1e-3, 0.5, 5.0, 30.0):
        assert math.isclose(F.softplus(torch.tensor(inverse_softplus(y), dtype=torch.float64)).item(), y, rel_tol=1e-9)


class TestAdaptiveGammaConformance(NeuronConformance):
    component = ("neuron", "adaptive-gamma")

    def make_neuron(self):
        return self.create(hidden_size=6)


@pytest.mark.gpu
def test_adaptive_anru_on_cuda():
    torch.manual_seed(0)
    model = etude.create("model", "anru", hidden_size=16, neuron="adaptive-gamma",
                         neuron_options={"hidden_size": 8}).cuda()
    x = torch.rand(4, 12, 1, device="cuda")
    out = model(x, return_trace=True)
    assert out["logits"].device.type == "cuda" and torch.isfinite(out["logits"]).all()
    out["logits"].sum().backward()
    assert all(p.grad is not None and p.grad.is_cuda for p in model.parameters())
    cpu = model.cpu()(x.cpu())
    torch.testing.assert_close(cpu, out["logits"].detach().cpu(), atol=1e-4, rtol=1e-4)


def test_fused_step_matches_plain_autograd_and_passes_gradcheck():
    from etude_adaptive_neurons.neurons import _AdaptiveStep

    torch.manual_seed(0)
    neuron = AdaptiveGammaNeuron(hidden_size=5).double()
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    g0 = (0.5 * torch.randn(3, 4, 5, dtype=torch.float64)).requires_grad_(True)
    fused = neuron(a, AdaptiveGammaState(g0, None, None))
    fused = (fused[0], fused[1].g, fused[1].n, fused[1].s)
    plain = neuron.reference_step(a, g0)
    weights = [torch.randn_like(o) for o in plain]
    inputs = [a, g0, *neuron.parameters()]
    grads_fused = torch.autograd.grad(sum((o * w).sum() for o, w in zip(fused, weights)), inputs)
    grads_plain = torch.autograd.grad(sum((o * w).sum() for o, w in zip(plain, weights)), inputs)
    for f, p in zip(fused + grads_fused, plain + grads_plain):
        torch.testing.assert_close(f, p)
    params = [p.detach().clone().requires_grad_(True) for p in neuron.parameters()]
    assert torch.autograd.gradcheck(lambda *t: _AdaptiveStep.apply(*t, 1e-3), (a, g0, *params))
