"""The two tasks: conformance, exact spectral peaks, reproducibility, and the errors of bad frequencies."""

import math

import pytest
import torch

import etude
from etude.testing.conformance import TaskConformance
from etude_spectral_bias import FlowerManifold, SumOfSinusoids, amplitudes, flower_curve, spectrum


class TestSumOfSinusoids(TaskConformance):
    component = ("task", "sum-of-sinusoids")


class TestFlowerManifold(TaskConformance):
    component = ("task", "flower-manifold")


@pytest.mark.parametrize("amps", ["unit", "increasing", (0.5, 2.0, 1.0)])
def test_target_has_exactly_the_requested_peaks(amps):
    task = SumOfSinusoids(frequencies=(5, 12, 40), amplitudes=amps, seed=3)
    y = task.split("train").targets[:, 0].double()
    want = {"unit": [1.0, 1.0, 1.0], "increasing": [1 / 3, 2 / 3, 1.0], (0.5, 2.0, 1.0): [0.5, 2.0, 1.0]}[amps]
    s = spectrum(y)
    torch.testing.assert_close(s[[5, 12, 40]], torch.tensor(want, dtype=torch.float64), atol=1e-6, rtol=0)
    mask = torch.ones_like(s, dtype=torch.bool)
    mask[[5, 12, 40]] = False
    assert float(s[mask].max()) < 1e-6  # float32 targets: only round-off elsewhere


def test_target_is_the_formula_on_both_grids():
    task = SumOfSinusoids(frequencies=(5, 10), seed=7)
    phases = torch.tensor(task.split("train").info["phases"], dtype=torch.float64)
    for name, n in (("train", 200), ("test", 800)):
        s = task.split(name)
        z = torch.arange(n, dtype=torch.float64) / n
        ref = torch.sin(2 * math.pi * 5 * z + 2 * math.pi * phases[0]) + torch.sin(2 * math.pi * 10 * z + 2 * math.pi * phases[1])
        torch.testing.assert_close(s.targets[:, 0].double(), ref, atol=1e-6, rtol=0)
        torch.testing.assert_close(s.inputs[:, 0].double(), z, atol=1e-7, rtol=0)
    assert all(0 <= p < 1 for p in phases.tolist())


def test_reproducible_from_its_seed_and_different_across_seeds():
    a, b = SumOfSinusoids(seed=11), SumOfSinusoids(seed=11)
    assert torch.equal(a.split("train").targets, b.split("train").targets)
    assert a.split("train").info["phases"] == b.split("train").info["phases"]
    assert not torch.equal(a.split("train").targets, SumOfSinusoids(seed=12).split("train").targets)


@pytest.mark.parametrize("bad,match", [((5, 10.5), "10.5"), ((5, 100), "100"), ((0,), "0"), ((5, 5), "distinct")])
def test_bad_frequencies_name_the_value(bad, match):
    with pytest.raises(etude.ConfigError, match=match):
        etude.create("task", "sum-of-sinusoids", frequencies=bad)


def test_bad_amplitudes_and_petal_depth():
    with pytest.raises(etude.ConfigError, match="amplitudes"):
        SumOfSinusoids(frequencies=(5, 10), amplitudes=(1.0,))
    with pytest.raises(etude.ConfigError, match="amplitudes"):
        SumOfSinusoids(amplitudes="loud")
    with pytest.raises(etude.ConfigError, match="petal_depth"):
        FlowerManifold(petal_depth=1.0)


def test_flower_curve_inputs_and_target_in_z():
    circle = FlowerManifold(petals=0, frequencies=(5, 20), seed=1).split("train")
    torch.testing.assert_close(circle.inputs.norm(dim=1), torch.ones(200), atol=1e-6, rtol=0)
    flower = FlowerManifold(petals=4, frequencies=(5, 20), seed=1).split("train")
    z = torch.arange(200, dtype=torch.float64) / 200
    radius = 1 + 0.5 * torch.sin(2 * math.pi * 4 * z)
    torch.testing.assert_close(flower.inputs.double().norm(dim=1), radius, atol=1e-6, rtol=0)
    torch.testing.assert_close(flower.inputs.double(), flower_curve(z, 4), atol=1e-6, rtol=0)
    # same phases across L, the target depends on z only
    assert torch.equal(circle.targets, flower.targets)
    torch.testing.assert_close(amplitudes(flower.targets[:, 0].double(), [5, 20]), torch.ones(2, dtype=torch.float64),
                               atol=1e-6, rtol=0)
    assert FlowerManifold().input_shape == (2,) and SumOfSinusoids().input_shape == (1,)
