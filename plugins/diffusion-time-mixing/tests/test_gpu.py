"""The CUDA path: DRL trains and its trajectory and the mixer match the CPU values (run with -m gpu)."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_trajectory_and_mixer_match_cpu():
    from etude_diffusion_time_mixing import DRL, TimeAttention, time_grid

    torch.manual_seed(0)
    drl = DRL(in_features=64, latent_dim=8, width=64, steps=20)
    x = torch.randn(50, 64)
    z_cpu = drl.estimate(x, time_grid(5))
    drl_gpu = drl.to("cuda")
    z_gpu = drl_gpu.estimate(x.cuda(), time_grid(5))
    assert z_gpu.device.type == "cuda"
    torch.testing.assert_close(z_gpu.cpu(), z_cpu, atol=1e-4, rtol=1e-4)
    drl_gpu.fit(x.cuda(), steps=10, seed=0)
    assert all(torch.isfinite(torch.tensor(drl_gpu.history)))
    mixer = TimeAttention(input_shape=(6, 8), out_features=3, width=32).eval()
    out_cpu, att_cpu = mixer(z_cpu, need_weights=True)
    out_gpu, att_gpu = mixer.to("cuda")(z_cpu.cuda(), need_weights=True)
    torch.testing.assert_close(out_gpu.cpu(), out_cpu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(att_gpu.cpu(), att_cpu, atol=1e-5, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_wrn_drl_matches_cpu_and_times_a_full_size_step():
    """The WRN / U-Net path on CUDA; prints the seconds of one full-size step (WRN-28-2, batch 100) for the README."""
    import time

    from etude_diffusion_time_mixing import DRL, time_grid
    from etude_diffusion_time_mixing.claims import CIFAR_FULL

    torch.manual_seed(0)
    small = DRL(in_features=3072, encoder="wrn", image_shape=(3, 32, 32), wrn_depth=10, widen_factor=1,
                latent_dim=16, unet_channels=8, steps=2, batch_size=8).eval()
    x = torch.rand(6, 3, 32, 32)
    z_cpu = small.estimate(x, time_grid(4))
    z_gpu = small.to("cuda").estimate(x.cuda(), time_grid(4))
    torch.testing.assert_close(z_gpu.cpu(), z_cpu, atol=1e-3, rtol=1e-3)
    full = DRL(in_features=3072, **{**CIFAR_FULL["drl"], "steps": 5}).to("cuda")
    images = torch.rand(500, 3, 32, 32, device="cuda")
    full.fit(images, seed=0)
    torch.cuda.synchronize()
    start = time.perf_counter()
    full.fit(images, steps=20, seed=1)
    torch.cuda.synchronize()
    print(f"full-size DRL step on CUDA: {(time.perf_counter() - start) / 20:.4f} s")
    assert all(torch.isfinite(torch.tensor(full.history)))
