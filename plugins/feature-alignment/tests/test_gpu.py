"""The CUDA path: the tangent kernel and alignment on a GPU equal the CPU values (run with -m gpu)."""

from __future__ import annotations

import pytest
import torch

from etude_feature_alignment import TangentKernel, kernel_alignment, label_kernel

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("implementation", ["jacobian", "ntk-vp"])
def test_cuda_gram_and_alignment_match_cpu(implementation):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 4)).double()
    x = torch.randn(20, 8, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.arange(20) % 4, 4).double()
    K_cpu = TangentKernel(net, implementation=implementation).gram(x)
    gnet = net.to("cuda")
    K_gpu = TangentKernel(gnet, implementation=implementation, chunk_size=7).gram(x.cuda())
    assert K_gpu.device.type == "cuda"
    torch.testing.assert_close(K_gpu.cpu(), K_cpu, atol=1e-10, rtol=0)
    a = kernel_alignment(K_gpu, label_kernel(Y.cuda()), num_outputs=4)
    assert float(a) == pytest.approx(float(kernel_alignment(K_cpu, label_kernel(Y), num_outputs=4)), abs=1e-10)
