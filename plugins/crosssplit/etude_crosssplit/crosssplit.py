"""CrossSplit: two networks on disjoint halves, cross-split label correction and semi-supervised training."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult
from etude.runtime import check_finite, make_generator, seed_everything

from . import functional as CF
from ._common import (
    NoisyData,
    TrainingConfig,
    _int_positive,
    append_history,
    augment,
    build_network,
    epochs_iter,
    evaluate,
    final_metrics,
    logits_of,
    make_optimizer,
    penultimate_features,
    start_run,
)
from .split import SubsetLoader, disjoint_halves

__all__ = ["CrossSplit", "CrossSplitConfig"]


def _non_negative_int(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise FieldValueError(attribute.name, value, "an integer >= 0")


@configclass
class CrossSplitConfig(TrainingConfig):
    warmup: int = field(default=10, validator=_non_negative_int, doc="warm-up epochs of plain cross-entropy (paper: 10 for CIFAR-10)")
    delta: int = field(default=5, validator=_non_negative_int, doc="relaxation step of the gamma schedule (`delt`; paper: 10)")
    temperature: float = field(default=0.5, validator=positive, doc="sharpening temperature T")
    mix_alpha: float = field(default=4.0, validator=positive, doc="MixMatch lambda ~ Beta(alpha, alpha)")
    lambda_u: float = field(default=30.0, validator=non_negative, doc="final weight of the unlabelled MSE loss")
    rampup: float = field(default=16.0, validator=positive, doc="epochs over which lambda_u ramps up linearly after warm-up")
    lambda_c: float = field(
        default=0.0, validator=non_negative,
        doc="weight of the SimCLR contrastive loss on two strong unlabelled views (paper: 0.025; 0 disables it)",
    )
    contrastive_temperature: float = field(default=0.07, validator=positive, doc="temperature of the contrastive loss")
    prior_weight: float = field(default=1.0, validator=non_negative, doc="weight of the uniform-prior penalty KL(pi || mean prediction)")
    warmup_penalty: float = field(
        default=0.0, validator=non_negative,
        doc="weight of the negative-entropy penalty during warm-up (paper: 0.1 under asymmetric noise)",
    )
    unlabelled_batch_size: int = field(default=64, validator=_int_positive, doc="unlabelled mini-batch size (from the peer's half)")
    warmup_on: str = field(
        default="own", validator=one_of("own", "all"),
        doc="warm-up data: 'own' half (the paper's premise) or 'all' labels (the reference code)",
    )
    jsd_range_on: str = field(
        default="own", validator=one_of("own", "all"),
        doc="examples for J_min/J_max: the network's 'own' labelled half (out-of-sample for the peer) or 'all' (the reference code)",
    )

    def __attrs_post_init__(self) -> None:
        if self.warmup > self.epochs:
            raise FieldValueError("warmup", self.warmup, f"an integer <= epochs ({self.epochs})")


class CrossSplit(Procedure):
    """CrossSplit: two networks on disjoint halves correct each other's labels and learn the other half unlabelled.

    The noisy training set is split at random into disjoint halves D1, D2;
    network N1 learns from the labels of D1 only and uses D2 as unlabelled
    data, N2 the reverse. After a warm-up on its own half, each labelled
    example of N gets the soft target ``sharpen(beta p_peer + (1 - beta) y, T)``
    where ``p_peer`` is the peer's prediction (the peer never saw that label)
    and ``beta = (clip((JSD(y, p_peer) - J_min[y]) / (J_max[y] - J_min[y]), 0, 1) - 1/2) gamma + 1/2``
    with ``gamma`` = 0.6 / 0.8 / 1.0 by epoch. The peer's half is learned
    MixMatch-style (sharpened self-guess, mixup over labelled and unlabelled
    rows, ``Lx + lambda_u(t) Lu + prior penalty [+ lambda_c SimCLR]``); the
    networks are updated alternately and predict by summing their logits.

    ``run(task, seed=..., device=..., progress=...)`` takes a classification
    Task whose train split may record ``info["clean_targets"]`` and
    ``info["noisy"]`` (the etude.data tasks do); networks are
    :class:`etude.data.MLP`. Defaults are the paper brief's CPU scale
    (delta = 5, Gaussian-noise views, no contrastive term).

    References:
        J. Kim, A. Baratin, Y. Zhang, S. Lacoste-Julien, "CrossSplit: Mitigating
        Label Noise Memorization through Data Splitting", ICML 2023, arXiv:2212.01674.

    Examples:
        >>> import etude
        >>> task = etude.create("task", "breast-cancer", label_noise=0.2)
        >>> result = CrossSplit(epochs=2, warmup=1, hidden=(8,)).run(task, seed=0)
        >>> 0.0 <= result.metrics["test_accuracy"] <= 1.0
        True
    """

    Config = CrossSplitConfig

    # -- one epoch of one network -------------------------------------------------
    def _warmup_epoch(self, net, opt, data, indices, g, gdev, targets_seen):
        c = self.config
        net.train()
        for idx in SubsetLoader(indices, c.batch_size, g):
            idx_d = idx.to(data.x.device)
            logits = net(augment(data.x[idx_d], c.augment_std, gdev))
            loss = F.cross_entropy(logits, data.y[idx_d])
            if c.warmup_penalty:
                loss = loss + c.warmup_penalty * CF.negative_entropy(logits)
            check_finite(loss, step=self._step, name="warm-up loss")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self._step += 1
            targets_seen[idx_d] = data.y[idx_d]

    def _jsd_range(self, peer: nn.Module, data: NoisyData, indices: Tensor) -> tuple[Tensor, Tensor]:
        """Per-class J_min, J_max of the peer's JSD on un-augmented inputs of ``indices`` (Eq. 4)."""
        idx = indices.to(data.x.device)
        (logits,) = logits_of([peer], data.x[idx])
        y = data.y[idx]
        jsd = CF.jensen_shannon(CF.one_hot(y, data.num_classes, logits.dtype), torch.softmax(logits, 1))
        return CF.class_jsd_range(jsd, y, data.num_classes)

    def _crosssplit_epoch(self, epoch, net, peer, opt, data, own, other, g, gdev, rng, targets_seen, beta_seen):
        c = self.config
        range_idx = own if c.jsd_range_on == "own" else torch.arange(data.n)
        jmin, jmax = self._jsd_range(peer, data, range_idx)
        gamma = CF.gamma_schedule(epoch, c.warmup, c.delta)
        net.train()
        peer.eval()
        loader = SubsetLoader(own, c.batch_size, g)
        unlabelled = SubsetLoader(other, c.unlabelled_batch_size, g).cycle()
        n_b = len(loader)
        for b, idx in enumerate(loader):
            idx_d = idx.to(data.x.device)
            uidx = next(unlabelled).to(data.x.device)
            x, y, u = data.x[idx_d], data.y[idx_d], data.x[uidx]
            with torch.no_grad():
                # self-guess on the unlabelled half (the peer's labelled half): two weak views
                pu = 0.5 * (torch.softmax(net(augment(u, c.augment_std, gdev)), 1)
                            + torch.softmax(net(augment(u, c.augment_std, gdev)), 1))
                t_u = CF.sharpen(pu, c.temperature)
                # cross-split label correction with the peer, which never saw these labels
                p_peer = 0.5 * (torch.softmax(peer(augment(x, c.augment_std, gdev)), 1)
                                + torch.softmax(peer(augment(x, c.augment_std, gdev)), 1))
                t_x, beta = CF.cross_split_target(y, p_peer, jmin, jmax, gamma=gamma, temperature=c.temperature)
            targets_seen[idx_d] = t_x.argmax(1)
            beta_seen[idx_d] = beta
            views = [augment(x, c.augment_std, gdev), augment(x, c.augment_std, gdev),
                     augment(u, c.augment_std, gdev), augment(u, c.augment_std, gdev)]
            all_inputs = torch.cat(views)
            all_targets = torch.cat([t_x, t_x, t_u, t_u])
            lam = CF.sample_mix_lambda(c.mix_alpha, rng)
            perm = torch.randperm(all_inputs.shape[0], generator=g).to(all_inputs.device)
            mixed_x, mixed_t = CF.mixmatch(all_inputs, all_targets, lam, perm)
            logits = net(mixed_x)
            nx = 2 * x.shape[0]
            lx, lu = CF.semi_supervised_loss(logits[:nx], mixed_t[:nx], logits[nx:], mixed_t[nx:])
            weight_u = CF.linear_rampup(epoch + b / n_b, c.warmup, c.lambda_u, c.rampup)
            loss = lx + weight_u * lu
            if c.prior_weight:
                loss = loss + c.prior_weight * CF.prior_penalty(logits)
            if c.lambda_c:
                f1 = penultimate_features(net, augment(u, c.augment_std, gdev))
                f2 = penultimate_features(net, augment(u, c.augment_std, gdev))
                loss = loss + c.lambda_c * CF.nt_xent(f1, f2, c.contrastive_temperature)
            check_finite(loss, step=self._step, name="CrossSplit loss")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self._step += 1

    # -- the procedure --------------------------------------------------------------
    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        """Train both networks on ``task``; metrics of the logit-sum ensemble, per-epoch history, both networks."""
        c = self.config
        dev, data = start_run("CrossSplit", task, device, kwargs, min_examples=4)
        seed_everything(seed)
        g = make_generator(seed)
        gdev = make_generator(seed + 1, str(dev)) if dev.type == "cuda" else make_generator(seed + 1)
        rng = np.random.default_rng(seed)
        halves = disjoint_halves(data.n, g)
        nets = [build_network(data, c.hidden, dev) for _ in range(2)]
        optims = [make_optimizer(net, c) for net in nets]
        self._step = 0
        history: dict[str, list[float]] = {}
        everyone = torch.arange(data.n)
        for epoch in epochs_iter(c.epochs, progress, "CrossSplit"):
            targets_seen = torch.full((data.n,), -1, dtype=torch.long, device=dev)
            beta_seen = torch.full((data.n,), math.nan, device=dev)
            for k in (0, 1):
                net, peer, (opt, _) = nets[k], nets[1 - k], optims[k]
                if epoch < c.warmup:
                    own = halves[k] if c.warmup_on == "own" else everyone
                    self._warmup_epoch(net, opt, data, own, g, gdev, targets_seen)
                else:
                    self._crosssplit_epoch(epoch, net, peer, opt, data, halves[k], halves[1 - k], g, gdev, rng,
                                           targets_seen, beta_seen)
            for _, sched in optims:
                sched.step()
            values = evaluate(nets, data)
            values.update(_target_diagnostics(data, targets_seen, beta_seen))
            append_history(history, values)
        return ProcedureResult(
            metrics=final_metrics(history),
            history=history,
            models={"net1": nets[0], "net2": nets[1]},
            info={"halves": halves, "epochs": c.epochs, "warmup": c.warmup},
        )


def _target_diagnostics(data: NoisyData, targets_seen: Tensor, beta_seen: Tensor) -> dict[str, float]:
    """Memorisation of the training targets used this epoch, and the mean beta on flipped vs clean examples."""
    noisy, clean = data.noisy, ~data.noisy
    used = targets_seen >= 0

    def frac(mask: Tensor) -> float:
        return float(mask.float().mean()) if mask.numel() else math.nan

    def mean(v: Tensor) -> float:
        v = v[torch.isfinite(v)]
        return float(v.mean()) if v.numel() else math.nan

    nu = noisy & used
    return {
        "target_memorized_fraction": frac(targets_seen[nu] == data.y[nu]),
        "target_clean_fraction": frac(targets_seen[nu] == data.clean[nu]),
        "beta_noisy": mean(beta_seen[noisy]),
        "beta_clean": mean(beta_seen[clean]),
    }
