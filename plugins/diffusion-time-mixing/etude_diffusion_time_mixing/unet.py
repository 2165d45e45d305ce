"""A compact conditional U-Net score network ``s_theta(x_t, t, z)`` for images (DRL at full scale).

Residual blocks (GroupNorm, SiLU, 3x3 convolutions, dropout) at resolutions
``H / 2^l`` for the channel multipliers ``ch_mult``, strided-convolution
downsampling, nearest-neighbour upsampling with a convolution, skip
connections by concatenation, and an embedding added per block as a
per-channel bias. The embedding is the concatenation of a time embedding
(``LogSigmaEmbedding``: Fourier features of ``log sigma(t)``, 4 C features)
and ``Linear(z -> 4 C)``: the representation enters through the time
embedding, as in the official score model (``sarthmit/traj_drl``,
``diffusion_model/models/ncsnpp.py`` lines 97-98 and 310, read, not copied).
The output is divided by ``sigma(t)`` (score_sde's ``scale_by_sigma``,
``configs/ve/cifar10_ncsnpp_small_continuous.py`` line 42), so the network
predicts ``-eps``; the last convolution starts at zero.

It is much smaller than the official NCSN++ (even its "small" CIFAR config:
nf 16, four resolutions, two BigGAN residual blocks per resolution, attention at
16x16, progressive residual input, skip rescaling; lines 38-61 of that config):
defaults here are 32 channels, multipliers (1, 2, 2), one block per resolution
and no attention, so that a DRL step on 32x32x3 images runs on a CPU in the
tests; full runs need a GPU either way.

References:
    O. Ronneberger, P. Fischer, T. Brox, "U-Net", MICCAI 2015; Y. Song et al., "Score-Based Generative
    Modeling through Stochastic Differential Equations", ICLR 2021, arXiv:2011.13456.

Examples:
    >>> import torch
    >>> from etude_diffusion_time_mixing.sde import VESDE
    >>> net = ScoreUNet(latent_dim=8, sde=VESDE(0.01, 50.0), channels=8)
    >>> net(torch.randn(2, 3, 32, 32), torch.tensor([0.2, 0.7]), torch.randn(2, 8)).shape
    torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .sde import VESDE
from .wrn import LogSigmaEmbedding

__all__ = ["ScoreUNet"]


def _norm(channels: int) -> nn.GroupNorm:
    groups = next(g for g in (32, 16, 8, 4, 2, 1) if channels % g == 0 and channels // g >= 2 or g == 1)
    return nn.GroupNorm(groups, channels)


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.conv1 = _norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2, self.conv2 = _norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.skip(x)


class ScoreUNet(nn.Module):
    """``s_theta(x_t (N, C, H, W), t (N,), z (N, latent)) = UNet(x_t, [e(t), W z]) / sigma(t)``."""

    def __init__(self, latent_dim: int, sde: VESDE, *, in_channels: int = 3, channels: int = 32,
                 ch_mult: tuple[int, ...] = (1, 2, 2), num_res_blocks: int = 1, harmonics: int = 16,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if not ch_mult or num_res_blocks < 1 or channels < 1:
            raise ValueError(f"ScoreUNet needs channels >= 1, a non-empty ch_mult and num_res_blocks >= 1, got "
                             f"channels={channels}, ch_mult={ch_mult}, num_res_blocks={num_res_blocks}")
        self.sde, self.levels = sde, len(ch_mult)
        temb = 4 * channels
        self.time_embedding = LogSigmaEmbedding(sde.sigma_min, sde.sigma_max, harmonics=harmonics, dim=temb)
        self.latent_to_emb = nn.Linear(latent_dim, temb)
        emb = 2 * temb
        self.conv_in = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.down, self.downsample = nn.ModuleList(), nn.ModuleList()
        skips, c = [channels], channels
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.down.append(_ResBlock(c, channels * mult, emb, dropout))
                c = channels * mult
                skips.append(c)
            if level < self.levels - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid = nn.ModuleList([_ResBlock(c, c, emb, dropout), _ResBlock(c, c, emb, dropout)])
        self.up, self.upsample = nn.ModuleList(), nn.ModuleList()
        for level, mult in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                self.up.append(_ResBlock(c + skips.pop(), channels * mult, emb, dropout))
                c = channels * mult
            if level > 0:
                self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
        self.norm_out, self.conv_out = _norm(c), nn.Conv2d(c, in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.num_res_blocks = num_res_blocks

    def forward(self, xt: Tensor, t: Tensor, z: Tensor) -> Tensor:
        if xt.dim() != 4:
            raise ValueError(f"ScoreUNet expects images (N, C, H, W), got shape {tuple(xt.shape)}")
        if xt.shape[-1] % 2 ** (self.levels - 1) or xt.shape[-2] % 2 ** (self.levels - 1):
            raise ValueError(f"image size {tuple(xt.shape[-2:])} must be divisible by 2^{self.levels - 1} (ch_mult)")
        t = t.reshape(-1)
        emb = torch.cat([self.time_embedding(t), self.latent_to_emb(z)], -1)
        h = self.conv_in(xt)
        hs, blocks = [h], iter(self.down)
        for level in range(self.levels):
            for _ in range(self.num_res_blocks):
                h = next(blocks)(h, emb)
                hs.append(h)
            if level < self.levels - 1:
                h = self.downsample[level](h)
                hs.append(h)
        for block in self.mid:
            h = block(h, emb)
        blocks, ups = iter(self.up), iter(self.upsample)
        for level in reversed(range(self.levels)):
            for _ in range(self.num_res_blocks + 1):
                h = next(blocks)(torch.cat([h, hs.pop()], 1), emb)
            if level > 0:
                h = next(ups)(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        out = self.conv_out(F.silu(self.norm_out(h)))
        return out / self.sde.sigma(t).reshape(-1, 1, 1, 1)
