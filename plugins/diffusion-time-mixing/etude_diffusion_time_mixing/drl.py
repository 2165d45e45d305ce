"""Diffusion-based representation learning (DRL): a time-conditioned encoder inside a score model.

The score network ``s_theta(x_t, t, z)`` of a VE-SDE diffusion model is
conditioned on a representation ``z = E_phi(x0, t)`` of the *clean* input,
computed at the same diffusion time ``t``. Trained by denoising score
matching, the encoder must carry the information about ``x0`` that the noise
at level ``t`` destroyed, so ``E_phi(x0, t)`` is a representation that
depends on the noise level: one input gives a whole trajectory
``t -> E_phi(x0, t)``. The probabilistic encoder returns a mean and a
log-variance; training samples ``z`` by reparametrisation and adds
``lambda_z KL(N(mu, sigma^2) || N(0, I))``; the representation is the mean.

Loss (per example, averaged over the minibatch)::

    1/2 || sigma_t s_theta(x0 + sigma_t eps, t, z) + eps ||^2 + lambda_z KL,   t ~ U(t_min, 1)

The one half is the official code's (``sarthmit/traj_drl``,
``diffusion_model/losses.py`` line 72 with ``reduce_mean=False``, the default
of ``configs/default_cifar10_configs.py`` line 23); ``reduction="sum"`` drops
it (the issue's form), ``"mean"`` averages over data dimensions.

The score network's output is divided by ``sigma_t`` (score_sde's
``scale_by_sigma``), so the network predicts ``-eps``.

References:
    K. Abstreiter, S. Mittal, S. Bauer, B. Schölkopf, A. Mehrjou, "Diffusion-Based Representation
    Learning", arXiv:2105.14257 (unverified); S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points
    to Functions: Infinite-dimensional Representations in Diffusion Models", preprint 2022,
    arXiv:2210.13774 (unverified).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Estimator

from .objective import REDUCTIONS, WEIGHTINGS, dsm_loss, latent_penalty
from .sde import VESDE

__all__ = ["DRL", "DRLConfig", "DRLEncoder", "ScoreNetwork", "time_grid"]


def time_grid(num_steps: int, device: Any = None, dtype: torch.dtype = torch.float32) -> Tensor:
    """The paper's grid ``t_k = k / K``, k = 0..K (both ends: K + 1 times)."""
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps K must be an integer >= 1 (K + 1 times t_k = k/K), got {num_steps!r}")
    return torch.arange(num_steps + 1, device=device, dtype=dtype) / num_steps


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def _time_embedding(harmonics: int) -> nn.Module:
    from etude_diffusion_samplers.path.policy import FourierTimeEmbedding  # noqa: PLC0415

    return FourierTimeEmbedding(harmonics)


class DRLEncoder(nn.Module):
    """Time-conditioned MLP encoder ``E_phi(x0, t) -> (mean, log_var)`` (``log_var`` None when deterministic).

    Input ``[x0, FourierTimeEmbedding(t)]`` through ``depth`` SiLU layers of
    ``width`` to ``2 * latent_dim`` outputs (mean and log-variance) or
    ``latent_dim`` (deterministic). The log-variance is clamped to [-30, 20].
    """

    def __init__(self, in_features: int, latent_dim: int, *, width: int = 256, depth: int = 2,
                 harmonics: int = 16, probabilistic: bool = True) -> None:
        super().__init__()
        self.in_features, self.latent_dim, self.probabilistic = in_features, latent_dim, probabilistic
        self.time_features = _time_embedding(harmonics)
        out = 2 * latent_dim if probabilistic else latent_dim
        self.net = _mlp([in_features + self.time_features.out_dim, *([width] * depth), out])

    def forward(self, x0: Tensor, t: Tensor) -> tuple[Tensor, Tensor | None]:
        return self._head(self.net(torch.cat([x0.reshape(x0.shape[0], -1), self.time_features(t)], -1)))

    def _head(self, h: Tensor) -> tuple[Tensor, Tensor | None]:
        if not self.probabilistic:
            return h, None
        mean, log_var = h.chunk(2, dim=-1)
        return mean, log_var.clamp(-30.0, 20.0)

    def trajectory(self, x0: Tensor, times: Tensor) -> tuple[Tensor, Tensor | None]:
        """``forward`` at every (example, time) pair: (N, T, latent) means (and log-variances), in one pass.

        Exact factorisation of the first layer: ``W [x; emb(t)] + b = W_x x +
        (W_t emb(t) + b)``, so ``W_x x`` is computed once per example (not once
        per pair) and ``W_t emb(t) + b`` once per time; they are added by
        broadcasting to (N, T, width) and the remaining layers run on every pair.
        Equal to ``forward`` on the N x T expanded pairs up to float rounding.
        """
        first = self.net[0]
        d = x0[0].numel()
        hx = x0.reshape(x0.shape[0], -1) @ first.weight[:, :d].T  # (N, width), once per example
        ht = torch.nn.functional.linear(self.time_features(times), first.weight[:, d:], first.bias)  # (T, width)
        return self._head(self.net[1:](hx[:, None, :] + ht[None, :, :]))


class ScoreNetwork(nn.Module):
    """Conditional score MLP ``s_theta(x_t, t, z) = net([x_t, emb(t), z]) / sigma(t)``."""

    def __init__(self, in_features: int, latent_dim: int, sde: VESDE, *, width: int = 256, depth: int = 2,
                 harmonics: int = 16) -> None:
        super().__init__()
        self.sde = sde
        self.time_features = _time_embedding(harmonics)
        self.net = _mlp([in_features + self.time_features.out_dim + latent_dim, *([width] * depth), in_features])

    def forward(self, xt: Tensor, t: Tensor, z: Tensor) -> Tensor:
        flat = xt.reshape(xt.shape[0], -1)
        out = self.net(torch.cat([flat, self.time_features(t), z], -1))
        return (out / self.sde.sigma(t)[:, None]).reshape(xt.shape)


@configclass
class DRLConfig:
    in_features: int = field(validator=positive, doc="input dimension d (inputs (N, ...) are flattened to it)")
    latent_dim: int = field(default=16, validator=positive, doc="representation size (the paper: 64 w for WRN-28-w)")
    width: int = field(default=256, validator=positive, doc="hidden width of the encoder and score MLPs")
    depth: int = field(default=2, validator=positive, doc="hidden layers of the encoder and score MLPs")
    harmonics: int = field(default=16, validator=positive, doc="harmonics of the Fourier time embedding (2x features)")
    probabilistic: bool = field(default=True, doc="Gaussian encoder (mean, log-variance) with a KL penalty; "
                                "False: deterministic encoder with an L1 penalty")
    lambda_z: float = field(default=1.0, validator=non_negative, doc="weight of the latent penalty (KL or L1)")
    sigma_min: float = field(default=0.01, validator=positive, doc="VE SDE sigma(0)")
    sigma_max: float = field(default=10.0, validator=positive, doc="VE SDE sigma(1)")
    t_min: float = field(default=1e-3, validator=in_range(0.0, 1.0, high_open=True), doc="t ~ U(t_min, 1) in training")
    weighting: str = field(default="sigma2", validator=one_of(*WEIGHTINGS),
                           doc="'sigma2': ||sigma s + eps||^2; 'likelihood': g(t)^2 ||s + eps/sigma||^2")
    reduction: str = field(default="half-sum", validator=one_of(*REDUCTIONS),
                           doc="DSM squares over data dims: 'half-sum' (0.5 sum, the official traj_drl losses.py:72), "
                               "'sum' (the issue's form) or 'mean'")
    lr: float = field(default=2e-4, validator=positive, doc="Adam learning rate")
    batch_size: int = field(default=128, validator=positive, doc="minibatch size (drawn with replacement)")
    steps: int = field(default=2000, validator=positive, doc="training steps of fit (steps=None)")
    num_steps: int = field(default=5, validator=positive, doc="K of estimate's default grid t_k = k/K")

    def __attrs_post_init__(self) -> None:
        if self.sigma_max <= self.sigma_min:
            raise FieldValueError("sigma_max", self.sigma_max, f"> sigma_min={self.sigma_min}")


def _check_inputs(x: Any, name: str, in_features: int) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor (N, ...), got {type(x).__name__}"
                         + (f" of {x.dtype}" if isinstance(x, Tensor) else ""))
    if x.dim() < 2 or x[0].numel() != in_features:
        raise ValueError(f"{name} must have shape (N, ...) with {in_features} features per example "
                         f"(in_features), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf values; clean the data before fitting")
    return x


class DRL(Estimator, nn.Module):
    """Diffusion-based representation learning: encoder + conditional score model on a VE SDE.

    ``fit(x)`` minimises the DSM loss with the encoder's representation plus
    ``lambda_z`` times its KL (or L1) penalty (module docstring); ``estimate(x,
    times)`` returns the *trajectory of encoder means* ``(N, K + 1, latent)``
    at ``times`` (default ``t_k = k / K``, K = ``num_steps``), computed in one
    batched encoder call.

    References:
        Abstreiter, Mittal, Bauer, Schölkopf, Mehrjou, "Diffusion-Based Representation Learning",
        arXiv:2105.14257 (unverified); Mittal, Lajoie, Bauer, Mehrjou, "From Points to Functions",
        preprint 2022, arXiv:2210.13774 (unverified).

    Examples:
        >>> import torch
        >>> drl = DRL(in_features=8, latent_dim=4, width=32, steps=20)
        >>> x = torch.randn(64, 8)
        >>> drl.fit(x, seed=0).estimate(x[:5]).shape
        torch.Size([5, 6, 4])
    """

    Config = DRLConfig

    def __init__(self, config: DRLConfig | None = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        Estimator.__init__(self, config, **overrides)
        c = self.config
        self.sde = VESDE(c.sigma_min, c.sigma_max)
        self.encoder = DRLEncoder(c.in_features, c.latent_dim, width=c.width, depth=c.depth,
                                  harmonics=c.harmonics, probabilistic=c.probabilistic)
        self.score = ScoreNetwork(c.in_features, c.latent_dim, self.sde, width=c.width, depth=c.depth,
                                  harmonics=c.harmonics)
        self.history: list[float] = []

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def losses(self, x0: Tensor, t: Tensor, eps: Tensor, latent_noise: Tensor | None = None, *,
               zero_latent: bool = False) -> dict[str, Tensor]:
        """Per-example terms for given ``t`` (N,), data noise ``eps`` and latent noise: ``dsm``, ``penalty``, ``loss`` (scalar).

        ``latent_noise`` (N, latent) reparametrises ``z = mu + sigma * noise``
        (None: ``z = mu``); ``zero_latent=True`` feeds ``z = 0`` (a plain score model's DSM).
        """
        c = self.config
        mean, log_var = self.encoder(x0, t)
        if zero_latent:
            z = torch.zeros_like(mean)
        elif latent_noise is not None and log_var is not None:
            z = mean + torch.exp(0.5 * log_var) * latent_noise
        else:
            z = mean
        xt = x0 + self.sde.sigma(t).reshape(-1, *([1] * (x0.dim() - 1))) * eps
        dsm = dsm_loss(self.score(xt, t, z), eps, t, self.sde, c.weighting, c.reduction)
        penalty = latent_penalty(mean, log_var, "kl" if c.probabilistic else "l1")
        return {"dsm": dsm, "penalty": penalty, "loss": dsm.mean() + c.lambda_z * penalty.mean()}

    def fit(self, x: Tensor, *, steps: int | None = None, progress: bool = False, seed: int | None = None,
            **kwargs: Any) -> DRL:
        """Adam on the DRL loss for ``steps`` minibatches of ``batch_size`` drawn with replacement from ``x``.

        Randomness (batches, t, noise) comes from a CPU generator seeded with
        ``seed`` (None: drawn from torch's global RNG).
        """
        if kwargs:
            raise TypeError(f"DRL.fit got unexpected keywords {sorted(kwargs)}")
        from etude.runtime import check_finite  # noqa: PLC0415

        c = self.config
        x = _check_inputs(x, "x", c.in_features)
        n = x.shape[0]
        steps = c.steps if steps is None else steps
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)))
        gen = torch.Generator().manual_seed(int(seed))
        dev = self.device
        x = x.to(dev, next(self.parameters()).dtype)
        optimiser = getattr(self, "_optimiser", None) or torch.optim.Adam(self.parameters(), lr=c.lr)
        self._optimiser = optimiser
        self.train()
        it: Any = range(steps)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            it = tqdm(it, desc="DRL", leave=False)
        for step in it:
            idx = torch.randint(0, n, (c.batch_size,), generator=gen).to(dev)
            x0 = x[idx]
            t = (c.t_min + (1.0 - c.t_min) * torch.rand(c.batch_size, generator=gen, dtype=x0.dtype)).to(dev)
            eps = torch.randn(x0.shape, generator=gen, dtype=x0.dtype).to(dev)
            noise = torch.randn((c.batch_size, c.latent_dim), generator=gen, dtype=x0.dtype).to(dev)
            loss = self.losses(x0, t, eps, noise if c.probabilistic else None)["loss"]
            self.history.append(check_finite(loss, step=step, name="DRL loss"))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        self.eval()
        return self

    @torch.no_grad()
    def encode(self, x: Tensor, t: Tensor | float) -> Tensor:
        """Encoder mean ``E_phi(x, t)`` (N, latent) at one time per example (``t`` (N,) or a scalar)."""
        x = _check_inputs(x, "x", self.config.in_features)
        p = next(self.parameters())
        x = x.to(p.device, p.dtype)
        t = torch.as_tensor(t, dtype=p.dtype, device=p.device)
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        was = self.training
        self.eval()
        try:
            return self.encoder(x, t)[0]
        finally:
            self.train(was)

    @torch.no_grad()
    def estimate(self, x: Tensor, times: Tensor | None = None, *, batch_size: int = 1024, **kwargs: Any) -> Tensor:
        """Trajectory of encoder means ``(N, len(times), latent)`` (default ``times = k / K``), all times batched.

        All N x len(times) (example, time) pairs go through
        ``DRLEncoder.trajectory`` (the input layer's x-part computed once per
        example, its time part once per time), in chunks of about
        ``batch_size`` pairs to bound memory.
        """
        if kwargs:
            raise TypeError(f"DRL.estimate got unexpected keywords {sorted(kwargs)}")
        x = _check_inputs(x, "x", self.config.in_features)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer (pairs per chunk), got {batch_size!r}")
        p = next(self.parameters())
        times = time_grid(self.config.num_steps) if times is None else torch.as_tensor(times)
        if times.dim() != 1 or not torch.isfinite(times).all() or times.numel() == 0:
            raise ValueError(f"times must be a non-empty 1-D tensor of finite times, got shape {tuple(times.shape)}")
        times = times.to(p.device, p.dtype)
        x = x.to(p.device, p.dtype).reshape(x.shape[0], -1)
        rows = max(1, batch_size // times.numel())  # examples per chunk
        was = self.training
        self.eval()
        try:
            return torch.cat([self.encoder.trajectory(x[i:i + rows], times)[0] for i in range(0, x.shape[0], rows)])
        finally:
            self.train(was)
