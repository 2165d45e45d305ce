"""A compact recurrent PPO for MiniGrid / BabyAI, with Meta-RIMs' fast / slow parameter update.

The agent (:class:`~etude_meta_rims.agent.ActorCritic`, re-exported here) follows Meta-RIMs' Figure 1 (Madan et al.,
ICLR 2021): the 7 x 7 x 3 image goes through the standard MiniGrid
convolutional encoder (torch-ac / rl-starter-files: three 2 x 2 convolutions
16 / 32 / 64 with a 2 x 2 max-pool, 64 features), the mission tokens through
a word embedding and a GRU, and the two are the input slots of a recurrent
core, a :class:`~etude_meta_rims.cell.RIMCell` (``core="rims"``: the modules
compete to read the image slot or the mission slot) or an ``nn.LSTMCell``
over their concatenation (``core="lstm"``, the baseline); actor and critic
are two-layer tanh heads on the core's output.

PPO (Schulman et al., 2017) with the torch-ac defaults: rollouts of
``frames_per_env`` steps in each of ``num_envs`` environments, the recurrent
state carried across steps and zeroed where an episode ended; advantages by
GAE(λ) (:func:`gae`); ``epochs`` passes over the rollout in minibatches of
``batch_size`` frames made of whole ``recurrence``-step sub-sequences, each
unrolled from the state stored at its first step (truncated BPTT through
the rollout); the loss (:func:`ppo_loss`) is the clipped surrogate, the
clipped value loss (weight ``value_coef``) and an entropy bonus
(``entropy_coef``). Defaults: Adam lr 1e-3 (eps 1e-8), discount 0.99,
λ 0.95, clip 0.2, entropy 0.01, value 0.5, gradient norm 0.5, 4 epochs,
minibatch 256, recurrence 4, 16 environments x 128 frames.

**Fast and slow** (``fast``): each minibatch step is a Meta-RIMs meta-step
on the PPO loss, with the plugin's parameter partition
(:func:`etude_meta_rims.procedure._groups`, the same as
:class:`~etude_meta_rims.procedure.MetaRIMs`): ``inner_steps`` SGD steps
with ``inner_lr`` on the fast group (``"modules"``: the modules' recurrent
weights θ, only the rows of modules active somewhere in the minibatch
move, :func:`~etude_meta_rims.procedure.mask_inactive_modules`), then one
Adam step with ``lr`` on the slow group (the attention side φ plus encoders
and heads) from the PPO loss recomputed at the adapted fast weights.
``"attention"`` reverses the roles, ``"all"`` puts every parameter in both
loops (joint), ``"none"`` is plain PPO (one Adam step on everything, the
torch-ac update). The paper gives no inner-loop learning rate or step count
that could be checked offline; 1 SGD step at 0.05 is this plugin's choice
(the supervised :class:`MetaRIMs` default).

Two deliberate differences from the torch-ac code: the mission GRU's
output is read at the last real token (torch-ac runs it over the padding),
and mission word ids come from a fixed vocabulary
(:data:`etude_meta_rims.minigrid.MISSION_VOCABULARY`), not one grown while
training.

References:
    K. Madan, N. R. Ke, A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent
    Independent Mechanisms", ICLR 2021, arXiv:2105.08710.
    J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov, "Proximal Policy Optimization
    Algorithms", arXiv:1707.06347, 2017; J. Schulman et al., "High-Dimensional Continuous Control
    Using Generalized Advantage Estimation", ICLR 2016, arXiv:1506.02438.

Examples:
    >>> import torch
    >>> adv, ret = gae(torch.tensor([[0.0], [1.0]]), torch.zeros(2, 1), torch.tensor([[False], [True]]),
    ...                torch.zeros(1), discount=0.5, lam=1.0)
    >>> adv.flatten().tolist()
    [0.5, 1.0]
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive

from .agent import ActorCritic, ActorCriticConfig, Memory
from .procedure import _groups, clip_gradients, mask_inactive_modules


# -- the two pure pieces: GAE and the PPO loss ---------------------------------------------
def gae(rewards: Tensor, values: Tensor, dones: Tensor, last_value: Tensor, *, discount: float,
        lam: float) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimates and returns over a (T, N) rollout.

    ``dones[t]`` is True when the episode ended with step t (its next value
    is not bootstrapped); ``last_value`` (N,) is V of the state after the
    last step. ``delta_t = r_t + discount (1 - d_t) V_{t+1} - V_t``,
    ``A_t = delta_t + discount lam (1 - d_t) A_{t+1}``; returns = A + V.
    Truncated episodes count as ended (as torch-ac).

    Examples:
        >>> import torch
        >>> adv, _ = gae(torch.ones(3, 1), torch.zeros(3, 1), torch.zeros(3, 1, dtype=torch.bool),
        ...              torch.zeros(1), discount=1.0, lam=1.0)
        >>> adv.flatten().tolist()
        [3.0, 2.0, 1.0]
    """
    if rewards.shape != values.shape or rewards.shape != dones.shape or rewards.dim() != 2:
        raise ValueError(f"gae: rewards, values and dones must share a (T, N) shape, got {tuple(rewards.shape)}, "
                         f"{tuple(values.shape)}, {tuple(dones.shape)}")
    if last_value.shape != rewards.shape[1:]:
        raise ValueError(f"gae: last_value must be (N,) = {tuple(rewards.shape[1:])}, got {tuple(last_value.shape)}")
    notdone = 1.0 - dones.to(values.dtype)
    adv = torch.zeros_like(values)
    next_adv = torch.zeros_like(last_value)
    next_value = last_value
    for t in range(rewards.shape[0] - 1, -1, -1):
        delta = rewards[t] + discount * next_value * notdone[t] - values[t]
        next_adv = delta + discount * lam * notdone[t] * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv, adv + values


def ppo_loss(log_prob: Tensor, old_log_prob: Tensor, advantage: Tensor, value: Tensor, old_value: Tensor,
             returns: Tensor, entropy: Tensor, *, clip_eps: float, value_coef: float,
             entropy_coef: float) -> tuple[Tensor, dict[str, Tensor]]:
    """PPO's clipped objective on a batch of frames (all arguments (M,)); returns (loss, parts).

    ``ratio = exp(log_prob - old_log_prob)``; policy loss
    ``-mean(min(ratio A, clip(ratio, 1 - eps, 1 + eps) A))``; value loss
    ``mean(max((v - R)^2, (v_clip - R)^2))`` with ``v_clip = old_v +
    clip(v - old_v, -eps, eps)``; loss = policy - entropy_coef * mean(entropy)
    + value_coef * value loss.
    """
    ratio = torch.exp(log_prob - old_log_prob)
    policy = -torch.min(ratio * advantage, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage).mean()
    clipped = old_value + torch.clamp(value - old_value, -clip_eps, clip_eps)
    value_loss = torch.max((value - returns) ** 2, (clipped - returns) ** 2).mean()
    ent = entropy.mean()
    loss = policy - entropy_coef * ent + value_coef * value_loss
    return loss, {"policy_loss": policy.detach(), "value_loss": value_loss.detach(), "entropy": ent.detach()}


# -- PPO ------------------------------------------------------------------------------
@configclass
class PPOConfig:
    fast: str = field(default="modules", validator=one_of("modules", "attention", "all", "none"),
                      doc="'modules' (Meta-RIMs: θ fast, φ slow), 'attention' (reversed), 'all' (joint), "
                          "'none' (plain PPO, one Adam step on everything)")
    num_envs: int = field(default=16, validator=positive, doc="environments stepped together (torch-ac 16)")
    frames_per_env: int = field(default=128, validator=positive, doc="rollout length T per update (torch-ac 128)")
    epochs: int = field(default=4, validator=positive, doc="passes over each rollout (torch-ac 4)")
    batch_size: int = field(default=256, validator=positive, doc="frames per minibatch (torch-ac 256)")
    recurrence: int = field(default=4, validator=positive, doc="BPTT steps per sub-sequence (torch-ac memory 4)")
    lr: float = field(default=1e-3, validator=positive, doc="Adam learning rate (slow group; torch-ac 1e-3)")
    adam_eps: float = field(default=1e-8, validator=positive, doc="Adam eps (torch-ac 1e-8)")
    inner_lr: float = field(default=0.05, validator=positive, doc="SGD learning rate of the fast group")
    inner_steps: int = field(default=1, validator=positive, doc="fast SGD steps per minibatch")
    mask_inactive: bool = field(default=True, doc="fast θ steps move only modules active in the minibatch")
    discount: float = field(default=0.99, validator=in_range(0.0, 1.0), doc="γ (torch-ac 0.99)")
    gae_lambda: float = field(default=0.95, validator=in_range(0.0, 1.0), doc="GAE λ (torch-ac 0.95)")
    clip_eps: float = field(default=0.2, validator=positive, doc="PPO clip ε (torch-ac 0.2)")
    entropy_coef: float = field(default=0.01, validator=non_negative, doc="entropy bonus (torch-ac 0.01)")
    value_coef: float = field(default=0.5, validator=non_negative, doc="value-loss weight (torch-ac 0.5)")
    max_grad_norm: float = field(default=0.5, validator=non_negative, doc="gradient-norm clip (torch-ac 0.5)")

    def __attrs_post_init__(self) -> None:
        if self.frames_per_env % self.recurrence:
            raise FieldValueError("frames_per_env", self.frames_per_env,
                                  f"a multiple of recurrence={self.recurrence}")
        if self.batch_size % self.recurrence:
            raise FieldValueError("batch_size", self.batch_size, f"a multiple of recurrence={self.recurrence}")


def _masked_memory(memory: Memory, notdone: Tensor) -> Memory:
    shape = (-1,) + (1,) * (memory[0].dim() - 1)
    return memory[0] * notdone.view(shape), memory[1] * notdone.view(shape)


class PPO:
    """Recurrent PPO over a :class:`~etude_meta_rims.minigrid.VectorGrid`, with the Meta-RIMs fast / slow update.

    ``PPO(agent, **config)``; :meth:`collect` runs one rollout (no
    gradients) and returns it as a dict of (T, N, ...) tensors with the
    advantages and returns; :meth:`update` runs the epochs of minibatch
    steps on it; :meth:`train` alternates them for ``updates`` updates and
    returns the per-update log (success rate, mean return, losses). The
    method and defaults are in the module docstring. Action sampling uses
    a ``torch.Generator`` seeded by ``seed``: with the environments' seed,
    a run is deterministic on a device.

    Examples:
        >>> ppo = PPO(ActorCritic(hidden_size=8), fast="modules", num_envs=2, frames_per_env=8,
        ...           batch_size=8)
        >>> ppo.config.clip_eps, ppo.config.recurrence
        (0.2, 4)
    """

    Config = PPOConfig

    def __init__(self, agent: ActorCritic, config: PPOConfig | dict | None = None, *, seed: int = 0,
                 device: Any = None, **overrides: Any) -> None:
        if config is None:
            config = PPOConfig(**overrides)
        elif isinstance(config, dict):
            config = PPOConfig(**{**config, **overrides})
        elif overrides:
            raise TypeError("PPO: pass a PPOConfig or keyword overrides, not both")
        self.config = c = config
        self.device = torch.device(device or "cpu")
        self.agent = agent.to(self.device)
        if c.fast == "none":
            self.fast, self.slow = [], list(agent.parameters())
        else:
            self.fast, self.slow = _groups(agent, c.fast)
        self.optimizer = torch.optim.Adam(self.slow, lr=c.lr, eps=c.adam_eps)
        self.generator = torch.Generator(device="cpu").manual_seed(int(seed))
        self._obs: dict[str, Tensor] | None = None
        self._memory: Memory | None = None
        self._notdone: Tensor | None = None

    def attach(self, envs: Any) -> None:
        """Use ``envs`` (a VectorGrid) from now on: resets them and the recurrent state."""
        if envs.num_envs != self.config.num_envs:
            raise ValueError(f"PPO.attach: the environments number {envs.num_envs}, config num_envs is "
                             f"{self.config.num_envs}")
        self.envs = envs
        self._obs = {k: v.to(self.device) for k, v in envs.reset().items()}
        self._memory = self.agent.initial_memory(envs.num_envs, self.device)
        self._notdone = torch.ones(envs.num_envs, device=self.device)

    # -- rollout ---------------------------------------------------------------------
    @torch.no_grad()
    def collect(self) -> dict[str, Any]:
        """One rollout of ``frames_per_env`` steps per environment; memory carried, zeroed after a done."""
        if self._obs is None:
            raise RuntimeError("PPO.collect: call attach(envs) first")
        T = self.config.frames_per_env
        obs, memory, notdone = self._obs, self._memory, self._notdone
        keys = {"image": [], "mission": [], "mem_h": [], "mem_c": [], "notdone": [], "action": [], "value": [],
                "log_prob": [], "reward": [], "done": []}
        ended_success: list[float] = []
        ended_return: list[float] = []
        self.agent.eval()
        for _ in range(T):
            memory = _masked_memory(memory, notdone)
            logits, value, new_memory, _ = self.agent(obs["image"], obs["mission"], memory)
            probs = torch.softmax(logits, -1)
            action = torch.multinomial(probs.cpu(), 1, generator=self.generator).squeeze(1).to(self.device)
            log_prob = torch.log_softmax(logits, -1).gather(1, action[:, None]).squeeze(1)
            next_obs, reward, done, info = self.envs.step(action.cpu())
            for name, val in (("image", obs["image"]), ("mission", obs["mission"]), ("mem_h", memory[0]),
                              ("mem_c", memory[1]), ("notdone", notdone), ("action", action), ("value", value),
                              ("log_prob", log_prob), ("reward", reward.to(self.device)),
                              ("done", done.to(self.device))):
                keys[name].append(val)
            ended = ~torch.isnan(info["episode_return"])
            ended_success += info["success"][ended].float().tolist()
            ended_return += info["episode_return"][ended].tolist()
            obs = {k: v.to(self.device) for k, v in next_obs.items()}
            memory, notdone = new_memory, (~done).float().to(self.device)
        last_value = self.agent(obs["image"], obs["mission"], _masked_memory(memory, notdone))[1]
        self._obs, self._memory, self._notdone = obs, memory, notdone
        batch = {k: torch.stack(v) for k, v in keys.items()}
        batch["advantage"], batch["returns"] = gae(batch["reward"], batch["value"], batch["done"], last_value,
                                                   discount=self.config.discount, lam=self.config.gae_lambda)
        batch["episodes"] = len(ended_success)
        batch["success_rate"] = sum(ended_success) / len(ended_success) if ended_success else 0.0
        batch["mean_return"] = sum(ended_return) / len(ended_return) if ended_return else 0.0
        return batch

    # -- update --------------------------------------------------------------------
    def evaluate(self, batch: dict[str, Any], t0: Tensor, env: Tensor) -> dict[str, Any]:
        """Re-run the sub-sequences starting at (t0, env) for ``recurrence`` steps with the current weights.

        The state starts from the one stored at ``t0`` and is zeroed after a
        done inside the sub-sequence, exactly as in the rollout. Returns
        ``log_prob``, ``value``, ``entropy`` (M * recurrence,), ``index`` (the
        (t, env) of each frame, step-major) and ``usage`` ((K,) bool: modules
        active anywhere, None for the LSTM core).
        """
        memory = (batch["mem_h"][t0, env], batch["mem_c"][t0, env])
        logps, ents, vals, usage = [], [], [], None
        for k in range(self.config.recurrence):
            t = t0 + k
            if k:
                memory = _masked_memory(memory, batch["notdone"][t, env])
            logits, value, memory, active = self.agent(batch["image"][t, env], batch["mission"][t, env], memory)
            logp = torch.log_softmax(logits, -1)
            logps.append(logp.gather(1, batch["action"][t, env][:, None]).squeeze(1))
            ents.append(-(logp.exp() * logp).sum(-1))
            vals.append(value)
            if active is not None:
                step_usage = active.any(0)
                usage = step_usage if usage is None else usage | step_usage
        index = (torch.cat([t0 + k for k in range(self.config.recurrence)]), env.repeat(self.config.recurrence))
        return {"log_prob": torch.cat(logps), "value": torch.cat(vals), "entropy": torch.cat(ents), "index": index,
                "usage": usage}

    def loss(self, batch: dict[str, Any], t0: Tensor, env: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor | None]:
        """PPO loss (:func:`ppo_loss`) of the sub-sequences starting at (t0, env); (loss, parts, usage)."""
        c = self.config
        ev = self.evaluate(batch, t0, env)
        idx = ev["index"]
        loss, parts = ppo_loss(ev["log_prob"], batch["log_prob"][idx], batch["advantage"][idx], ev["value"],
                               batch["value"][idx], batch["returns"][idx], ev["entropy"], clip_eps=c.clip_eps,
                               value_coef=c.value_coef, entropy_coef=c.entropy_coef)
        return loss, parts, ev["usage"]

    def inner_step(self, batch: dict[str, Any], t0: Tensor, env: Tensor) -> float:
        """One fast SGD step (``inner_lr``) on the fast group; for ``fast='modules'`` only active modules' θ rows."""
        c = self.config
        if not self.fast:
            raise RuntimeError("PPO.inner_step: fast='none' has no fast group")
        loss, _, usage = self.loss(batch, t0, env)
        grads = list(torch.autograd.grad(loss, self.fast, allow_unused=True))
        if c.fast == "modules" and c.mask_inactive and usage is not None:
            grads = mask_inactive_modules(self.agent, self.fast, grads, usage)
        grads = clip_gradients(grads, c.max_grad_norm)
        with torch.no_grad():
            for p, g in zip(self.fast, grads, strict=True):
                if g is not None:
                    p.sub_(c.inner_lr * g)
        return float(loss.detach())

    def outer_step(self, batch: dict[str, Any], t0: Tensor, env: Tensor) -> dict[str, float]:
        """One slow Adam step (``lr``) on the slow group from the loss at the current (adapted) fast weights."""
        loss, parts, _ = self.loss(batch, t0, env)
        grads = clip_gradients(list(torch.autograd.grad(loss, self.slow, allow_unused=True)), self.config.max_grad_norm)
        self.optimizer.zero_grad(set_to_none=True)
        for p, g in zip(self.slow, grads, strict=True):
            p.grad = g
        self.optimizer.step()
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in parts.items()}}

    def _minibatch_step(self, batch: dict[str, Any], t0: Tensor, env: Tensor) -> dict[str, float]:
        if self.config.fast != "none":
            for _ in range(self.config.inner_steps):
                self.inner_step(batch, t0, env)
        return self.outer_step(batch, t0, env)

    def update(self, batch: dict[str, Any]) -> dict[str, float]:
        """``epochs`` passes of minibatch steps over ``batch`` (sub-sequence starts shuffled each epoch)."""
        c = self.config
        T, N = batch["reward"].shape
        starts_t = torch.arange(0, T, c.recurrence).repeat_interleave(N)
        starts_e = torch.arange(N).repeat(T // c.recurrence)
        per_batch = max(1, c.batch_size // c.recurrence)
        self.agent.train()
        logs: list[dict[str, float]] = []
        for _ in range(c.epochs):
            order = torch.randperm(starts_t.numel(), generator=self.generator)
            for i in range(0, order.numel(), per_batch):
                pick = order[i:i + per_batch]
                logs.append(self._minibatch_step(batch, starts_t[pick].to(self.device),
                                                 starts_e[pick].to(self.device)))
        return {k: sum(d[k] for d in logs) / len(logs) for k in logs[0]}

    @torch.no_grad()
    def success_rate(self, envs: Any, *, seed: int = 0) -> dict[str, float]:
        """Run one episode in each of ``envs`` (a fresh VectorGrid) to its end; success rate and mean return.

        Actions are sampled from the policy (as in training) with a generator
        seeded by ``seed``, separate from the training one, so evaluating
        does not change the training run. Unlike the rollout statistics of
        :meth:`collect` (episodes that happened to end inside a rollout,
        which favours short, successful episodes early in training), every
        evaluation episode counts.
        """
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        obs = {k: v.to(self.device) for k, v in envs.reset().items()}
        memory = self.agent.initial_memory(envs.num_envs, self.device)
        notdone = torch.ones(envs.num_envs, device=self.device)
        running = torch.ones(envs.num_envs, dtype=torch.bool)
        success = torch.zeros(envs.num_envs)
        returns = torch.zeros(envs.num_envs)
        self.agent.eval()
        while running.any():
            memory = _masked_memory(memory, notdone)
            logits, _, memory, _ = self.agent(obs["image"], obs["mission"], memory)
            action = torch.multinomial(torch.softmax(logits, -1).cpu(), 1, generator=g).squeeze(1)
            next_obs, _, done, info = envs.step(action)
            first = running & done
            success[first] = info["success"][first].float()
            returns[first] = info["episode_return"][first].float()
            running &= ~done
            obs = {k: v.to(self.device) for k, v in next_obs.items()}
            notdone = (~done).float().to(self.device)
        return {"success_rate": float(success.mean()), "mean_return": float(returns.mean())}

    def train(self, envs: Any, updates: int, *, progress: bool = False, desc: str = "ppo",
              evaluate: Any = None, eval_every: int = 0) -> dict[str, list[float]]:
        """``updates`` rounds of collect + update on ``envs``; returns the per-update log.

        With ``evaluate`` (a callable returning :meth:`success_rate`'s dict)
        and ``eval_every`` > 0 it is also called before the first update and
        after every ``eval_every``-th one: ``log["eval_update"]`` /
        ``["eval_success"]`` / ``["eval_return"]``.
        """
        from tqdm.auto import tqdm  # noqa: PLC0415

        self.attach(envs)
        log: dict[str, list[float]] = {"success_rate": [], "mean_return": [], "episodes": [], "loss": [],
                                       "entropy": [], "seconds": [], "eval_update": [], "eval_success": [],
                                       "eval_return": []}

        def record(step: int) -> None:
            if evaluate is not None and eval_every > 0 and step % eval_every == 0:
                ev = evaluate()
                log["eval_update"].append(step)
                log["eval_success"].append(ev["success_rate"])
                log["eval_return"].append(ev["mean_return"])

        record(0)
        for step in tqdm(range(1, updates + 1), disable=not progress, desc=desc):
            start = time.perf_counter()
            batch = self.collect()
            parts = self.update(batch)
            log["success_rate"].append(batch["success_rate"])
            log["mean_return"].append(batch["mean_return"])
            log["episodes"].append(batch["episodes"])
            log["loss"].append(parts["loss"])
            log["entropy"].append(parts["entropy"])
            log["seconds"].append(time.perf_counter() - start)
            record(step)
        return log


def ppo_transfer(*, seed: int, device: str, fast: str, core: str, source: str, target: str, source_updates: int,
                 target_updates: int, agent_options: dict | None = None, ppo_options: dict | None = None,
                 eval_every: int = 10, eval_episodes: int = 32, progress: bool = False) -> dict[str, Any]:
    """Train a PPO agent on ``source``, then keep training it on ``target``; the target success curve.

    The success curve is evaluated before the first target update and after
    every ``eval_every``-th: the success rate of ``eval_episodes`` episodes
    on fixed target levels (:meth:`PPO.success_rate`). Its area is the mean
    over those points (0..1, higher = faster adaptation; the first point is
    the zero-shot transfer). The source is evaluated once, at its end.
    Seeds: torch (agent init) and actions from ``seed``; training
    environment ``i`` from ``1000 * seed + i`` (source) and ``1000 * seed +
    500 + i`` (target); evaluation levels from ``1000 * seed + 900 + i``.
    """
    from .minigrid import VectorGrid  # noqa: PLC0415

    ppo_options = dict(ppo_options or {})
    torch.manual_seed(seed)
    agent = ActorCritic(core=core, **dict(agent_options or {}))
    ppo = PPO(agent, seed=seed, device=device, fast=fast, **ppo_options)
    n = ppo.config.num_envs

    def evaluator(env_id: str):
        return lambda: ppo.success_rate(VectorGrid(env_id, eval_episodes, seed=1000 * seed + 900), seed=seed + 1)

    start = time.perf_counter()
    src = ppo.train(VectorGrid(source, n, seed=1000 * seed), source_updates, progress=progress, desc=source,
                    evaluate=evaluator(source), eval_every=source_updates)
    tgt = ppo.train(VectorGrid(target, n, seed=1000 * seed + 500), target_updates, progress=progress, desc=target,
                    evaluate=evaluator(target), eval_every=eval_every)
    curve = tgt["eval_success"]
    return {"success_auc": float(sum(curve) / len(curve)) if curve else 0.0, "target_curve": curve,
            "target_eval_updates": tgt["eval_update"], "target_eval_return": tgt["eval_return"],
            "target_rollout_success": tgt["success_rate"], "source_rollout_success": src["success_rate"],
            "source_final_success": src["eval_success"][-1] if src["eval_success"] else 0.0,
            "num_parameters": sum(p.numel() for p in agent.parameters()),
            "seconds": time.perf_counter() - start,
            "frames": (source_updates + target_updates) * n * ppo.config.frames_per_env}


__all__ = ["ActorCritic", "ActorCriticConfig", "PPO", "PPOConfig", "gae", "ppo_loss", "ppo_transfer"]
