"""The vector score network: ``etude_diffusion_samplers.path.DiffusionPolicy`` as ``s(x, t)``.

DEM's GMM network is an MLP (3 hidden layers x 128) with sinusoidal time and
input embeddings; here it is the diffusion-samplers policy network (GELU,
PIS-style Fourier time features with learned phase, zero-initialised output
layer, so an untrained score is 0), with ``joint_layers`` hidden layers of
width ``hidden``. The difference is documented in the README.

Examples:
    >>> import torch
    >>> net = VectorScore(2, hidden=16, layers=2)
    >>> net(torch.randn(5, 2), torch.rand(5)).abs().max().item()  # zero-initialised output
    0.0
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class VectorScore(nn.Module):
    """``s(x, t) = DiffusionPolicy(x, embed(t))``: (B, d), (B,) -> (B, d)."""

    def __init__(self, dim: int, *, hidden: int = 128, layers: int = 3, harmonics: int = 64) -> None:
        super().__init__()
        from etude_diffusion_samplers.path import DiffusionPolicy  # noqa: PLC0415

        self.dim = dim
        self.policy = DiffusionPolicy(
            dim, hidden_dim=hidden, s_emb_dim=hidden, t_emb_dim=hidden, harmonics=harmonics, joint_layers=layers, gfn_clip=1e6
        )

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.ndim == 0 or (t.ndim == 1 and t.numel() > 1 and t.stride(0) == 0):
            emb, _ = self.policy.embed_times(t.reshape(-1)[:1])  # one time for the whole batch (an SDE step)
        else:
            emb, _ = self.policy.embed_times(t.reshape(-1))
        return self.policy(x, emb)[0]
