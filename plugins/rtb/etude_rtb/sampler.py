"""Relative trajectory balance (RTB) and the RL fine-tuning baselines, as etude Samplers.

RTB (Venkatraman et al. 2024, Prop. 1) fine-tunes a posterior diffusion process
``p_phi`` from a prior ``p_theta`` so that, on every trajectory ``tau = (x_0 .. x_1)``,

    Z_phi p_phi(tau) = r(x_1)^beta p_theta(tau),

whose minimiser samples ``p_theta(x_1) r(x_1)^beta / Z`` with ``Z_phi = Z``. The loss is

    L(tau) = (log Z_phi + sum_k log p_phi(x_{k+1} | x_k) - sum_k log p_theta(x_{k+1} | x_k) - beta log r(x_1))^2

on trajectories from anywhere (on-policy, exploration-inflated, a replay buffer of
bridge-noised high-reward points), since nothing back-propagates through the sampler.
Scoring is batched: one ``forward_log_density`` call for the posterior (with
gradients) and one for the prior (without), on the same detached states; only the
T sampling calls are sequential.

``objective="reinforce"`` gives the RL rows: REINFORCE on ``r`` with advantage
``r - mean r`` (the DDPO-like row) plus ``kl_weight (sum log p_phi - sum log p_theta)^2``
(the reference toy's term; it is a squared log-ratio, *not* DPOK's per-step KL bound).

References:
    S. Venkatraman, M. Jain, L. Scimeca, M. Kim, M. Sendera, M. Hasan, L. Rowe, S. Mittal,
    P. Lemos, E. Bengio, A. Adam, J. Rector-Brooks, Y. Bengio, G. Berseth, N. Malkin,
    "Amortizing intractable inference in diffusion models for vision, language, and
    control", NeurIPS 2024, arXiv:2405.20971.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Sampler
from etude_diffusion_samplers.exploration import ExplorationSchedule
from etude_diffusion_samplers.local_search import ReplayBuffer
from etude_diffusion_samplers.path import DiffusionPath, DiffusionPolicy, Trajectory
from etude_diffusion_samplers.path.kernels import gaussian_log_prob

from .priors import BrownianPrior, path_drift


def _int(lo: int):
    def check(instance, attribute, value):
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            raise FieldValueError(attribute.name, value, f"an integer >= {lo}")

    return check


@configclass
class RTBConfig:
    # default Brownian prior (used when fit() gets no prior)
    n_steps: int = field(default=100, validator=_int(1), doc="T of the default Brownian prior (a given prior brings its own)")
    t_scale: float = field(default=5.0, validator=positive, doc="sigma^2 of the default Brownian prior (a given prior brings its own)")
    # parametrisation
    parametrisation: str = field(default="copy", validator=one_of("copy", "residual"),
                                 doc="'copy': the posterior starts as a deep copy of the prior's policy (the reference); "
                                 "'residual': a zero-init policy over the prior's drift (base_drift)")
    hidden_dim: int = field(default=64, validator=_int(1), doc="hidden width of a new (residual) policy")
    joint_layers: int = field(default=2, validator=_int(1), doc="hidden layers of a new (residual) policy")
    harmonics: int = field(default=64, validator=_int(1), doc="Fourier harmonics of a new policy's time embedding")
    langevin: bool = field(default=False, doc="residual policy with the Langevin bias NN_2(t) * clip(grad log r(x_t))")
    learned_variance: bool = field(default=False, doc="residual policy with a learned log-variance offset (the exact "
                                   "posterior transitions of a Gaussian reward have a smaller variance than the prior's)")
    # objective
    objective: str = field(default="tb", validator=one_of("tb", "vargrad", "reinforce"),
                           doc="'tb': RTB with a learned log Z_phi; 'vargrad': relative VarGrad; 'reinforce': the RL rows")
    beta: float = field(default=1.0, validator=positive, doc="temperature: the posterior is p_theta r^beta / Z")
    loss_clip: float = field(default=0.0, validator=non_negative, doc="skip trajectories whose loss is below this (0 = off)")
    log_r_clip: float = field(default=-1e30, doc="lower clip of log r (torchgfn's log_reward_clip_min)")
    kl_weight: float = field(default=0.0, validator=non_negative, doc="reinforce only: weight of (sum log p_phi - sum log p_theta)^2")
    grad_fraction: float = field(default=1.0, validator=in_range(0.0, 1.0, low_open=True),
                                 doc="fraction of time steps that carry gradient (paper §H.1); 1 = all")
    # optimisation
    lr_policy: float = field(default=1e-3, validator=positive, doc="Adam learning rate of the policy")
    lr_log_z: float = field(default=1e-1, validator=positive, doc="learning rate of log Z_phi")
    batch_size: int = field(default=500, validator=_int(1), doc="trajectories per iteration")
    steps: int = field(default=5000, validator=_int(0), doc="default number of iterations of fit()")
    # off-policy
    exploration: float = field(default=0.5, validator=non_negative, doc="extra sampling noise std (training only)")
    exploration_decay_steps: int = field(default=5000, validator=_int(0), doc="linear decay of the exploration to 0 (0 = constant)")
    buffer_every: int = field(default=0, validator=_int(0),
                              doc="every k-th iteration trains on bridge-noised buffer trajectories (0 = no buffer)")
    buffer_size: int = field(default=10_000, validator=_int(1), doc="replay buffer capacity")

    def __attrs_post_init__(self) -> None:
        if self.objective == "reinforce" and self.buffer_every:
            raise FieldValueError("buffer_every", self.buffer_every, "0 with objective='reinforce' (REINFORCE is on-policy)")
        if self.langevin and self.parametrisation != "residual":
            raise FieldValueError("langevin", self.langevin, "used only with parametrisation='residual'")


def _drift_fn(prior: DiffusionPath):
    """The prior's full drift as a plain callable (no module registration, no gradient)."""

    def drift(x: Tensor, t: Tensor) -> Tensor:
        with torch.no_grad():
            return path_drift(prior, x.detach(), t)

    return drift


class RelativeTrajectoryBalance(Sampler, nn.Module):
    """RTB: fine-tune a diffusion prior into the posterior ``p_theta(x) r(x)^beta / Z`` (see module docstring).

    ``fit(reward, prior=None)``: ``reward`` is any etude Target (``log_prob = log r``),
    ``prior`` any ``DiffusionPath`` (default: Brownian with ``t_scale``, ``n_steps``,
    where RTB is TB on ``r N(0, sigma^2 I)``). Defaults are the paper's toy:
    batch 500, lr 1e-3, log Z lr 0.1, exploration 0.5 decayed, 5000 iterations.

    Examples:
        >>> import torch
        >>> from etude_rtb.rewards import SigmoidQuadrantReward
        >>> s = RelativeTrajectoryBalance(n_steps=5, batch_size=16, hidden_dim=8, harmonics=4, parametrisation="residual")
        >>> s.fit(SigmoidQuadrantReward(), steps=2).sample(3).shape
        torch.Size([3, 2])
    """

    Config = RTBConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        Sampler.__init__(self, config, **overrides)
        self.log_z = nn.Parameter(torch.zeros(()))
        self.prior: DiffusionPath | None = None
        self.path: DiffusionPath | None = None
        self.reward = None
        self.iteration = 0
        self.history: dict[str, list[float]] = {}
        self.buffer: ReplayBuffer | None = None
        self._optimizer = None

    # -- construction --------------------------------------------------------
    def _new_policy(self, dim: int) -> DiffusionPolicy:
        c = self.config
        return DiffusionPolicy(dim, hidden_dim=c.hidden_dim, s_emb_dim=c.hidden_dim, t_emb_dim=c.hidden_dim,
                               harmonics=c.harmonics, joint_layers=c.joint_layers, langevin=c.langevin,
                               learned_variance=c.learned_variance)

    def build(self, prior: DiffusionPath) -> None:
        """Set the prior and build the posterior path from it (called by :meth:`fit`)."""
        import copy  # noqa: PLC0415

        if not isinstance(prior, DiffusionPath):
            raise TypeError(f"prior must be a DiffusionPath (see etude_rtb.priors), got {type(prior).__name__}")
        prior = prior.requires_grad_(False)
        analytic = getattr(prior, "analytic", False)
        if self.config.parametrisation == "residual" or analytic:
            # an analytic prior's policy is the null network: its copy is a fresh zero-init policy over its drift
            base = prior.base_drift if analytic else _drift_fn(prior)
            if not analytic and prior.policy.learned_variance:
                raise ValueError("parametrisation='residual' cannot reuse a learned-variance prior: use 'copy'")
            policy = self._new_policy(prior.dim)
        else:
            base, policy = prior.base_drift, copy.deepcopy(prior.policy)
        policy.requires_grad_(True)
        ref = self.log_z
        self.prior = prior.to(device=ref.device)
        self.path = DiffusionPath(policy, sigma2=prior.sigma2, n_steps=prior.n_steps, base_drift=base).to(device=ref.device)
        self._optimizer = None

    def _make_optimizer(self) -> torch.optim.Optimizer:
        groups = [{"params": list(self.path.policy.parameters()), "lr": self.config.lr_policy}]
        if self.config.objective == "tb":
            groups.append({"params": [self.log_z], "lr": self.config.lr_log_z})
        return torch.optim.Adam(groups)

    @property
    def dim(self) -> int:
        if self.path is None:
            raise RuntimeError("the sampler has no dimension yet: call fit(reward) first")
        return self.path.dim

    # -- scoring (batched) -----------------------------------------------------
    def _log_r(self, log_r: Tensor) -> Tensor:
        return self.config.beta * log_r.detach().clamp(min=self.config.log_r_clip)

    def prior_log_density(self, states: Tensor, grid: Tensor) -> Tensor:
        """Per-step ``log p_theta`` (B, T) of given (posterior) states: one batched call, no gradient."""
        with torch.no_grad():
            return self.prior.forward_log_density(states.detach(), grid)

    def posterior_log_density(self, states: Tensor, grid: Tensor, grad_log_r: Tensor | None = None,
                              generator: torch.Generator | None = None) -> Tensor:
        """Per-step ``log p_phi`` (B, T) with gradients on all steps, or on a random ``grad_fraction`` of them."""
        states = states.detach()
        frac = self.config.grad_fraction
        if frac >= 1.0:
            return self.path.forward_log_density(states, grid, grad_log_r)
        n = grid.numel() - 1
        k = max(1, int(round(frac * n)))
        idx = torch.randperm(n, generator=generator)[:k].to(states.device)
        with torch.no_grad():
            full = self.path.forward_log_density(states, grid, grad_log_r)
        b, d = states.shape[0], states.shape[-1]
        x, x_next = states[:, idx].reshape(-1, d), states[:, idx + 1].reshape(-1, d)
        t = grid[idx].repeat(b)
        dt = (grid[idx + 1] - grid[idx]).repeat(b)[:, None]
        emb, lgv = self.path.policy.embed_times(t)
        g = None if grad_log_r is None else grad_log_r[:, idx].reshape(-1, d)
        drift, h = self.path.policy(x, emb, lgv, g)
        if self.path.base_drift is not None:
            drift = drift + self.path.base_drift(x, t)
        sub = gaussian_log_prob(x_next, x + drift * dt, torch.log(self.path.sigma2 * dt) + h).reshape(b, k)
        return full.index_copy(1, idx, full[:, idx] + sub - sub.detach())

    def relative_trajectory(self, traj: Trajectory, generator: torch.Generator | None = None) -> Trajectory:
        """The trajectory with ``log_pf = log p_phi`` (graph), ``log_pb = log p_theta`` and ``log_r = beta log r``.

        RTB is TB of this trajectory: the prior's forward density stands in the place of the backward one.
        """
        log_post = self.posterior_log_density(traj.states, traj.grid, traj.grad_log_r, generator)
        log_prior = self.prior_log_density(traj.states, traj.grid)
        return Trajectory(traj.states.detach(), traj.grid, log_post, log_prior, self._log_r(traj.log_r), None, traj.grad_log_r)

    def losses(self, traj: Trajectory) -> Tensor:
        """Per-trajectory losses (B,) of a relative trajectory (see :meth:`relative_trajectory`)."""
        c = self.config
        delta = traj.log_pf.sum(-1) - traj.log_pb.sum(-1) - traj.log_r
        if c.objective == "tb":
            return (self.log_z + delta) ** 2
        if c.objective == "vargrad":
            return (delta - delta.mean()) ** 2
        r = traj.log_r.exp()
        adv = r - r.mean()
        out = -adv * traj.log_pf.sum(-1)
        if c.kl_weight > 0:
            out = out + c.kl_weight * (traj.log_pf.sum(-1) - traj.log_pb.sum(-1)) ** 2
        return out

    def loss(self, traj: Trajectory) -> Tensor:
        """Mean loss; with ``loss_clip`` the trajectories already within it carry no gradient."""
        per = self.losses(traj)
        if self.config.loss_clip > 0 and self.config.objective != "reinforce":
            keep = (per.detach() > self.config.loss_clip).to(per.dtype)
            return (per * keep).mean()
        return per.mean()

    # -- training ----------------------------------------------------------------
    def training_step(self, generator: torch.Generator | None = None) -> dict[str, float]:
        c = self.config
        it = self.iteration
        use_buffer = c.buffer_every > 0 and it % c.buffer_every == c.buffer_every - 1 and len(self.buffer) > 0
        if use_buffer:
            x, log_r = self.buffer.sample(c.batch_size, generator)
            with torch.no_grad():
                traj = self.path.sample_backward(x, self.reward, generator=generator, with_grad=False, log_r=log_r)
        else:
            expl = 0.0 if c.objective == "reinforce" else ExplorationSchedule(c.exploration, c.exploration_decay_steps)(it)
            traj = self.path.sample_forward(c.batch_size, self.reward, exploration=expl, generator=generator, with_grad=False)
            if self.buffer is not None:
                self.buffer.add(traj.terminal, traj.log_r)
        rel = self.relative_trajectory(traj, generator)
        loss = self.loss(rel)
        self._optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._optimizer.step()
        self.iteration += 1
        logs = {"loss": float(loss.detach()), "log_r": float(traj.log_r.mean())}
        if c.objective == "tb":
            logs["log_z"] = float(self.log_z.detach())
        return logs

    def fit(self, reward, *, prior: DiffusionPath | None = None, steps: int | None = None, progress: bool = False,
            generator: torch.Generator | None = None, **kwargs: Any) -> RelativeTrajectoryBalance:
        """Fine-tune towards ``prior x reward^beta`` for ``steps`` iterations (continues if called again)."""
        from etude.runtime import train  # noqa: PLC0415

        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}")
        if not hasattr(reward, "log_prob") or not hasattr(reward, "dim"):
            raise TypeError(f"reward must be an etude Target (log_prob = log r, and dim), got {type(reward).__name__}")
        steps = self.config.steps if steps is None else steps
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if prior is not None or self.path is None:
            if prior is None:
                prior = BrownianPrior(reward.dim, sigma2=self.config.t_scale, n_steps=self.config.n_steps)
            if not isinstance(prior, DiffusionPath):
                raise TypeError(f"prior must be a DiffusionPath (see etude_rtb.priors), got {type(prior).__name__}")
            if prior.dim != reward.dim:
                raise ValueError(f"prior.dim={prior.dim} differs from reward.dim={reward.dim}")
            self.build(prior)
        elif self.path.dim != reward.dim:
            raise ValueError(f"reward.dim={reward.dim} differs from the fitted sampler's dim={self.path.dim}")
        self.reward = reward
        if self._optimizer is None:
            self._optimizer = self._make_optimizer()
        if self.config.buffer_every and self.buffer is None:
            self.buffer = ReplayBuffer(self.config.buffer_size, prioritization="rank")
        history = train(lambda i: self.training_step(generator), steps, progress=progress, desc=type(self).__name__)
        for key, values in history.items():
            self.history.setdefault(key, []).extend(values)
        return self

    # -- inference -----------------------------------------------------------------
    def _require_fitted(self) -> None:
        if self.path is None or self.reward is None:
            raise RuntimeError("call fit(reward) before sampling: the posterior is built from the prior at fit")

    @torch.no_grad()
    def trajectories(self, n: int, *, generator: torch.Generator | None = None) -> Trajectory:
        """``n`` on-policy posterior trajectories, every tensor detached."""
        self._require_fitted()
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        return self.path.sample_forward(n, self.reward, generator=generator, with_grad=False)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        return self.trajectories(n, generator=generator).terminal

    @torch.no_grad()
    def log_Z(self, n: int = 2000, *, generator: torch.Generator | None = None, **kwargs: Any) -> dict[str, float]:
        """``{"iw": logmeanexp(beta log r + sum log p_theta - sum log p_phi), "elbo": its mean, "learned": log Z_phi}``."""
        traj = self.trajectories(n, generator=generator)
        lw = self._log_r(traj.log_r) + self.prior_log_density(traj.states, traj.grid).sum(-1) - traj.log_pf.sum(-1)
        lw = lw.double()
        out = {"iw": float(torch.logsumexp(lw, 0) - math.log(n)), "elbo": float(lw.mean())}
        if self.config.objective == "tb":
            out["learned"] = float(self.log_z)
        return out


def _variant(class_name: str, doc: str, **defaults: Any) -> type:
    base = attrs.resolve_types(RTBConfig)
    these = {
        f.name: attrs.field(default=defaults.get(f.name, f.default), validator=f.validator, metadata=f.metadata, type=f.type, kw_only=True)
        for f in attrs.fields(base)
    }
    body = {"__attrs_post_init__": base.__attrs_post_init__, "__module__": __name__, "__doc__": base.__doc__}
    config = attrs.frozen(type(class_name + "Config", (), body), kw_only=True, these=these)
    settings = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    docstring = (
        f"{doc}\n\n    :class:`RelativeTrajectoryBalance` with {settings}.\n\n"
        "    References:\n"
        "        S. Venkatraman et al., \"Amortizing intractable inference in diffusion models for vision,\n"
        "        language, and control\", NeurIPS 2024, arXiv:2405.20971 (Table 2, Fig. 1).\n\n"
        "    Examples:\n"
        f"        >>> from etude_rtb.sampler import {class_name}\n"
        "        >>> from etude_rtb.rewards import SigmoidQuadrantReward\n"
        f"        >>> s = {class_name}(n_steps=4, batch_size=8, hidden_dim=8, harmonics=4)\n"
        "        >>> s.fit(SigmoidQuadrantReward(), steps=2).sample(2).shape\n"
        "        torch.Size([2, 2])\n"
    )
    cls = type(class_name, (RelativeTrajectoryBalance,), {"Config": config, "__doc__": docstring, "__module__": __name__})
    globals()[class_name + "Config"] = config
    return cls


RTBVarGrad = _variant("RTBVarGrad", "Relative VarGrad: RTB with log Z_phi replaced by the batch mean of the inner quantity.",
                      objective="vargrad")
RLFinetune = _variant("RLFinetune", "RL fine-tuning without KL (the DDPO-like row): REINFORCE on r with advantage r - mean r.",
                      objective="reinforce", exploration=0.0)
RLKLFinetune = _variant(
    "RLKLFinetune",
    "RL fine-tuning with the reference toy's KL term: REINFORCE plus 0.01 (sum log p_phi - sum log p_theta)^2 "
    "(a squared log-ratio, not DPOK's per-step KL upper bound).",
    objective="reinforce", exploration=0.0, kl_weight=0.01,
)
