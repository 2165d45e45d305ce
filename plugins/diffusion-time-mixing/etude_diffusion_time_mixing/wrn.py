"""The time-conditioned Wide-ResNet encoder ``E_phi(x0, t) -> (mean, log_var)`` of DRL on images.

A WRN-d-w (Zagoruyko & Komodakis, BMVC 2016) of ``n = (d - 4) / 6`` pre-activation
residual blocks per stage (stages 16 w, 32 w, 64 w channels; strides 1, 2, 2),
whose every block receives the diffusion time as a per-channel bias: ``t`` is
mapped to ``log sigma(t)`` of the VE SDE, through Fourier features and a
two-layer SiLU MLP to a time embedding ``e(t)`` (64 features), and each block
adds ``Linear(SiLU(e(t)))`` to the output of its first convolution. After the
last stage: BatchNorm, ReLU, global average pooling to ``64 w`` features; the
probabilistic head is ``Linear(64 w -> 2 latent)`` (mean, log-variance), the
deterministic encoder returns the pooled features (``latent = 64 w``) or a linear
map of them. This is the official ``sarthmit/traj_drl`` encoder
(``diffusion_model/models/wrn.py`` lines 16-47 for the block, the time bias at
lines 36-40, lines 50-111 for the network, the probabilistic head at 78-79 and
108-109; the time embedding ``models/timeembedding.py`` lines 12-51: log sigma
with its own sigma 0.01..50, Gaussian Fourier features of scale 16, Linear 32 -> 64,
SiLU, Linear 64 -> 64), read, not copied. Differences: the Fourier features are
``FourierTimeEmbedding`` of etude-diffusion-samplers (fixed frequencies 0.1-100
with a learned phase, the issue's reuse) on ``log sigma(t)`` instead of Gaussian
random frequencies; sigma_min/sigma_max are the DRL SDE's (the official
embedding hard-codes 0.01/50, which equal the CIFAR config's SDE); the final
BatchNorm uses PyTorch's default momentum 0.1 (the official ``momentum=0.9``,
line 76, is TensorFlow's convention ported into PyTorch, where it weights the
*new* batch by 0.9); its unused classifier head is left out.

References:
    S. Zagoruyko, N. Komodakis, "Wide Residual Networks", BMVC 2016, arXiv:1605.07146;
    K. Abstreiter, S. Mittal, S. Bauer, B. Schölkopf, A. Mehrjou, "Diffusion-Based Representation
    Learning", arXiv:2105.14257 (unverified).

Examples:
    >>> import torch
    >>> enc = WRNEncoder(latent_dim=16, depth=10, widen_factor=1)
    >>> mean, log_var = enc(torch.rand(2, 3, 32, 32), torch.tensor([0.1, 0.9]))
    >>> mean.shape, log_var.shape
    (torch.Size([2, 16]), torch.Size([2, 16]))
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["LogSigmaEmbedding", "WRNEncoder"]


class LogSigmaEmbedding(nn.Module):
    """``t -> Linear(SiLU(Linear(Fourier(log sigma(t)))))`` (T, dim), sigma(t) = sigma_min (sigma_max/sigma_min)^t."""

    def __init__(self, sigma_min: float, sigma_max: float, *, harmonics: int = 16, dim: int = 64) -> None:
        super().__init__()
        from etude_diffusion_samplers.path.policy import FourierTimeEmbedding  # noqa: PLC0415

        self.log_sigma_min, self.log_ratio = math.log(sigma_min), math.log(sigma_max / sigma_min)
        self.fourier = FourierTimeEmbedding(harmonics)
        self.mlp = nn.Sequential(nn.Linear(self.fourier.out_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.out_dim = dim

    def forward(self, t: Tensor) -> Tensor:
        return self.mlp(self.fourier(self.log_sigma_min + self.log_ratio * t.reshape(-1)))


class _Block(nn.Module):
    """Pre-activation wide block; the time bias is added after the first convolution (official wrn.py:35-47)."""

    def __init__(self, cin: int, cout: int, stride: int, temb_dim: int, dropout: float) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, stride=stride, padding=1)
        self.time_bias = nn.Linear(temb_dim, cout)
        nn.init.zeros_(self.time_bias.bias)
        self.dropout = nn.Dropout(dropout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride=stride)

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = self.conv1(F.relu(self.bn1(x))) + self.time_bias(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.relu(self.bn2(self.dropout(h))))
        return h + self.shortcut(x)


class WRNEncoder(nn.Module):
    """Time-conditioned WRN-``depth``-``widen_factor`` encoder: ``forward(x0 (N, C, H, W), t (N,)) -> (mean, log_var)``.

    ``log_var`` is None for the deterministic encoder and clamped to [-30, 20]
    otherwise (as the MLP encoder). ``trajectory(x0, times)`` evaluates every
    (example, time) pair in one batched call (no factorisation: every block
    depends on t through its bias).
    """

    def __init__(self, latent_dim: int, *, depth: int = 28, widen_factor: int = 2, in_channels: int = 3,
                 sigma_min: float = 0.01, sigma_max: float = 50.0, harmonics: int = 16, temb_dim: int = 64,
                 probabilistic: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WRN depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got {depth}")
        if widen_factor < 1:
            raise ValueError(f"widen_factor must be >= 1, got {widen_factor}")
        n = (depth - 4) // 6
        widths = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.latent_dim, self.probabilistic, self.features = latent_dim, probabilistic, widths[-1]
        self.time_embedding = LogSigmaEmbedding(sigma_min, sigma_max, harmonics=harmonics, dim=temb_dim)
        self.stem = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        blocks, cin = [], widths[0]
        for stage, stride in zip(widths[1:], (1, 2, 2), strict=True):
            for i in range(n):
                blocks.append(_Block(cin, stage, stride if i == 0 else 1, temb_dim, dropout))
                cin = stage
        self.blocks = nn.ModuleList(blocks)
        self.bn = nn.BatchNorm2d(cin)
        if probabilistic:
            self.head: nn.Module = nn.Linear(cin, 2 * latent_dim)
        else:
            self.head = nn.Identity() if latent_dim == cin else nn.Linear(cin, latent_dim)

    def pooled(self, x0: Tensor, t: Tensor) -> Tensor:
        """The ``64 w`` pooled features before the head."""
        temb = self.time_embedding(t)
        h = self.stem(x0)
        for block in self.blocks:
            h = block(h, temb)
        return F.relu(self.bn(h)).mean((-2, -1))

    def forward(self, x0: Tensor, t: Tensor) -> tuple[Tensor, Tensor | None]:
        if x0.dim() != 4:
            raise ValueError(f"WRNEncoder expects images (N, C, H, W), got shape {tuple(x0.shape)}")
        out = self.head(self.pooled(x0, t.reshape(-1).expand(x0.shape[0])))
        if not self.probabilistic:
            return out, None
        mean, log_var = out.chunk(2, dim=-1)
        return mean, log_var.clamp(-30.0, 20.0)

    def trajectory(self, x0: Tensor, times: Tensor) -> tuple[Tensor, Tensor | None]:
        """``forward`` on all N x T (example, time) pairs in one call: (N, T, latent) means (and log-variances)."""
        n, k = x0.shape[0], times.numel()
        pairs = x0[:, None].expand(n, k, *x0.shape[1:]).reshape(n * k, *x0.shape[1:])
        mean, log_var = self(pairs, times.reshape(1, k).expand(n, k).reshape(-1))
        return mean.reshape(n, k, -1), None if log_var is None else log_var.reshape(n, k, -1)
