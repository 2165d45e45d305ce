"""Baselines sharing CrossSplit's networks and data: split networks without correction, and co-teaching.

Plain training on all noisy labels is ``procedure/supervised`` of the
core (``etude.data``, ``augmenter="none"``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from etude.config import FieldValueError, configclass, field, non_negative
from etude.kinds import Procedure, ProcedureResult
from etude.runtime import check_finite, make_generator, seed_everything

from ._common import (
    TrainingConfig,
    append_history,
    augment,
    build_network,
    epochs_iter,
    evaluate,
    final_metrics,
    make_optimizer,
    start_run,
)
from .split import SubsetLoader, disjoint_halves

__all__ = ["CoTeaching", "CoTeachingConfig", "SplitNetworks", "SplitNetworksConfig"]


def _generators(seed: int, dev: torch.device):
    g = make_generator(seed)
    gdev = make_generator(seed + 1, str(dev)) if dev.type == "cuda" else make_generator(seed + 1)
    return g, gdev


@configclass
class SplitNetworksConfig(TrainingConfig):
    pass


class SplitNetworks(Procedure):
    """Two networks trained with plain cross-entropy on disjoint halves of the noisy data; predict by summing logits.

    The ablation of CrossSplit without label correction or semi-supervised
    learning: the split alone. Each network fits the noisy labels of its half
    only, ``L_k = CE(f_k(x), y~)`` over ``D_k``, and the test prediction is
    ``argmax (f_1(x) + f_2(x))``. Same networks, optimiser, schedule and
    Gaussian-noise augmentation as :class:`~etude_crosssplit.CrossSplit`.

    References:
        J. Kim, A. Baratin, Y. Zhang, S. Lacoste-Julien, "CrossSplit: Mitigating
        Label Noise Memorization through Data Splitting", ICML 2023, arXiv:2212.01674
        (the "split only" ablation).

    Examples:
        >>> import etude
        >>> task = etude.create("task", "breast-cancer", label_noise=0.2)
        >>> result = SplitNetworks(epochs=2, hidden=(8,)).run(task, seed=0)
        >>> sorted(result.models)
        ['net1', 'net2']
    """

    Config = SplitNetworksConfig

    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        """Train both networks on their halves; metrics of the logit-sum ensemble and per-epoch history."""
        c = self.config
        dev, data = start_run("SplitNetworks", task, device, kwargs, min_examples=4)
        seed_everything(seed)
        g, gdev = _generators(seed, dev)
        halves = disjoint_halves(data.n, g)
        nets = [build_network(data, c.hidden, dev) for _ in range(2)]
        optims = [make_optimizer(net, c) for net in nets]
        history: dict[str, list[float]] = {}
        step = 0
        for _ in epochs_iter(c.epochs, progress, "split networks"):
            for net, (opt, sched), half in zip(nets, optims, halves, strict=True):
                net.train()
                for idx in SubsetLoader(half, c.batch_size, g):
                    idx = idx.to(dev)
                    loss = F.cross_entropy(net(augment(data.x[idx], c.augment_std, gdev)), data.y[idx])
                    check_finite(loss, step=step)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    step += 1
                sched.step()
            append_history(history, evaluate(nets, data))
        return ProcedureResult(final_metrics(history), history, {"net1": nets[0], "net2": nets[1]}, {"halves": halves})


def _forget_rate_check(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float)) and 0.0 <= value < 1.0):
        raise FieldValueError(attribute.name, value, "a number in [0, 1), or None for the task's label_noise")


def _int_non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise FieldValueError(attribute.name, value, "an integer >= 0")


@configclass
class CoTeachingConfig(TrainingConfig):
    forget_rate: float | None = field(
        default=None, validator=_forget_rate_check,
        doc="final fraction of each batch dropped as large-loss (None: the task's label_noise)",
    )
    num_gradual: int = field(default=10, validator=_int_non_negative, doc="epochs T_k over which the forget rate ramps up linearly")
    exponent: float = field(default=1.0, validator=non_negative, doc="the ramp reaches forget_rate ** exponent (Han et al.: 1)")


class CoTeaching(Procedure):
    """Co-teaching: two networks each pick their small-loss examples to train the other.

    On every mini-batch both networks compute per-example cross-entropy;
    each keeps the ``R(t) = 1 - min(t / T_k, 1) tau`` fraction with the
    smallest loss, and the *peer* is updated on that selection. Both see all
    data (no split). Test prediction: sum of the two networks' logits.

    References:
        B. Han, Q. Yao, X. Yu, G. Niu, M. Xu, W. Hu, I. Tsang, M. Sugiyama, "Co-teaching:
        Robust Training of Deep Neural Networks with Extremely Noisy Labels", NeurIPS 2018,
        arXiv:1804.06872.

    Examples:
        >>> import etude
        >>> task = etude.create("task", "breast-cancer", label_noise=0.2)
        >>> result = CoTeaching(epochs=2, hidden=(8,)).run(task, seed=0)
        >>> 0.0 <= result.metrics["test_accuracy"] <= 1.0
        True
    """

    Config = CoTeachingConfig

    def forget_schedule(self, epochs: int, forget_rate: float) -> list[float]:
        """Per-epoch forget rate: a linear ramp from 0 to ``forget_rate ** exponent`` over ``num_gradual`` epochs, then ``forget_rate``."""
        c = self.config
        rates = [forget_rate] * epochs
        n = min(c.num_gradual, epochs)
        if n:
            top = forget_rate**c.exponent
            rates[:n] = [i / (n - 1) * top if n > 1 else top for i in range(n)]
        return rates

    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        """Train both networks on all data with cross small-loss selection."""
        c = self.config
        dev, data = start_run("CoTeaching", task, device, kwargs)
        rate = c.forget_rate
        if rate is None:
            rate = float(getattr(getattr(task, "config", None), "label_noise", 0.0) or 0.0)
        seed_everything(seed)
        g, gdev = _generators(seed, dev)
        nets = [build_network(data, c.hidden, dev) for _ in range(2)]
        optims = [make_optimizer(net, c) for net in nets]
        schedule = self.forget_schedule(c.epochs, rate)
        history: dict[str, list[float]] = {}
        step = 0
        everyone = torch.arange(data.n)
        for epoch in epochs_iter(c.epochs, progress, "co-teaching"):
            for net in nets:
                net.train()
            for idx in SubsetLoader(everyone, c.batch_size, g):
                idx = idx.to(dev)
                x, y = augment(data.x[idx], c.augment_std, gdev), data.y[idx]
                losses = [F.cross_entropy(net(x), y, reduction="none") for net in nets]
                keep = max(1, int(round((1.0 - schedule[epoch]) * len(idx))))
                picks = [loss.detach().argsort()[:keep] for loss in losses]
                for k, (opt, _) in enumerate(optims):
                    loss = losses[k][picks[1 - k]].mean()  # the peer's small-loss selection
                    check_finite(loss, step=step)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                step += 1
            for _, sched in optims:
                sched.step()
            values = evaluate(nets, data)
            values["forget_rate"] = schedule[epoch]
            append_history(history, values)
        return ProcedureResult(final_metrics(history), history, {"net1": nets[0], "net2": nets[1]}, {"forget_rate": rate})
