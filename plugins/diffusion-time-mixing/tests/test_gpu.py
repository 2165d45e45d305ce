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
