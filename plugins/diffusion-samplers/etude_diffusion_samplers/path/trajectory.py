"""Batched trajectories of the diffusion sampler and their log-densities.

A :class:`DiffusionPath` couples a :class:`~.policy.DiffusionPolicy` with the
reference Brownian motion ``W_t ~ N(0, sigma^2 t I)`` started at 0 and a time
grid. It samples trajectories forward (policy, optionally with extra
exploration variance, optionally reparametrised for PIS) and backward (the
fixed Brownian bridge from a terminal point to 0) and evaluates every
trajectory's per-step ``log p_F`` and ``log p_B``, vectorised over the batch.

Detach semantics (pitfall 1 of the paper): off-policy trajectories are sampled
under ``torch.no_grad``; their states never require grad and ``log p_F`` is
recomputed *with* gradients in one batched network call over all (x_k, t_k).
Reparametrised (PIS) trajectories keep the graph through the states.
Exploration only widens the sampling noise; ``log p_F`` is always the
policy's own density (pitfall 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..targets import log_prob_and_grad
from .kernels import backward_log_density, gaussian_log_prob, sample_bridge_path
from .policy import DiffusionPolicy
from .time_grid import check_grid, random_grid, uniform_grid


@dataclass
class Trajectory:
    """A batch of B trajectories on a grid of T steps.

    Attributes:
        states: (B, T+1, d), ``states[:, 0] = 0``.
        grid: (T+1,) times.
        log_pf: (B, T) per-step policy log-densities (no exploration term).
        log_pb: (B, T) per-step bridge log-densities (``log_pb[:, 0] = 0``).
        log_r: (B,) ``log R(x_T)``.
        log_f: (B, T+1) log flows (FL-SubTB / DB), ``log_f[:, -1] = log R``; or None.
        grad_log_r: (B, T, d) scores at ``x_0..x_{T-1}`` (Langevin policies), or None.
        log_r_states: (B, T) ``log R(x_k)`` for ``k < T`` where computed, or None.
    """

    states: Tensor
    grid: Tensor
    log_pf: Tensor
    log_pb: Tensor
    log_r: Tensor
    log_f: Tensor | None = None
    grad_log_r: Tensor | None = None
    log_r_states: Tensor | None = None

    @property
    def terminal(self) -> Tensor:
        return self.states[:, -1]

    @property
    def log_weight(self) -> Tensor:
        """``log R(x_T) + sum log p_B - sum log p_F`` (B,): the importance log-weight of each trajectory."""
        return self.log_r + self.log_pb.sum(-1) - self.log_pf.sum(-1)


class DiffusionPath(nn.Module):
    """Euler-Maruyama policy path from a point mass at 0 with the Brownian-bridge backward process.

    Args:
        policy: the drift network.
        sigma2: the reference variance per unit time (``t_scale``).
        n_steps: number of steps T.
        grid: ``"uniform"`` (the paper) or ``"random"`` (step ratio at most ``max_ratio``).
        forward_looking: add the forward-looking term to the flow (FL-SubTB).
        base_drift: optional fixed drift ``b(x (N, d), t (N,)) -> (N, d)`` added to the
            policy's drift in every forward kernel (sampling, reparametrised sampling and
            :meth:`forward_log_density`): ``u(x, t) = b(x, t) + NN(x, t)``. With a
            zero-initialised policy the path is exactly the process of ``b`` (a residual
            fine-tuning parametrisation, e.g. RTB over an analytic prior). ``None``: no term.
    """

    def __init__(
        self,
        policy: DiffusionPolicy,
        *,
        sigma2: float,
        n_steps: int,
        grid: str = "uniform",
        max_ratio: float = 10.0,
        forward_looking: bool = False,
        base_drift=None,
    ) -> None:
        super().__init__()
        if base_drift is not None and not callable(base_drift):
            raise TypeError(f"base_drift must be a callable (x (N, d), t (N,)) -> (N, d) or None, got {type(base_drift).__name__}")
        self.base_drift = base_drift
        if grid not in ("uniform", "random"):
            raise ValueError(f"grid must be 'uniform' or 'random', got {grid!r}")
        if not sigma2 > 0:
            raise ValueError(f"sigma2 must be > 0, got {sigma2}")
        self.policy, self.sigma2, self.n_steps = policy, float(sigma2), int(n_steps)
        self.grid_kind, self.max_ratio, self.forward_looking = grid, max_ratio, forward_looking

    @property
    def dim(self) -> int:
        return self.policy.dim

    def _ref(self) -> Tensor:
        return next(self.policy.parameters())

    def make_grid(self, generator: torch.Generator | None = None) -> Tensor:
        ref = self._ref()
        if self.grid_kind == "uniform":
            return uniform_grid(self.n_steps, dtype=ref.dtype, device=ref.device)
        return random_grid(self.n_steps, max_ratio=self.max_ratio, generator=generator, dtype=ref.dtype, device=ref.device)

    # -- log-densities -----------------------------------------------------
    def forward_log_density(self, states: Tensor, grid: Tensor, grad_log_r: Tensor | None = None) -> Tensor:
        """Per-step ``log p_F(x_{k+1} | x_k)`` (B, T) in one batched network call (graph kept)."""
        b, t1, d = states.shape
        n = t1 - 1
        emb, lgv = self.policy.embed_times(grid[:-1])
        xs = states[:, :-1].reshape(b * n, d)
        g = None if grad_log_r is None else grad_log_r.reshape(b * n, d)
        drift, h = self.policy(xs, emb.repeat(b, 1), None if lgv is None else lgv.repeat(b, 1), g)
        if self.base_drift is not None:
            drift = drift + self.base_drift(xs, grid[:-1].repeat(b))
        dt = (grid[1:] - grid[:-1]).repeat(b)[:, None]
        mean = xs + drift * dt
        log_var = torch.log(self.sigma2 * dt) + h
        return gaussian_log_prob(states[:, 1:].reshape(b * n, d), mean, log_var).reshape(b, n)

    def backward_log_density(self, states: Tensor, grid: Tensor) -> Tensor:
        """Per-step ``log p_B(x_k | x_{k+1})`` (B, T) of the fixed bridge."""
        return backward_log_density(states, grid, self.sigma2)

    def log_flows(self, states: Tensor, grid: Tensor, target, log_r_states: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``(log f (B, T+1) without the terminal column filled, log R(x_k) (B, T) or None)``.

        ``log f(x_k, t_k) = NN_f(x_k, t_k)`` plus, when forward-looking,
        ``(1 - t_k) log N(x_k; 0, sigma^2 max(t_k, t_1) I) + t_k log R(x_k)``.
        """
        b, t1, d = states.shape
        n = t1 - 1
        emb, _ = self.policy.embed_times(grid[:-1])
        xs = states[:, :-1].reshape(b * n, d)
        log_f = self.policy.log_flow(xs, emb.repeat(b, 1)).reshape(b, n)
        if self.forward_looking:
            if log_r_states is None:
                with torch.no_grad():
                    log_r_states = target.log_prob(xs).reshape(b, n)
            t = grid[:-1]
            ref_var = self.sigma2 * torch.clamp(t, min=float(grid[1]))
            log_ref = -0.5 * ((states[:, :-1] ** 2).sum(-1) / ref_var + d * torch.log(2 * math.pi * ref_var))
            log_f = log_f + (1 - t) * log_ref + t * log_r_states.detach()
        return torch.cat([log_f, log_f.new_zeros(b, 1)], 1), log_r_states

    # -- sampling ----------------------------------------------------------
    def _scores(self, target, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if not self.policy.langevin:
            return None, None
        return log_prob_and_grad(target, x)

    def sample_forward(
        self,
        n: int,
        target,
        *,
        exploration: float = 0.0,
        reparam: bool = False,
        generator: torch.Generator | None = None,
        grid: Tensor | None = None,
        with_grad: bool = True,
        flows: bool = False,
    ) -> Trajectory:
        """Sample ``n`` forward trajectories from 0.

        ``exploration``: extra per-step variance ``exploration^2`` used only to
        sample (paper-era form: ``sigma^2 dt e^h + expl^2``). ``reparam``: keep
        the graph through the states (PIS). ``with_grad``: recompute ``log p_F``
        with gradients (off-policy training); otherwise every tensor is detached.
        """
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if exploration < 0:
            raise ValueError(f"exploration must be >= 0, got {exploration}")
        ref = self._ref()
        grid = self.make_grid(generator) if grid is None else check_grid(grid).to(ref)
        n_steps, d = grid.numel() - 1, self.dim
        noise = torch.randn(n, n_steps, d, generator=generator, dtype=ref.dtype).to(ref.device)
        if reparam:
            return self._sample_reparam(n, target, grid, noise, exploration, flows)
        states = ref.new_zeros(n, n_steps + 1, d)
        log_pf = ref.new_zeros(n, n_steps)
        grads = ref.new_zeros(n, n_steps, d) if self.policy.langevin else None
        lrs = ref.new_zeros(n, n_steps) if self.policy.langevin else None
        with torch.no_grad():
            emb, lgv = self.policy.embed_times(grid[:-1])
            x = states[:, 0]
            for k in range(n_steps):
                lr, g = self._scores(target, x)
                if g is not None:
                    grads[:, k], lrs[:, k] = g, lr
                drift, h = self.policy(x, emb[k : k + 1], None if lgv is None else lgv[k : k + 1], g)
                if self.base_drift is not None:
                    drift = drift + self.base_drift(x, grid[k].expand(x.shape[0]))
                dt = grid[k + 1] - grid[k]
                var = self.sigma2 * dt * torch.exp(h)
                std_sample = torch.sqrt(var + exploration**2) if exploration > 0 else torch.sqrt(var)
                mean = x + drift * dt
                x_new = mean + std_sample * noise[:, k]
                log_pf[:, k] = gaussian_log_prob(x_new, mean, torch.log(var))
                states[:, k + 1] = x_new
                x = x_new
            log_r = target.log_prob(states[:, -1])
            log_pb = self.backward_log_density(states, grid)
        if with_grad:
            log_pf = self.forward_log_density(states, grid, grads)
        log_f = None
        if flows:
            with torch.set_grad_enabled(with_grad):
                log_f, lrs = self.log_flows(states, grid, target, lrs)
            log_f = torch.cat([log_f[:, :-1], log_r[:, None]], 1)
        return Trajectory(states, grid, log_pf, log_pb, log_r, log_f, grads, lrs)

    def _sample_reparam(self, n, target, grid, noise, exploration, flows) -> Trajectory:
        emb, lgv = self.policy.embed_times(grid[:-1])
        x = noise.new_zeros(n, self.dim)
        states, log_pf = [x], []
        for k in range(grid.numel() - 1):
            _, g = self._scores(target, x)
            drift, h = self.policy(x, emb[k : k + 1], None if lgv is None else lgv[k : k + 1], g)
            if self.base_drift is not None:
                drift = drift + self.base_drift(x, grid[k].expand(x.shape[0]))
            dt = grid[k + 1] - grid[k]
            var = self.sigma2 * dt * torch.exp(h)
            mean = x + drift * dt
            x_new = mean + torch.sqrt(var + exploration**2) * noise[:, k]
            log_pf.append(gaussian_log_prob(x_new, mean, torch.log(var)))
            states.append(x_new)
            x = x_new
        states_t = torch.stack(states, 1)
        log_r = target.log_prob(states_t[:, -1])
        log_pb = self.backward_log_density(states_t, grid)
        log_f = None
        if flows:
            log_f, _ = self.log_flows(states_t, grid, target)
            log_f = torch.cat([log_f[:, :-1], log_r[:, None]], 1)
        return Trajectory(states_t, grid, torch.stack(log_pf, 1), log_pb, log_r, log_f)

    def sample_backward(
        self,
        x1: Tensor,
        target,
        *,
        generator: torch.Generator | None = None,
        grid: Tensor | None = None,
        with_grad: bool = True,
        log_r: Tensor | None = None,
        flows: bool = False,
    ) -> Trajectory:
        """Backward trajectories from terminal points ``x1`` (B, d) to 0 under the bridge; ``log p_F`` batched."""
        if not isinstance(x1, Tensor) or x1.ndim != 2 or x1.shape[1] != self.dim:
            raise ValueError(f"x1 must have shape (B, {self.dim}), got {tuple(getattr(x1, 'shape', ()))}")
        ref = self._ref()
        x1 = x1.detach().to(ref)
        grid = self.make_grid(generator) if grid is None else check_grid(grid).to(ref)
        states = sample_bridge_path(x1, grid, self.sigma2, generator)
        b, n_steps = x1.shape[0], grid.numel() - 1
        grads = lrs = None
        if self.policy.langevin:
            lr_flat, g_flat = log_prob_and_grad(target, states[:, :-1].reshape(b * n_steps, self.dim))
            grads, lrs = g_flat.reshape(b, n_steps, self.dim), lr_flat.reshape(b, n_steps)
        with torch.set_grad_enabled(with_grad and torch.is_grad_enabled()):
            log_pf = self.forward_log_density(states, grid, grads)
        with torch.no_grad():
            log_pb = self.backward_log_density(states, grid)
            log_r = target.log_prob(x1) if log_r is None else log_r.detach().to(ref)
        log_f = None
        if flows:
            with torch.set_grad_enabled(with_grad):
                log_f, lrs = self.log_flows(states, grid, target, lrs)
            log_f = torch.cat([log_f[:, :-1], log_r[:, None]], 1)
        return Trajectory(states, grid, log_pf, log_pb, log_r, log_f, grads, lrs)
