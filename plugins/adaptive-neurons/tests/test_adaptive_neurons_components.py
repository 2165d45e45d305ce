"""The recurrent model, the sequential-digits task and the perturbation augmenters."""

import math

import pytest
import torch

import etude
from etude.testing.conformance import AugmenterConformance, ModelConformance, TaskConformance
from etude_adaptive_neurons import ANRU, AdditiveNoise, SinusoidalGain, StepGain, build_neuron


# -- model ------------------------------------------------------------------------
@pytest.mark.parametrize("neuron", ["relu", "tanh", "sigmoid", "softplus", "gamma", "adaptive-gamma"])
def test_model_takes_any_registered_neuron(neuron):
    torch.manual_seed(0)
    opts = {"hidden_size": 4} if neuron == "adaptive-gamma" else {}
    model = etude.create("model", "anru", hidden_size=6, neuron=neuron, neuron_options=opts)
    out = model(torch.rand(3, 7, 1))
    assert out.shape == (3, 10) and torch.isfinite(out).all()


def test_num_units_is_passed_only_to_neurons_that_have_it():
    assert build_neuron("gamma", 5).config.num_units == 5
    assert build_neuron("relu", 5).config is None
    assert build_neuron("adaptive-gamma", 5, {"hidden_size": 3}).config.hidden_size == 3


def test_everything_but_the_neuron_is_equal_across_variants():
    states = {}
    for neuron in ("relu", "gamma", "adaptive-gamma"):
        torch.manual_seed(3)
        model = ANRU(hidden_size=6, neuron=neuron, neuron_options={"hidden_size": 4} if neuron == "adaptive-gamma" else {})
        states[neuron] = {k: v for k, v in model.state_dict().items() if not k.startswith("neuron.")}
    for key, value in states["relu"].items():
        torch.testing.assert_close(states["gamma"][key], value)
        torch.testing.assert_close(states["adaptive-gamma"][key], value)


def test_recurrent_init_is_orthogonal_and_input_init_kaiming():
    torch.manual_seed(0)
    model = ANRU(hidden_size=40, neuron="relu")
    W = model.recurrent_layer.weight.detach()
    torch.testing.assert_close(W @ W.T, torch.eye(40), atol=1e-5, rtol=0)
    assert abs(float(model.input_layer.weight.detach().std()) - math.sqrt(2.0)) < 0.6


def test_trace_matches_a_manual_unroll():
    torch.manual_seed(0)
    model = ANRU(hidden_size=5, neuron="adaptive-gamma", neuron_options={"hidden_size": 3})
    x = torch.rand(2, 4, 1)
    out = model(x, return_trace=True)
    assert set(out) == {"logits", "hidden", "preactivation", "n", "s"}
    assert out["n"].shape == (2, 4, 5)
    h, state = torch.zeros(2, 5), None
    for t in range(4):
        a = model.input_layer(x[:, t]) + model.recurrent_layer(h)
        h, state = model.neuron(a, state)
        torch.testing.assert_close(out["preactivation"][:, t], a)
        torch.testing.assert_close(out["n"][:, t], state.n)
    torch.testing.assert_close(out["logits"], model.readout(h))


def test_external_drive_shifts_the_preactivation():
    torch.manual_seed(0)
    model = ANRU(hidden_size=5, neuron="tanh")
    x = torch.rand(2, 4, 1)
    base = model(x, return_trace=True)["preactivation"][:, 0]
    driven = model(x, external_drive=0.5, return_trace=True)["preactivation"][:, 0]
    torch.testing.assert_close(driven, base + 0.5)
    per_step = model(x, external_drive=torch.tensor([0.5, 0.0, 0.0, 0.0]), return_trace=True)["preactivation"][:, 0]
    torch.testing.assert_close(per_step, base + 0.5)
    with pytest.raises(ValueError, match="external_drive"):
        model(x, external_drive=torch.ones(3))


def test_model_input_errors():
    model = ANRU(hidden_size=4, neuron="relu", input_size=2)
    with pytest.raises(ValueError, match="input_size=2"):
        model(torch.rand(3, 5, 1))
    with pytest.raises(TypeError, match="floating"):
        model(torch.ones(3, 5, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN"):
        model(torch.full((1, 2, 2), float("nan")))
    with pytest.raises(etude.ComponentNotFoundError):
        ANRU(neuron="relux")
    assert ANRU(hidden_size=4, neuron="relu")(torch.rand(3, 5)).shape == (3, 10)  # (B, T) accepted for input_size 1


class TestANRUConformance(ModelConformance):
    component = ("model", "anru")

    def make_model(self):
        return self.create(hidden_size=6, neuron="adaptive-gamma", neuron_options={"hidden_size": 4})

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.rand(3, 5, 1, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device),)


# -- task ---------------------------------------------------------------------------
def test_sequential_digits_shapes_range_and_permutation():
    plain = etude.create("task", "sequential-digits", seed=0, permute=False)
    perm = etude.create("task", "sequential-digits", seed=0, permute=True)
    a, b = plain.split("train"), perm.split("train")
    assert a.inputs.shape[1:] == (64, 1) and a.inputs.dtype == torch.float32
    assert float(a.inputs.min()) == 0.0 and float(a.inputs.max()) == 1.0
    order = b.info["permutation"]
    assert sorted(order.tolist()) == list(range(64)) and order.tolist() != list(range(64))
    torch.testing.assert_close(b.inputs, a.inputs[:, order])
    assert len(plain.split("train")) + len(plain.split("test")) == 1797


def test_sequential_digits_limits():
    task = etude.create("task", "sequential-digits", max_train=50, max_test=20)
    assert len(task.split("train")) == 50 and len(task.split("test")) == 20
    with pytest.raises(etude.ConfigError, match="max_train"):
        etude.create("task", "sequential-digits", max_train=0)


class TestSequentialDigitsConformance(TaskConformance):
    component = ("task", "sequential-digits")


# -- perturbations -------------------------------------------------------------------
def test_sinusoidal_gain_formula_on_nonzero_inputs_only():
    T = 16
    x = torch.rand(3, T, 2) + 0.1
    x[:, ::3, 0] = 0.0
    aug = SinusoidalGain(amplitude=0.5, frequency=1.0, phase=0.0)
    out = aug(x, torch.tensor([0, 1, 2]), num_classes=3).inputs
    t = torch.arange(T, dtype=torch.float64)
    factor = (1 + 0.5 * torch.sin(2 * math.pi * t / T)).float().view(1, T, 1)
    expected = torch.where(x != 0, x * factor, x)
    torch.testing.assert_close(out, expected)
    assert (out[:, ::3, 0] == 0).all()


def test_sinusoidal_gain_zero_amplitude_is_identity_and_period_option():
    x = torch.rand(2, 10, 1)
    y = torch.tensor([0, 1])
    torch.testing.assert_close(SinusoidalGain(amplitude=0.0)(x, y, num_classes=2).inputs, x)
    f = SinusoidalGain(amplitude=1.0, period=4).factors(8)
    torch.testing.assert_close(f, torch.tensor([1.0, 2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0], dtype=torch.float64), atol=1e-12, rtol=0)
    with pytest.raises(etude.ConfigError, match="period"):
        SinusoidalGain(period=0)


def test_step_gain_window():
    x = torch.ones(1, 10, 1)
    out = StepGain(step_size=0.5, start=0.2, length=0.3)(x, torch.tensor([0]), num_classes=1).inputs.flatten()
    torch.testing.assert_close(out, torch.tensor([1, 1, 1.5, 1.5, 1.5, 1, 1, 1, 1, 1.0]))
    torch.testing.assert_close(StepGain(step_size=0.0)(x, torch.tensor([0]), num_classes=1).inputs, x)


def test_additive_noise_statistics_and_identity():
    x = torch.zeros(200, 50, 1)
    y = torch.zeros(200, dtype=torch.long)
    out = AdditiveNoise(std=0.3)(x, y, num_classes=2, generator=torch.Generator().manual_seed(0)).inputs
    assert abs(float(out.std()) - 0.3) < 0.01 and abs(float(out.mean())) < 0.01
    torch.testing.assert_close(AdditiveNoise(std=0.0)(x, y, num_classes=2).inputs, x)


def test_perturbation_needs_a_time_axis():
    with pytest.raises(ValueError, match="time"):
        SinusoidalGain()(torch.ones(4), torch.zeros(4, dtype=torch.long), num_classes=2)


class TestSinusoidalGainConformance(AugmenterConformance):
    component = ("augmenter", "sinusoidal-gain")


class TestStepGainConformance(AugmenterConformance):
    component = ("augmenter", "step-gain")


class TestAdditiveNoiseConformance(AugmenterConformance):
    component = ("augmenter", "additive-noise")
