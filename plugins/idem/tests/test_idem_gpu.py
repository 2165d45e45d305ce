"""The CUDA path: S_K, the EGNN and a short iDEM fit on the GPU agree with the CPU (run with -m gpu)."""

import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_sk_on_cuda_matches_cpu():
    from etude_idem.schedules import NoiseSchedule
    from etude_idem.score import dem_score, draw_noise
    from etude_idem.targets import MultiDoubleWell

    t = MultiDoubleWell()
    sch = NoiseSchedule(sigma_min=1e-5, sigma_max=3.0)
    x, tt = torch.randn(64, 8), torch.rand(64)
    noise = draw_noise(64, 100, 8, layout=(4, 2))
    cpu = dem_score(t, x, tt, 100, sch, noise=noise, layout=(4, 2), max_norm=20.0)
    gpu = dem_score(t.to("cuda"), x.cuda(), tt.cuda(), 100, sch, noise=noise.cuda(), layout=(4, 2), max_norm=20.0)
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-4)


def test_idem_fits_and_samples_on_cuda():
    from etude_idem.sampler import IDEM
    from etude_idem.targets import MultiDoubleWell

    s = IDEM(preset="dw4", num_mc=32, batch_size=64, hidden=32, layers=2, refresh_every=5, samples_per_refresh=64,
             refresh_sde_steps=20, sde_steps=20).to("cuda")
    s.fit(MultiDoubleWell().to("cuda"), steps=10)
    x = s.sample(32)
    assert x.device.type == "cuda" and torch.isfinite(x).all()
