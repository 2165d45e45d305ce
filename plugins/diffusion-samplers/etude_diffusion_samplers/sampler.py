"""The diffusion sampler and its paper configurations (TB, exploration, local search, PIS, VarGrad, FL-SubTB, LP)."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Sampler

from . import estimators, metrics
from .exploration import ExplorationSchedule
from .local_search import ReplayBuffer, mala
from .objectives import backward_mle, detailed_balance, pis_loss, subtrajectory_balance, trajectory_balance, vargrad
from .path import DiffusionPath, DiffusionPolicy, Trajectory

_FLOW_OBJECTIVES = ("subtb", "db")


def _non_negative_int(instance, attribute, value):
    if not isinstance(value, int) or value < 0:
        raise FieldValueError(attribute.name, value, "an integer >= 0")


def _positive_int(instance, attribute, value):
    if not isinstance(value, int) or value < 1:
        raise FieldValueError(attribute.name, value, "an integer >= 1")


@configclass
class DiffusionSamplerConfig:
    # path
    dim: int = field(default=0, validator=_non_negative_int, doc="sample dimension; 0 = take it from the target at fit")
    n_steps: int = field(default=100, validator=_positive_int, doc="number of Euler-Maruyama steps T (dt = 1/T)")
    t_scale: float = field(default=5.0, validator=positive, doc="reference variance sigma^2 per unit time (5 for GMMs, 1 for Funnel/ManyWell)")
    time_grid: str = field(default="uniform", validator=one_of("uniform", "random"), doc="'uniform' (paper) or 'random' time grid")
    max_step_ratio: float = field(default=10.0, validator=in_range(1.0, 1e6), doc="largest/smallest step ratio of the random grid")
    learned_variance: bool = field(default=False, doc="learn a log-variance offset tanh(.) * log_var_range")
    log_var_range: float = field(default=4.0, validator=positive, doc="range of the learned log-variance offset")
    # network
    hidden_dim: int = field(default=64, validator=_positive_int, doc="hidden width")
    s_emb_dim: int = field(default=64, validator=_positive_int, doc="state embedding width")
    t_emb_dim: int = field(default=64, validator=_positive_int, doc="time embedding width")
    harmonics: int = field(default=64, validator=_positive_int, doc="Fourier harmonics of the time embedding")
    joint_layers: int = field(default=2, validator=_positive_int, doc="hidden layers of the joint drift network")
    langevin: bool = field(default=False, doc="Langevin parametrisation u = NN_1(x,t) + NN_2(t) * clip(grad log R)")
    langevin_per_dim: bool = field(default=True, doc="NN_2 outputs one scale per dimension (else a scalar)")
    lgv_layers: int = field(default=3, validator=_positive_int, doc="layers of the Langevin scaling network NN_2")
    lgv_clip: float = field(default=1e2, validator=positive, doc="clip of grad log R in the Langevin term")
    gfn_clip: float = field(default=1e4, validator=positive, doc="clip of the drift output")
    # objective
    objective: str = field(default="tb", validator=one_of("tb", "vargrad", "subtb", "db", "pis"), doc="training objective on forward trajectories")
    backward_objective: str = field(
        default="same", validator=one_of("same", "tb", "vargrad", "mle", "subtb", "db"), doc="objective on buffer (backward) trajectories; 'same' = objective"
    )
    forward_looking: bool = field(default=True, doc="forward-looking flow parametrisation for subtb/db")
    subtb_lambda: float = field(default=2.0, validator=positive, doc="SubTB geometric weight lambda")
    # optimisation
    lr_policy: float = field(default=1e-3, validator=positive, doc="Adam learning rate of the policy")
    lr_log_z: float = field(default=1e-1, validator=positive, doc="learning rate of log Z (TB) or of the flow network (SubTB/DB)")
    batch_size: int = field(default=300, validator=_positive_int, doc="trajectories per iteration")
    steps: int = field(default=25000, validator=_non_negative_int, doc="default number of training iterations of fit()")
    # exploration
    exploration: float = field(default=0.0, validator=non_negative, doc="extra sampling noise std (0.2 in the paper), training only")
    exploration_decay_steps: int = field(default=5000, validator=_non_negative_int, doc="linear decay of exploration to 0 over this many iterations (0 = constant)")
    # local search
    local_search: bool = field(default=False, doc="alternate on-policy iterations with backward iterations on a MALA-refined buffer")
    ls_every: int = field(default=100, validator=_positive_int, doc="run MALA every this many iterations")
    mala_steps: int = field(default=200, validator=_positive_int, doc="MALA steps per local search")
    mala_burn_in: int = field(default=100, validator=_non_negative_int, doc="MALA burn-in steps (accepted proposals after it are kept)")
    mala_step_size: float = field(default=0.01, validator=positive, doc="initial MALA step size eta")
    mala_adaptive: bool = field(default=True, doc="adapt eta by x(1 +- mala_adapt_factor) towards the target acceptance")
    mala_target_acceptance: float = field(default=0.574, validator=in_range(0.0, 1.0, low_open=True, high_open=True), doc="target MALA acceptance rate")
    mala_adapt_factor: float = field(default=0.1, validator=in_range(0.0, 1.0, high_open=True), doc="relative step-size change per MALA step")
    ls_beta: float = field(default=1.0, validator=positive, doc="local search targets R^beta (beta > 1: greedier)")
    buffer_size: int = field(default=600_000, validator=_positive_int, doc="FIFO capacity of each buffer")
    buffer_prioritization: str = field(default="rank", validator=one_of("rank", "reward", "uniform"), doc="buffer sampling priority")
    rank_k: float = field(default=0.01, validator=positive, doc="k of the rank priority 1 / (k |D| + rank)")

    def __attrs_post_init__(self) -> None:
        if self.mala_burn_in >= self.mala_steps:
            raise FieldValueError("mala_burn_in", self.mala_burn_in, f"< mala_steps={self.mala_steps}")
        if self.objective == "pis" and self.local_search:
            raise FieldValueError("local_search", self.local_search, "false with objective='pis' (PIS must be on-policy)")
        if self.backward_objective == "mle" and not self.local_search:
            raise FieldValueError("backward_objective", self.backward_objective, "used only with local_search=true")


class DiffusionSampler(Sampler, nn.Module):
    """Diffusion sampler trained off-policy (Sendera et al. 2024): TB, VarGrad, SubTB, DB or PIS.

    A T-step Euler-Maruyama process from x_0 = 0 with
    ``p_F(x_{t+dt} | x_t) = N(x_t + u(x_t, t) dt, sigma^2 dt I)`` is trained so
    that its terminal marginal is ``R(x) / Z``, against the fixed Brownian bridge
    ``p_B(x_{t-dt} | x_t) = N((t-dt)/t x_t, sigma^2 dt (t-dt)/t I)``. Trajectory
    balance minimises ``(log Z_theta + sum log p_F - sum log p_B - log R(x_1))^2``
    on trajectories sampled with extra exploration noise and, with local search,
    on backward trajectories from a rank-prioritised buffer of MALA-refined
    samples (alternate iterations). PIS instead back-propagates the reverse KL
    through reparametrised trajectories. The Langevin parametrisation adds
    ``NN_2(t) * clip(grad log R(x))`` to the drift.

    References:
        M. Sendera, M. Kim, S. Mittal, P. Lemos, L. Scimeca, J. Rector-Brooks,
        A. Adam, Y. Bengio, N. Malkin, "Improved off-policy training of diffusion
        samplers", NeurIPS 2024, arXiv:2402.05098.

    Examples:
        >>> import torch
        >>> from etude_diffusion_samplers.targets import GMM
        >>> s = DiffusionSampler(n_steps=5, batch_size=16, hidden_dim=16, s_emb_dim=16, t_emb_dim=16, harmonics=8)
        >>> s.fit(GMM(layout="grid9"), steps=2).sample(4).shape
        torch.Size([4, 2])
    """

    Config = DiffusionSamplerConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        Sampler.__init__(self, config, **overrides)
        self.path: DiffusionPath | None = None
        self.log_z = nn.Parameter(torch.zeros(()))
        self.target = None
        self.iteration = 0
        self.history: dict[str, list[float]] = {}
        self.buffer: ReplayBuffer | None = None
        self.ls_buffer: ReplayBuffer | None = None
        self._optimizer: torch.optim.Optimizer | None = None
        self._mala_step = self.config.mala_step_size
        if self.config.dim > 0:
            self._build(self.config.dim)

    # -- construction ---------------------------------------------------------
    def _build(self, dim: int) -> None:
        c = self.config
        needs_flow = c.objective in _FLOW_OBJECTIVES or c.backward_objective in _FLOW_OBJECTIVES
        policy = DiffusionPolicy(
            dim,
            hidden_dim=c.hidden_dim,
            s_emb_dim=c.s_emb_dim,
            t_emb_dim=c.t_emb_dim,
            harmonics=c.harmonics,
            joint_layers=c.joint_layers,
            learned_variance=c.learned_variance,
            log_var_range=c.log_var_range,
            langevin=c.langevin,
            langevin_per_dim=c.langevin_per_dim,
            lgv_layers=c.lgv_layers,
            lgv_clip=c.lgv_clip,
            gfn_clip=c.gfn_clip,
            flow=needs_flow,
        )
        ref = self.log_z
        self.path = DiffusionPath(
            policy,
            sigma2=c.t_scale,
            n_steps=c.n_steps,
            grid=c.time_grid,
            max_ratio=c.max_step_ratio,
            forward_looking=c.forward_looking and needs_flow,
        ).to(device=ref.device, dtype=ref.dtype)
        self._optimizer = None

    def _make_optimizer(self) -> torch.optim.Optimizer:
        c = self.config
        policy = self.path.policy
        flow_ids = {id(p) for p in policy.flow.parameters()} if policy.flow is not None else set()
        groups = [{"params": [p for p in policy.parameters() if id(p) not in flow_ids], "lr": c.lr_policy}]
        if flow_ids:
            groups.append({"params": list(policy.flow.parameters()), "lr": c.lr_log_z})
        if self._uses_log_z:
            groups.append({"params": [self.log_z], "lr": c.lr_log_z})
        return torch.optim.Adam(groups)

    @property
    def _uses_log_z(self) -> bool:
        c = self.config
        bwd = c.objective if c.backward_objective == "same" else c.backward_objective
        return c.objective == "tb" or (c.local_search and bwd == "tb")

    @property
    def _needs_flow(self) -> bool:
        c = self.config
        return c.objective in _FLOW_OBJECTIVES or c.backward_objective in _FLOW_OBJECTIVES

    @property
    def dim(self) -> int:
        if self.path is None:
            raise RuntimeError("the sampler has no dimension yet: call fit(target) first or set dim in the config")
        return self.path.dim

    # -- training ---------------------------------------------------------------
    def _loss(self, name: str, traj: Trajectory) -> Tensor:
        if name == "tb":
            return trajectory_balance(traj, self.log_z)
        if name == "vargrad":
            return vargrad(traj)
        if name == "subtb":
            return subtrajectory_balance(traj, self.config.subtb_lambda)
        if name == "db":
            return detailed_balance(traj)
        if name == "mle":
            return backward_mle(traj)
        return pis_loss(traj)

    def training_step(self, target, generator: torch.Generator | None = None) -> dict[str, float]:
        """One iteration of the paper's loop (Algorithm 1 when local search is on); returns logged scalars."""
        c = self.config
        it = self.iteration
        expl = ExplorationSchedule(c.exploration, c.exploration_decay_steps)(it)
        self._optimizer.zero_grad(set_to_none=True)
        logs: dict[str, float] = {}
        if c.local_search and it % 2 == 1:
            if it % c.ls_every == 1 % c.ls_every or len(self.ls_buffer) == 0:
                start, _ = self.buffer.sample(c.batch_size, generator)
                res = mala(
                    start,
                    target,
                    n_steps=c.mala_steps,
                    burn_in=c.mala_burn_in,
                    step_size=self._mala_step,
                    adaptive=c.mala_adaptive,
                    target_acceptance=c.mala_target_acceptance,
                    adapt_factor=c.mala_adapt_factor,
                    beta=c.ls_beta,
                    generator=generator,
                )
                self._mala_step = res.step_size
                if res.samples.shape[0]:
                    self.ls_buffer.add(res.samples, res.log_r / c.ls_beta * c.ls_beta)
                logs["mala_acceptance"] = sum(res.acceptance) / len(res.acceptance)
            source = self.ls_buffer if len(self.ls_buffer) else self.buffer
            x, log_r = source.sample(c.batch_size, generator)
            traj = self.path.sample_backward(x, target, generator=generator, log_r=log_r, flows=self._needs_flow)
            name = c.objective if c.backward_objective == "same" else c.backward_objective
            loss = self._loss(name, traj)
        else:
            traj = self.path.sample_forward(
                c.batch_size,
                target,
                exploration=expl,
                reparam=c.objective == "pis",
                generator=generator,
                flows=self._needs_flow,
            )
            loss = self._loss(c.objective, traj)
            if c.local_search:
                self.buffer.add(traj.terminal, traj.log_r)
        loss.backward()
        self._optimizer.step()
        self.iteration += 1
        logs["loss"] = float(loss.detach())
        return logs

    def fit(
        self,
        target,
        *,
        steps: int | None = None,
        progress: bool = False,
        generator: torch.Generator | None = None,
        **kwargs: Any,
    ) -> DiffusionSampler:
        """Train against ``target`` for ``steps`` iterations (default: ``config.steps``); continues if called again."""
        from etude.runtime import train  # noqa: PLC0415

        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}")
        if not hasattr(target, "log_prob") or not hasattr(target, "dim"):
            raise TypeError(f"target must be an etude Target (log_prob and dim), got {type(target).__name__}")
        steps = self.config.steps if steps is None else steps
        if not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        if self.path is None or self.path.dim != target.dim:
            if self.path is not None and self.config.dim:
                raise ValueError(f"target.dim={target.dim} differs from the sampler's dim={self.path.dim}")
            self._build(target.dim)
        self.target = target
        if self._optimizer is None:
            self._optimizer = self._make_optimizer()
        if self.config.local_search and self.buffer is None:
            kw = {"prioritization": self.config.buffer_prioritization, "rank_k": self.config.rank_k}
            self.buffer = ReplayBuffer(self.config.buffer_size, **kw)
            self.ls_buffer = ReplayBuffer(self.config.buffer_size, **kw)
        self.train()
        history = train(lambda i: self.training_step(target, generator), steps, progress=progress, desc="diffusion sampler")
        for key, values in history.items():
            self.history.setdefault(key, []).extend(values)
        return self

    # -- inference ------------------------------------------------------------
    def _require_fitted(self) -> None:
        if self.path is None or self.target is None:
            raise RuntimeError("call fit(target) before sampling: the sampler needs the target's dimension (and score for Langevin)")

    @torch.no_grad()
    def trajectories(self, n: int, *, generator: torch.Generator | None = None) -> Trajectory:
        """``n`` on-policy trajectories without gradients (no exploration)."""
        self._require_fitted()
        return self.path.sample_forward(n, self.target, generator=generator, with_grad=False)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        return self.trajectories(n, generator=generator).terminal

    @torch.no_grad()
    def log_Z(self, n: int = 2000, *, generator: torch.Generator | None = None, **kwargs: Any) -> dict[str, float]:
        """``{"elbo": log Ẑ, "iw": log Ẑ_RW, "learned": log Z_theta (TB) or the flow at 0 (SubTB/DB)}``."""
        traj = self.path.sample_forward(n, self.target, generator=generator, with_grad=False, flows=self._needs_flow) if self.path is not None and self.target is not None else self.trajectories(n)
        out = {"elbo": estimators.elbo(traj), "iw": estimators.importance_weighted(traj)}
        if self._uses_log_z:
            out["learned"] = float(self.log_z)
        elif self._needs_flow:
            out["learned"] = float(traj.log_f[:, 0].mean())
        return out

    @torch.no_grad()
    def evaluate(self, n: int = 2000, *, generator: torch.Generator | None = None, reference: Tensor | None = None) -> dict[str, float]:
        """log Z estimates and their errors, W2 to exact target samples and mode metrics where the target has them."""
        self._require_fitted()
        traj = self.trajectories(n, generator=generator)
        x = traj.terminal
        out = {"elbo": estimators.elbo(traj), "iw": estimators.importance_weighted(traj)}
        if self._uses_log_z:
            out["learned"] = float(self.log_z)
        log_z = self.target.log_Z
        if log_z is not None:
            out["delta_log_z"] = abs(out["elbo"] - log_z)
            out["delta_log_z_rw"] = abs(out["iw"] - log_z)
        if reference is None and getattr(self.target, "has_exact_samples", False):
            reference = self.target.sample((n,), generator=generator) if _takes_generator(self.target) else self.target.sample((n,))
        if reference is not None:
            out["w2"] = metrics.wasserstein2(x, reference.to(x))
            out["eubo"] = estimators.eubo(self.path, self.target, reference.to(x), generator=generator)
        modes = getattr(self.target, "modes", None)
        if modes is not None:
            out["modes"] = metrics.modes_covered(x, modes.to(x))
            out["mode_tv"] = metrics.mode_tv(x, modes.to(x), self.target.weights.to(x))
        return out


def _takes_generator(target) -> bool:
    import inspect  # noqa: PLC0415

    return "generator" in inspect.signature(target.sample).parameters


# -- the paper's method rows as configurations of DiffusionSampler ---------------------------
def _variant_config(name: str, **defaults: Any) -> type:
    base = attrs.resolve_types(DiffusionSamplerConfig)
    unknown = set(defaults) - {f.name for f in attrs.fields(base)}
    if unknown:
        raise AttributeError(f"unknown config fields {sorted(unknown)}")
    these = {
        f.name: attrs.field(
            default=defaults.get(f.name, f.default), validator=f.validator, metadata=f.metadata, type=f.type, kw_only=True
        )
        for f in attrs.fields(base)
    }
    body = {"__attrs_post_init__": base.__attrs_post_init__, "__module__": __name__, "__doc__": base.__doc__}
    return attrs.frozen(type(name, (), body), kw_only=True, these=these)


def _variant(class_name: str, row: str, doc: str, **defaults: Any) -> type:
    config = _variant_config(class_name + "Config", **defaults)
    settings = ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "the defaults"
    docstring = (
        f"{row}: :class:`DiffusionSampler` with {settings}.\n\n"
        f"    {doc}\n\n"
        "    References:\n"
        "        M. Sendera et al., \"Improved off-policy training of diffusion samplers\",\n"
        "        NeurIPS 2024, arXiv:2402.05098 (Table 1).\n\n"
        "    Examples:\n"
        f"        >>> from etude_diffusion_samplers.sampler import {class_name}\n"
        "        >>> from etude_diffusion_samplers.targets import GMM\n"
        f"        >>> s = {class_name}(n_steps=4, batch_size=8, hidden_dim=8, s_emb_dim=8, t_emb_dim=8, harmonics=4,\n"
        "        ...     mala_steps=3, mala_burn_in=1, ls_every=2)\n"
        "        >>> s.fit(GMM(layout=\"grid9\"), steps=3).sample(2).shape\n"
        "        torch.Size([2, 2])\n"
    )
    cls = type(class_name, (DiffusionSampler,), {"Config": config, "__doc__": docstring, "__module__": __name__})
    globals()[class_name] = cls
    globals()[class_name + "Config"] = config
    return cls


_LS = {"local_search": True}
TrajectoryBalance = _variant("TrajectoryBalance", "TB", "On-policy trajectory balance with a learned log Z (lr 0.1).")
TBExploration = _variant("TBExploration", "TB + Expl.", "TB on trajectories sampled with decaying extra noise.", exploration=0.2)
TBExplorationLocalSearch = _variant(
    "TBExplorationLocalSearch", "TB + Expl. + LS", "Alternates exploratory TB steps with backward TB steps on a MALA-refined, rank-prioritised buffer.", exploration=0.2, **_LS
)
TBExplorationLangevin = _variant("TBExplorationLangevin", "TB + Expl. + LP", "TB with exploration and the Langevin parametrisation.", exploration=0.2, langevin=True)
TBExplorationLangevinLocalSearch = _variant(
    "TBExplorationLangevinLocalSearch", "TB + Expl. + LP + LS", "TB with exploration, Langevin parametrisation and local search.", exploration=0.2, langevin=True, **_LS
)
PIS = _variant("PIS", "PIS", "Path Integral Sampler: reverse KL by reparametrisation, on-policy.", objective="pis")
PISLangevin = _variant("PISLangevin", "PIS + LP", "PIS with the Langevin parametrisation.", objective="pis", langevin=True)
VarGradExploration = _variant("VarGradExploration", "VarGrad + Expl.", "Log-variance (VarGrad) loss with exploration; no learned log Z.", objective="vargrad", exploration=0.2)
VarGradExplorationLangevinLocalSearch = _variant(
    "VarGradExplorationLangevinLocalSearch", "VarGrad + Expl. + LP + LS", "VarGrad with exploration, Langevin parametrisation and local search.",
    objective="vargrad", exploration=0.2, langevin=True, **_LS,
)
FLSubTB = _variant("FLSubTB", "FL-SubTB", "Sub-trajectory balance (lambda = 2) with the forward-looking flow; flow lr 0.01.", objective="subtb", lr_log_z=1e-2)
FLSubTBLangevin = _variant("FLSubTBLangevin", "FL-SubTB + LP", "FL-SubTB with the Langevin parametrisation.", objective="subtb", lr_log_z=1e-2, langevin=True)
