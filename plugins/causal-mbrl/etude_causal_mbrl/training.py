"""``procedure/world-model-training``: contrastive or NLL training of a world model, ranking and planning metrics.

Objectives (per batch of transitions ``(o, a, o')``):

- contrastive (C-SWM): ``E(x, y) = ||x - y||^2 / (2 sigma^2)`` (summed over a
  slot's dimensions, averaged over slots), loss
  ``E(T(z, a), z') + max(0, hinge - E(z~, z))`` with ``z~`` the batch's
  states shuffled (sigma 0.5, hinge 1.0);
- nll: pixel binary cross-entropy of a :class:`~etude_causal_mbrl.models.PixelDecoder`
  on ``z`` and on ``T(z, a)`` against ``o`` and ``o'`` (summed over pixels),
  plus the KL term ``-1/2 sum(1 + log s^2 - m^2 - s^2)`` for the VAE.

Adam (5e-4), batch 512 and 100 epochs are the reference's defaults. Images
are rendered from the task's integer states (all at once when they fit in
``image_budget`` floats, else per batch). Metrics on the test split:
``hits_at_1_k`` and ``mrr_k`` of ``k``-step open-loop predictions from each
test episode's first state (:mod:`~etude_causal_mbrl.metrics`), for ``k`` in
``eval_steps``. With ``reward_epochs > 0`` a :class:`RewardPredictor` is then
trained on frozen embeddings (goal = a random training state, target = the
task's reward), and with ``planning_episodes > 0`` greedy one-step planning
(pick the action whose predicted next state has the highest predicted
reward, act in the true simulator) is scored as the fraction of episodes
reaching a goal ``k`` random actions away within ``k`` steps
(``success_k``).

References:
    N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual Model
    Based Reinforcement Learning". NeurIPS 2021 Datasets and Benchmarks.
    arXiv:2107.00848 (Sec. 4-5: training, H@1 / MRR, planning).
    T. Kipf, E. van der Pol, M. Welling. "Contrastive Learning of Structured
    World Models". ICLR 2020. arXiv:1911.12247.

Example:
    >>> from etude_causal_mbrl.tasks import ChemistryTransitions
    >>> task = ChemistryTransitions(num_objects=3, graph="chain3", cell_size=5, train_episodes=4, train_length=5,
    ...                             test_episodes=8, test_length=1, seed=0)
    >>> proc = WorldModelTraining(epochs=1, batch_size=8, eval_steps=(1,), model_options={"hidden": 16,
    ...                           "embedding_dim": 2})
    >>> 0.0 <= proc.run(task, seed=0).metrics["hits_at_1_1"] <= 1.0
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult

from ._common import int_range

__all__ = ["WorldModelTraining", "WorldModelTrainingConfig", "contrastive_loss", "energy"]


def _options(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"model_options must be a mapping of config fields, got {type(value).__name__}")
    return dict(value)


@configclass
class WorldModelTrainingConfig:
    model: str = field(default="world-model-modular", doc="registered world model ('world-model-ae', -vae, -modular, -gnn)")
    model_options: dict = field(factory=dict, converter=_options, doc="its config (sizes from the task are filled in)")
    loss: str = field(default="contrastive", validator=one_of("contrastive", "nll"), doc="'contrastive' or 'nll'")
    sigma: float = field(default=0.5, validator=positive, doc="energy scale sigma of the contrastive loss")
    hinge: float = field(default=1.0, validator=positive, doc="hinge of the negative term")
    lr: float = field(default=5e-4, validator=positive, doc="Adam learning rate")
    epochs: int = field(default=100, validator=int_range(1, 100_000), doc="passes over the training transitions")
    batch_size: int = field(default=512, validator=int_range(1, 10**6), doc="transitions per batch")
    eval_steps: tuple[int, ...] = field(default=(1, 5, 10), converter=tuple, validator=each(positive),
                                        doc="open-loop horizons k of H@1 / MRR")
    reward_epochs: int = field(default=0, validator=non_negative, doc="epochs of the reward predictor (0: none)")
    reward_hidden: int = field(default=512, validator=int_range(1, 65536), doc="reward predictor width")
    planning_episodes: int = field(default=0, validator=non_negative, doc="episodes per planning horizon (0: none)")
    planning_steps: tuple[int, ...] = field(default=(1, 5, 10), converter=tuple, validator=each(positive),
                                            doc="goals k random actions away; k steps allowed")
    image_budget: int = field(default=150_000_000, validator=positive, doc="floats of pre-rendered images")

    def __attrs_post_init__(self) -> None:
        if self.planning_episodes and not self.reward_epochs:
            raise FieldValueError("reward_epochs", self.reward_epochs, "> 0 when planning_episodes > 0 "
                                  "(greedy planning uses the reward predictor)")


def energy(x: Tensor, y: Tensor, sigma: float) -> Tensor:
    """``||x - y||^2 / (2 sigma^2)`` summed over a slot's dimensions, averaged over slots: ``(B,)``."""
    return (x - y).square().sum(-1).mean(-1) / (2 * sigma**2)


def contrastive_loss(z: Tensor, pred: Tensor, z_next: Tensor, perm: Tensor, sigma: float, hinge: float) -> Tensor:
    """C-SWM hinge loss: ``E(T(z, a), z') + max(0, hinge - E(z[perm], z))``, batch mean."""
    return (energy(pred, z_next, sigma) + (hinge - energy(z[perm], z, sigma)).clamp_min(0)).mean()


def _bce(logits: Tensor, target: Tensor) -> Tensor:
    return nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / logits.shape[0]


class _Images:
    """Images of episode states ``(E, L + 1, ...)``, pre-rendered when they fit, else rendered per batch."""

    def __init__(self, task: Any, states: Tensor, positions: Tensor, budget: int, device: torch.device) -> None:
        self.task, self.states, self.positions = task, states.to(device), positions.to(device)
        e, l1 = states.shape[:2]
        side = 5 * task.config.cell_size
        self.cache = None
        if e * l1 * 3 * side * side <= budget:
            self.cache = torch.cat([self._render(torch.arange(e, device=device).repeat_interleave(l1)[i:i + 4096],
                                                 torch.arange(l1, device=device).repeat(e)[i:i + 4096])
                                    for i in range(0, e * l1, 4096)]).reshape(e, l1, 3, side, side)

    def _render(self, ep: Tensor, t: Tensor) -> Tensor:
        return self.task.render(self.states[ep, t], self.positions[ep])

    def __call__(self, ep: Tensor, t: Tensor) -> Tensor:
        return self.cache[ep, t] if self.cache is not None else self._render(ep, t)


class WorldModelTraining(Procedure):
    """Train a world model on a transitions task (contrastive or NLL) and score it; see the module docstring.

    ``run(task, seed=0, device=None, model=None, progress=False)`` returns
    metrics ``hits_at_1_k``, ``mrr_k`` (and ``success_k``, ``reward_mse``),
    history ``train_loss`` per epoch and ``seconds_per_epoch``, models
    ``world_model`` (and ``decoder``, ``reward``).
    """

    Config = WorldModelTrainingConfig

    def build_model(self, task: Any) -> nn.Module:
        import etude  # noqa: PLC0415

        c = self.config
        options = dict(c.model_options)
        filled = {"num_objects": task.num_objects, "action_dim": task.action_dim,
                  "image_size": 5 * task.config.cell_size, "cell_size": task.config.cell_size}
        for key, value in filled.items():
            options.setdefault(key, value)
        return etude.create("model", c.model, **options)

    def run(self, task: Any, *, seed: int = 0, device: Any = None, model: nn.Module | None = None,
            progress: bool = False) -> ProcedureResult:
        """Train on ``task``'s train split and evaluate on its test split."""
        from etude.runtime import check_finite, resolve_device, seed_everything  # noqa: PLC0415

        c = self.config
        for attr in ("render", "num_objects", "action_dim"):
            if not hasattr(task, attr):
                raise TypeError(f"world-model-training needs a transitions task (task/chemistry-transitions or "
                                f"task/physics-transitions) with {attr!r}; got {type(task).__name__}")
        dev = resolve_device("cpu" if device is None else device)
        seed_everything(int(seed))
        net = (model if model is not None else self.build_model(task)).to(dev)
        decoder = net.make_decoder().to(dev) if c.loss == "nll" else None
        params = list(net.parameters()) + (list(decoder.parameters()) if decoder is not None else [])
        opt = torch.optim.Adam(params, lr=c.lr)
        train = task.split("train").info
        actions = train["actions"].to(dev)
        images = _Images(task, train["states"], train["positions"], c.image_budget, dev)
        e, length = actions.shape
        episode = torch.arange(e, device=dev).repeat_interleave(length)
        step = torch.arange(length, device=dev).repeat(e)
        n = e * length
        gen = torch.Generator().manual_seed(int(seed))
        history: dict[str, list[float]] = {"train_loss": [], "seconds_per_epoch": []}
        epochs: Any = range(c.epochs)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            epochs = tqdm(epochs, desc=f"world-model[{c.model}, {c.loss}]", leave=False)
        global_step = 0
        for _ in epochs:
            net.train()
            start, total, batches = time.perf_counter(), 0.0, 0
            order = torch.randperm(n, generator=gen).to(dev)
            for i in range(0, n, c.batch_size):
                idx = order[i:i + c.batch_size]
                ep, t = episode[idx], step[idx]
                obs, nxt, act = images(ep, t), images(ep, t + 1), actions[ep, t]
                z, stats = net.encode(obs)
                pred = net.transition(z, act)
                if c.loss == "contrastive":
                    z_next, _ = net.encode(nxt)
                    perm = torch.randperm(z.shape[0], generator=gen).to(dev)
                    loss = contrastive_loss(z, pred, z_next, perm, c.sigma, c.hinge)
                else:
                    loss = _bce(decoder(z), obs) + _bce(decoder(pred), nxt)
                    if stats is not None:
                        mu, logvar = stats
                        loss = loss + (-0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(-1)).mean()
                total += check_finite(loss, step=global_step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                batches += 1
                global_step += 1
            history["train_loss"].append(total / max(batches, 1))
            history["seconds_per_epoch"].append(time.perf_counter() - start)
        metrics = self.evaluate(net, task, dev)
        models = {"world_model": net}
        if decoder is not None:
            models["decoder"] = decoder
        if c.reward_epochs:
            reward, mse = self._train_reward(net, task, images, train["states"].to(dev), episode, step, gen, dev)
            models["reward"] = reward
            metrics["reward_mse"] = mse
            if c.planning_episodes:
                metrics.update(self.plan(net, reward, task, gen, dev))
        info = {"model": c.model, "loss": c.loss, "seed": int(seed), "steps": global_step}
        return ProcedureResult(metrics=metrics, history=history, models=models, info=info)

    @torch.no_grad()
    def evaluate(self, net: nn.Module, task: Any, device: torch.device) -> dict[str, float]:
        """H@1 and MRR of ``k``-step open-loop predictions on the test split."""
        from .metrics import ranking_metrics  # noqa: PLC0415

        net.eval()
        test = task.split("test").info
        states, positions, actions = test["states"].to(device), test["positions"].to(device), test["actions"].to(device)
        out = {}
        steps = [k for k in self.config.eval_steps if k <= actions.shape[1]]
        if not steps:
            raise ValueError(f"eval_steps {self.config.eval_steps} all exceed the test episodes' length "
                             f"{actions.shape[1]}; lengthen test_length or shorten eval_steps")
        enc = _chunked_encoder(net, task, positions)
        z0 = enc(states[:, 0])
        for k in steps:
            pred = z0
            for t in range(k):
                pred = net.transition(pred, actions[:, t])
            m = ranking_metrics(pred, enc(states[:, k]))
            out[f"hits_at_1_{k}"], out[f"mrr_{k}"] = m["hits_at_1"], m["mrr"]
        return out

    def _train_reward(self, net, task, images, states, episode, step, gen, dev):
        from .models import RewardPredictor  # noqa: PLC0415

        c = self.config
        net.eval()
        n = episode.numel()
        dim = net.config.num_objects * net.config.embedding_dim
        reward = RewardPredictor(dim, c.reward_hidden).to(dev)
        opt = torch.optim.Adam(reward.parameters(), lr=c.lr)
        last = math.nan
        for _ in range(c.reward_epochs):
            order = torch.randperm(n, generator=gen).to(dev)
            goal_order = torch.randperm(n, generator=gen).to(dev)
            total, batches = 0.0, 0
            for i in range(0, n, c.batch_size):
                idx, gidx = order[i:i + c.batch_size], goal_order[i:i + c.batch_size]
                ep, t, gep, gt = episode[idx], step[idx] + 1, episode[gidx], step[gidx] + 1
                with torch.no_grad():
                    z, _ = net.encode(images(ep, t))
                    zg, _ = net.encode(images(gep, gt))
                target = task.reward(states[ep, t], states[gep, gt]).to(z.dtype)
                loss = (reward(z, zg) - target).square().mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                batches += 1
            last = total / max(batches, 1)
        return reward, last

    @torch.no_grad()
    def plan(self, net, reward, task, gen, dev) -> dict[str, float]:
        """Greedy one-step planning success for goals ``k`` random actions away (``success_k``)."""
        net.eval()
        c = self.config
        num_actions = task.num_objects * task.action_dim
        out = {}
        for k in c.planning_steps:
            start, positions = task.random_starts(c.planning_episodes, gen)
            goal = start
            for _ in range(k):
                goal = task.step(goal, torch.randint(num_actions, (goal.shape[0],), generator=gen), gen)
            cur = start.clone()
            enc = _chunked_encoder(net, task, positions.to(dev))
            zg = enc(goal.to(dev))
            reached = torch.zeros(cur.shape[0], dtype=torch.bool)
            for _ in range(k):
                z = enc(cur.to(dev))
                e = z.shape[0]
                all_a = torch.arange(num_actions, device=dev).repeat(e)
                pred = net.transition(z.repeat_interleave(num_actions, 0), all_a)
                scores = reward(pred, zg.repeat_interleave(num_actions, 0)).reshape(e, num_actions)
                best = scores.argmax(-1).cpu()
                cur = task.step(cur, best, gen)
                reached |= (cur == goal).reshape(e, -1).all(-1)
            out[f"success_{k}"] = float(reached.float().mean())
        return out


def _chunked_encoder(net, task, positions: Tensor, chunk: int = 1024):
    def encode(states: Tensor) -> Tensor:
        parts = []
        for i in range(0, states.shape[0], chunk):
            img = task.render(states[i:i + chunk], positions[i:i + chunk])
            parts.append(net.encode(img)[0])
        return torch.cat(parts)

    return encode
