"""The forward policy network: drift (and optional log-variance) with a Fourier time embedding.

``u(x, t) = NN_1(x, t) [+ NN_2(t) * clip(grad log R(x), +-lgv_clip)]``, clipped to ``+-gfn_clip``.
The last layers are zero-initialised (PIS architecture), so an untrained
policy is Brownian motion. With ``learned_variance`` a second head gives
``h = tanh(.) * log_var_range`` and the step variance is ``sigma^2 dt exp(h)``.
An optional flow head ``NN_f(x, t)`` serves the sub-trajectory and detailed balance objectives.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FourierTimeEmbedding(nn.Module):
    """PIS-style time features: ``[sin(w t + phi), cos(w t + phi)]`` with ``w`` in linspace(0.1, 100), learned phase."""

    def __init__(self, harmonics: int) -> None:
        super().__init__()
        self.register_buffer("coeff", torch.linspace(0.1, 100.0, harmonics)[None])
        self.phase = nn.Parameter(torch.randn(harmonics)[None])
        self.out_dim = 2 * harmonics

    def forward(self, t: Tensor) -> Tensor:
        arg = t.reshape(-1, 1) * self.coeff + self.phase
        return torch.cat([torch.sin(arg), torch.cos(arg)], -1)


def _mlp(sizes: list[int], *, zero_last: bool = False, last_bias: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.GELU())
    if zero_last:
        nn.init.zeros_(layers[-1].weight)
        nn.init.constant_(layers[-1].bias, last_bias)
    return nn.Sequential(*layers)


class DiffusionPolicy(nn.Module):
    """Drift network of the diffusion sampler (see module docstring for the parametrisation)."""

    def __init__(
        self,
        dim: int,
        *,
        hidden_dim: int = 64,
        s_emb_dim: int = 64,
        t_emb_dim: int = 64,
        harmonics: int = 64,
        joint_layers: int = 2,
        learned_variance: bool = False,
        log_var_range: float = 4.0,
        langevin: bool = False,
        langevin_per_dim: bool = True,
        lgv_layers: int = 3,
        lgv_clip: float = 1e2,
        gfn_clip: float = 1e4,
        flow: bool = False,
    ) -> None:
        super().__init__()
        self.dim, self.learned_variance, self.log_var_range = dim, learned_variance, log_var_range
        self.langevin, self.lgv_clip, self.gfn_clip = langevin, lgv_clip, gfn_clip
        self.time_features = FourierTimeEmbedding(harmonics)
        self.t_encoder = _mlp([self.time_features.out_dim, hidden_dim, t_emb_dim])
        self.s_encoder = nn.Sequential(nn.Linear(dim, s_emb_dim), nn.GELU())
        out = 2 * dim if learned_variance else dim
        self.joint = _mlp([s_emb_dim + t_emb_dim] + [hidden_dim] * joint_layers + [out], zero_last=True)
        if langevin:
            n_out = dim if langevin_per_dim else 1
            self.lgv_scale = _mlp(
                [self.time_features.out_dim] + [hidden_dim] * (lgv_layers - 1) + [n_out], zero_last=True, last_bias=0.01
            )
        self.flow = _mlp([s_emb_dim + t_emb_dim, hidden_dim, hidden_dim, 1]) if flow else None

    def embed_times(self, t: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(time embedding (n, t_emb), Langevin scale (n, d or 1) or None)`` for times ``t`` (n,)."""
        feats = self.time_features(t)
        return self.t_encoder(feats), (self.lgv_scale(feats) if self.langevin else None)

    def forward(
        self, x: Tensor, t_emb: Tensor, lgv_scale: Tensor | None = None, grad_log_r: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(drift u (N, d), log-variance offset h (N, d))`` at states ``x`` (N, d) with embedded times (N or 1, .)."""
        s = self.s_encoder(x)
        out = self.joint(torch.cat([s, t_emb.expand(s.shape[0], -1)], -1))
        if self.learned_variance:
            drift, raw = out[:, : self.dim], out[:, self.dim :]
            h = torch.tanh(raw) * self.log_var_range
        else:
            drift, h = out, torch.zeros_like(out)
        if self.langevin:
            if grad_log_r is None:
                raise ValueError("the Langevin parametrisation needs grad_log_r (the target's score at x)")
            g = torch.nan_to_num(grad_log_r).clamp(-self.lgv_clip, self.lgv_clip)
            drift = drift + lgv_scale.expand(x.shape[0], -1) * g
        return drift.clamp(-self.gfn_clip, self.gfn_clip), h

    def log_flow(self, x: Tensor, t_emb: Tensor) -> Tensor:
        """Learned part of the log flow ``NN_f(x, t)`` (N,)."""
        if self.flow is None:
            raise RuntimeError("this policy was built without a flow head (flow=False)")
        s = self.s_encoder(x)
        return self.flow(torch.cat([s, t_emb.expand(s.shape[0], -1)], -1)).squeeze(-1)
