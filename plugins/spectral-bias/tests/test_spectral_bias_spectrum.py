"""Fourier conventions and the detrended envelope, against references written from the formulas."""

import math

import pytest
import torch

from etude_spectral_bias import amplitudes, envelope_slope, fourier_envelope, octave_maxima, spectrum


def _grid(n):
    return torch.arange(n, dtype=torch.float64) / n


@pytest.mark.parametrize("n,k,amp,phase", [(200, 5, 1.0, 0.3), (200, 99, 2.5, 0.0), (64, 1, 0.1, 0.9), (4096, 700, 3.0, 0.5)])
def test_pure_sinusoid_reads_its_amplitude_at_its_bin_only(n, k, amp, phase):
    f = amp * torch.sin(2 * math.pi * k * _grid(n) + 2 * math.pi * phase)
    s = spectrum(f)
    assert s.shape == (n // 2 + 1,)
    assert abs(float(s[k]) - amp) < 1e-6
    others = torch.cat([s[:k], s[k + 1:]])
    assert float(others.abs().max()) < 1e-6


def test_spectrum_matches_the_dft_sum():
    # independent reference: the DFT as an explicit sum, F[k] = sum_j f_j exp(-2 pi i j k / N)
    g = torch.Generator().manual_seed(0)
    f = torch.randn(50, generator=g, dtype=torch.float64)
    j = torch.arange(50, dtype=torch.float64)
    for k in (1, 7, 24):
        re = (f * torch.cos(2 * math.pi * j * k / 50)).sum()
        im = -(f * torch.sin(2 * math.pi * j * k / 50)).sum()
        assert abs(float(spectrum(f)[k]) - 2 * math.hypot(float(re), float(im)) / 50) < 1e-10


def test_amplitudes_picks_bins_and_rejects_bad_frequencies():
    t = _grid(100)
    f = 0.7 * torch.cos(2 * math.pi * 3 * t) + 1.3 * torch.sin(2 * math.pi * 11 * t)
    torch.testing.assert_close(amplitudes(f, [3, 11, 20]), torch.tensor([0.7, 1.3, 0.0], dtype=torch.float64),
                               atol=1e-9, rtol=0)
    with pytest.raises(ValueError, match=r"\[1, 50\)"):
        amplitudes(f, [50])
    with pytest.raises(ValueError, match="integers"):
        amplitudes(f, torch.tensor([2.5]))
    with pytest.raises(TypeError, match="floating"):
        spectrum(torch.arange(10))


def _piecewise_linear(knots_t, knots_y):
    kt, ky = torch.tensor(knots_t, dtype=torch.float64), torch.tensor(knots_y, dtype=torch.float64)

    def f(x):
        t = x[:, 0]
        i = torch.searchsorted(kt, t, right=True).clamp(1, len(kt) - 1)
        w = (t - kt[i - 1]) / (kt[i] - kt[i - 1])
        return ky[i - 1] + w * (ky[i] - ky[i - 1])

    return f


@pytest.mark.parametrize("knots,values", [
    ([0.0, 0.5, 1.0], [0.0, 1.0, 0.0]),                # triangle
    ([0.0, 0.3, 1.0], [0.0, 1.0, 0.0]),                # asymmetric tent
    ([0.0, 0.3, 0.7, 1.0], [0.0, 1.0, -0.5, 0.2]),     # two kinks and an endpoint jump (detrended away)
])
def test_detrended_piecewise_linear_decays_like_k_minus_2(knots, values):
    assert abs(fourier_envelope(_piecewise_linear(knots, values), 4096).slope(8, 2048) + 2.0) < 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_piecewise_linear_is_near_k_minus_2(seed):
    # With many kinks the octave maximum of |sum_j c_j exp(-2 pi i k t_j)| / k^2 grows with the octave's
    # width (more bins to peak in), so the estimator reads a little shallower than -2 (-1.86 .. -1.94 here).
    g = torch.Generator().manual_seed(seed)
    knots = [0.0, *sorted(torch.rand(6, generator=g).tolist()), 1.0]
    slope = fourier_envelope(_piecewise_linear(knots, torch.randn(8, generator=g).tolist()), 4096).slope(8, 2048)
    assert -2.1 < slope < -1.8


def test_detrended_step_decays_like_k_minus_1():
    step = lambda x: (x[:, 0] >= 0.3).double()  # noqa: E731
    assert abs(fourier_envelope(step, 4096).slope(8, 2048) + 1.0) < 0.1


def test_without_detrending_the_boundary_jump_gives_k_minus_1():
    ramp = lambda x: 3.0 * x[:, 0]  # noqa: E731  (smooth, but f(1) != f(0))
    assert abs(fourier_envelope(ramp, 4096, detrend=False).slope(8, 2048) + 1.0) < 0.05
    # detrended, the ramp is exactly removed: nothing is left at k >= 1
    assert float(fourier_envelope(ramp, 4096).magnitudes[1:].abs().max()) < 1e-12


def test_untrained_relu_mlp_envelope_is_steeper_once_detrended():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 1))
    detrended, raw = fourier_envelope(net, 4096).slope(8, 2048), fourier_envelope(net, 4096, detrend=False).slope(8, 2048)
    assert detrended < -1.5 and abs(raw + 1.0) < 0.1
    assert next(net.parameters()).dtype == torch.float32  # the float64 copy leaves the model alone


def test_octaves_and_slope_of_a_power_law():
    k = torch.arange(2049)
    mags = 5.0 * (k.double().clamp_min(1)) ** -1.5
    edges, maxima = octave_maxima(k, mags, k_min=8, k_max=2048)
    assert edges.tolist() == [8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0]
    torch.testing.assert_close(maxima, 5.0 * edges ** -1.5)
    assert abs(envelope_slope(k, mags, k_min=8, k_max=2048) + 1.5) < 1e-12
    with pytest.raises(ValueError, match="power of two"):
        envelope_slope(k, mags, k_min=6)


def test_envelope_rejects_bad_models():
    with pytest.raises(ValueError, match="NaN or inf"):
        fourier_envelope(lambda x: x[:, 0] / 0.0, 64)
    with pytest.raises(ValueError, match="n outputs"):
        fourier_envelope(lambda x: x[:3, 0], 64)
    with pytest.raises(ValueError, match="n_grid"):
        fourier_envelope(lambda x: x, 8)
