"""perturbation_spectrum: vmapped draws equal a loop written here, delta = 0 is exact, the noise models' scales."""

import copy
import math

import pytest
import torch

from etude_spectral_bias import perturbation_spectrum, sample_perturbations


def _net(seed=0, width=32):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(1, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                               torch.nn.ReLU(), torch.nn.Linear(width, 1))


X = (torch.arange(200) / 200.0)[:, None]
K = [2, 4, 6, 8]


@pytest.mark.parametrize("noise,delta", [("relative", 0.1), ("global", 0.5)])
def test_vmapped_spectrum_equals_a_loop_over_draws(noise, delta):
    net = _net()
    result = perturbation_spectrum(net, delta, 6, inputs=X, frequencies=K, noise=noise,
                                   generator=torch.Generator().manual_seed(3))
    eps = sample_perturbations(net, delta, 6, noise=noise, generator=torch.Generator().manual_seed(3))
    net, x = net.double(), X.double()  # the reference loop in float64, as perturbation_spectrum evaluates
    f0 = torch.fft.rfft(net(x)[:, 0].detach())[K]
    rows, ratios = [], []
    for d in range(6):
        perturbed = copy.deepcopy(net)
        with torch.no_grad():
            for name, p in perturbed.named_parameters():
                p.add_(eps[name][d])
        fd = torch.fft.rfft(perturbed(x)[:, 0])[K]
        rows.append((fd * f0.conj()).real / f0.abs() ** 2)
        ratios.append(fd.abs() / f0.abs())
    torch.testing.assert_close(result.retention_draws, torch.stack(rows), atol=1e-6, rtol=0)
    torch.testing.assert_close(result.retention, torch.stack(rows).mean(0), atol=1e-6, rtol=0)
    torch.testing.assert_close(result.magnitude_ratio, torch.stack(ratios).mean(0), atol=1e-6, rtol=0)
    torch.testing.assert_close(result.reference, 2 * f0.abs() / 200, atol=1e-6, rtol=0)


def test_zero_noise_retains_everything():
    result = perturbation_spectrum(_net(1), 0.0, 5, inputs=X, frequencies=K)
    assert float((result.retention_draws - 1).abs().max()) < 1e-12
    assert float((result.magnitude_ratio - 1).abs().max()) < 1e-12


def test_retention_falls_with_the_noise_scale():
    net = _net(2)
    small, large = (perturbation_spectrum(net, d, 64, inputs=X, frequencies=K, generator=torch.Generator().manual_seed(0))
                    for d in (0.01, 1.0))
    assert float((1 - small.retention).abs().max()) < 0.1
    assert float(large.retention.mean()) < float(small.retention.mean())


def test_noise_models_have_their_documented_scales():
    net = _net(0, width=64)
    g = torch.Generator().manual_seed(0)
    rel = sample_perturbations(net, 0.2, 256, noise="relative", generator=g)
    for name, p in net.named_parameters():
        rms = float(p.detach().pow(2).mean().sqrt())
        std = float(rel[name].std())
        assert abs(std - 0.2 * rms) < 0.05 * 0.2 * rms, name  # thousands of entries: a few % sampling error
        assert rel[name].shape == (256, *p.shape)
    glob = sample_perturbations(net, 1.5, 8, noise="global", generator=g)
    norms = torch.cat([e.flatten(1) for e in glob.values()], dim=1).double().norm(dim=1)
    torch.testing.assert_close(norms, torch.full((8,), 1.5, dtype=torch.float64), atol=1e-5, rtol=0)


def test_bad_arguments_are_named():
    net = _net()
    with pytest.raises(ValueError, match="noise"):
        perturbation_spectrum(net, 0.1, 4, inputs=X, frequencies=K, noise="uniform")
    with pytest.raises(ValueError, match="delta"):
        perturbation_spectrum(net, -0.1, 4, inputs=X, frequencies=K)
    with pytest.raises(ValueError, match="draws"):
        perturbation_spectrum(net, 0.1, 0, inputs=X, frequencies=K)
    with pytest.raises(ValueError, match=r"\[1, 100\)"):
        perturbation_spectrum(net, 0.1, 4, inputs=X, frequencies=[100])
    with pytest.raises(ValueError, match="inputs"):
        perturbation_spectrum(net, 0.1, 4, inputs=X[:, 0], frequencies=K)
    assert math.isfinite(float(perturbation_spectrum(net, 0.1, 2, inputs=X, frequencies=K).retention.sum()))


@pytest.mark.gpu
def test_cuda_matches_cpu():
    net = _net(4)
    kwargs = dict(frequencies=K, noise="relative")
    cpu = perturbation_spectrum(net, 0.1, 16, inputs=X, generator=torch.Generator().manual_seed(0), **kwargs)
    gpu = perturbation_spectrum(net.cuda(), 0.1, 16, inputs=X.cuda(), generator=torch.Generator().manual_seed(0), **kwargs)
    torch.testing.assert_close(gpu.retention_draws, cpu.retention_draws, atol=1e-6, rtol=0)
