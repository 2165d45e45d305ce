"""CrossSplit's equations as small batched tensor functions.

Every function works on whole batches (no Python loop over examples) and
checks its inputs: a wrong shape or value raises a ValueError that names the
argument, what it got and what to pass instead.

Notation (Kim et al., ICML 2023, arXiv:2212.01674; equation numbers follow
the reference code's comments):

- ``JSD(p, q) = 1/2 KL(p || m) + 1/2 KL(q || m)``, ``m = (p + q) / 2``, natural
  log, with a ``1e-10`` smoothing inside the log ratio;
- Eq. 4: ``beta_tilde = clip((JSD - J_min[y]) / (J_max[y] - J_min[y]), 0, 1)``
  with the per-noisy-class range of the peer's JSD;
- Eq. 2: ``beta = (beta_tilde - 1/2) * gamma + 1/2`` with
  ``gamma = 0.6, 0.8, 1.0`` after ``warmup + 2 delta`` / ``warmup + 3 delta`` epochs;
- Eq. 1: ``s = beta * p_peer + (1 - beta) * onehot(y)``, then sharpened
  ``t = s^(1/T) / sum_c s_c^(1/T)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "class_jsd_range",
    "cross_split_beta",
    "cross_split_target",
    "gamma_schedule",
    "jensen_shannon",
    "linear_rampup",
    "mixmatch",
    "negative_entropy",
    "normalised_jsd",
    "nt_xent",
    "one_hot",
    "prior_penalty",
    "sample_mix_lambda",
    "semi_supervised_loss",
    "sharpen",
    "soft_target",
]


def _check_probs(name: str, p: Tensor) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of probabilities, got {type(p).__name__}")
    if p.dim() != 2:
        raise ValueError(f"{name} must have shape (N, C) (one distribution per row), got shape {tuple(p.shape)}")
    if not p.is_floating_point():
        raise ValueError(f"{name} must be a floating tensor, got dtype {p.dtype}; convert with .float()")


def _check_labels(name: str, labels: Tensor, n: int | None = None, num_classes: int | None = None) -> None:
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.dtype not in (torch.int64, torch.int32):
        got = f"shape {tuple(labels.shape)}, dtype {labels.dtype}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be a 1-D integer tensor of class indices, got {got}")
    if n is not None and labels.shape[0] != n:
        raise ValueError(f"{name} has {labels.shape[0]} entries but the other argument has {n} rows; pass one label per row")
    if num_classes is not None and labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes - 1}], got values in [{int(labels.min())}, {int(labels.max())}]"
        )


def one_hot(labels: Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``labels`` (N,) as one-hot rows (N, C) of ``dtype``."""
    _check_labels("labels", labels, num_classes=num_classes)
    return F.one_hot(labels.long(), num_classes).to(dtype)


def jensen_shannon(p: Tensor, q: Tensor, eps: float = 1e-10) -> Tensor:
    """Per-row Jensen-Shannon divergence (natural log) between distributions ``p`` and ``q`` (N, C) -> (N,).

    ``JSD = 1/2 sum p log((p + eps) / (m + eps)) + 1/2 sum q log((q + eps) / (m + eps))``,
    ``m = (p + q) / 2``. Symmetric, zero iff ``p == q``, at most ``log 2``.
    """
    _check_probs("p", p)
    _check_probs("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    m = 0.5 * (p + q)
    kl_pm = (p * ((p + eps) / (m + eps)).log()).sum(dim=1)
    kl_qm = (q * ((q + eps) / (m + eps)).log()).sum(dim=1)
    return (0.5 * (kl_pm + kl_qm)).clamp(0.0, math.log(2.0))


def class_jsd_range(jsd: Tensor, labels: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
    """Per-class minimum and maximum of ``jsd`` over the examples whose (noisy) label is each class.

    Returns ``(J_min, J_max)``, each (C,). A class with no example gets
    ``J_min = +inf`` and ``J_max = -inf`` (treated as degenerate by :func:`normalised_jsd`).
    """
    if not isinstance(jsd, Tensor) or jsd.dim() != 1:
        raise ValueError(f"jsd must be a 1-D tensor (one divergence per example), got {getattr(jsd, 'shape', jsd)!r}")
    _check_labels("labels", labels, n=jsd.shape[0], num_classes=num_classes)
    labels = labels.long()
    jmin = torch.full((num_classes,), math.inf, dtype=jsd.dtype, device=jsd.device)
    jmax = torch.full((num_classes,), -math.inf, dtype=jsd.dtype, device=jsd.device)
    jmin = jmin.scatter_reduce(0, labels, jsd, reduce="amin", include_self=True)
    jmax = jmax.scatter_reduce(0, labels, jsd, reduce="amax", include_self=True)
    return jmin, jmax


def normalised_jsd(jsd: Tensor, labels: Tensor, jmin: Tensor, jmax: Tensor, eps: float = 1e-12) -> Tensor:
    """Eq. 4: ``beta_tilde = clip((JSD - J_min[y]) / (J_max[y] - J_min[y]), 0, 1)`` per example.

    A degenerate class (``J_max - J_min <= eps``, or no example when the
    range was computed) carries no ranking information: its examples get
    ``beta_tilde = 1/2``, an even mix of label and peer before the gamma scaling.
    """
    if not isinstance(jsd, Tensor) or jsd.dim() != 1:
        raise ValueError(f"jsd must be a 1-D tensor (one divergence per example), got {getattr(jsd, 'shape', jsd)!r}")
    if jmin.shape != jmax.shape or jmin.dim() != 1:
        raise ValueError(f"jmin and jmax must both have shape (C,), got {tuple(jmin.shape)} and {tuple(jmax.shape)}")
    _check_labels("labels", labels, n=jsd.shape[0], num_classes=jmin.shape[0])
    lo, hi = jmin[labels.long()], jmax[labels.long()]
    span = hi - lo
    degenerate = ~(span > eps)
    scaled = ((jsd - torch.where(degenerate, torch.zeros_like(lo), lo)) / torch.where(degenerate, torch.ones_like(span), span))
    return torch.where(degenerate, torch.full_like(jsd, 0.5), scaled.clamp(0.0, 1.0))


def gamma_schedule(epoch: float, warmup: int, delta: int) -> float:
    """Eq. 2's relaxation: 0.6 before ``warmup + 2 delta``, 0.8 before ``warmup + 3 delta``, then 1.0."""
    if delta < 0 or warmup < 0:
        raise ValueError(f"warmup and delta must be >= 0, got warmup={warmup}, delta={delta}")
    if epoch < warmup + 2 * delta:
        return 0.6
    if epoch < warmup + 3 * delta:
        return 0.8
    return 1.0


def cross_split_beta(beta_tilde: Tensor, gamma: float) -> Tensor:
    """Eq. 2: ``beta = (beta_tilde - 1/2) * gamma + 1/2``, in ``[(1 - gamma)/2, (1 + gamma)/2]``."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    return (beta_tilde - 0.5) * gamma + 0.5


def soft_target(beta: Tensor, peer_probs: Tensor, label_onehot: Tensor) -> Tensor:
    """Eq. 1: ``s = beta * p_peer + (1 - beta) * onehot(y)``, row-wise (N, C)."""
    _check_probs("peer_probs", peer_probs)
    if label_onehot.shape != peer_probs.shape:
        raise ValueError(
            f"label_onehot must have the shape of peer_probs {tuple(peer_probs.shape)}, got {tuple(label_onehot.shape)}"
        )
    if beta.dim() != 1 or beta.shape[0] != peer_probs.shape[0]:
        raise ValueError(f"beta must have shape ({peer_probs.shape[0]},), got {tuple(beta.shape)}")
    b = beta.unsqueeze(1)
    return b * peer_probs + (1.0 - b) * label_onehot


def sharpen(p: Tensor, temperature: float) -> Tensor:
    """Temperature sharpening ``p^(1/T) / sum_c p_c^(1/T)`` (computed in log space; T -> 0 gives the argmax one-hot)."""
    _check_probs("p", p)
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    tiny = torch.finfo(p.dtype).tiny
    return torch.softmax(p.clamp_min(tiny).log() / temperature, dim=1)


def cross_split_target(
    labels: Tensor,
    peer_probs: Tensor,
    jmin: Tensor,
    jmax: Tensor,
    *,
    gamma: float,
    temperature: float,
) -> tuple[Tensor, Tensor]:
    """The whole cross-split label correction for a labelled batch: returns ``(target, beta)``.

    ``peer_probs`` is the peer network's prediction (the mean over two weak
    views in the procedure); ``labels`` the noisy labels.
    """
    _check_probs("peer_probs", peer_probs)
    num_classes = peer_probs.shape[1]
    y = one_hot(labels, num_classes, peer_probs.dtype)
    beta = cross_split_beta(normalised_jsd(jensen_shannon(y, peer_probs), labels, jmin, jmax), gamma)
    return sharpen(soft_target(beta, peer_probs, y), temperature), beta


def sample_mix_lambda(alpha: float, rng: np.random.Generator) -> float:
    """MixMatch's ``lambda ~ Beta(alpha, alpha)``, then ``lambda = max(lambda, 1 - lambda)`` (>= 1/2)."""
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    lam = float(rng.beta(alpha, alpha))
    return max(lam, 1.0 - lam)


def mixmatch(inputs: Tensor, targets: Tensor, lam: float, perm: Tensor) -> tuple[Tensor, Tensor]:
    """Mix every row with the row ``perm`` points to: ``lam * a + (1 - lam) * a[perm]`` for inputs and targets."""
    if inputs.shape[0] != targets.shape[0] or perm.shape != (inputs.shape[0],):
        raise ValueError(
            f"inputs ({tuple(inputs.shape)}), targets ({tuple(targets.shape)}) and perm ({tuple(perm.shape)}) "
            "must agree on the number of rows"
        )
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    return lam * inputs + (1 - lam) * inputs[perm], lam * targets + (1 - lam) * targets[perm]


def semi_supervised_loss(logits_x: Tensor, targets_x: Tensor, logits_u: Tensor, targets_u: Tensor) -> tuple[Tensor, Tensor]:
    """MixMatch losses: ``Lx = -mean_i sum_c t log_softmax`` and ``Lu = mean (softmax - t)^2`` (over rows and classes)."""
    if logits_x.shape != targets_x.shape or logits_u.shape != targets_u.shape:
        raise ValueError(
            f"logits and targets must match: x {tuple(logits_x.shape)} vs {tuple(targets_x.shape)}, "
            f"u {tuple(logits_u.shape)} vs {tuple(targets_u.shape)}"
        )
    lx = -(F.log_softmax(logits_x, dim=1) * targets_x).sum(dim=1).mean()
    lu = ((torch.softmax(logits_u, dim=1) - targets_u) ** 2).mean() if logits_u.numel() else logits_x.new_zeros(())
    return lx, lu


def linear_rampup(current: float, warmup: float, weight: float, length: float = 16.0) -> float:
    """The unsupervised weight ``weight * clip((current - warmup) / length, 0, 1)`` (current = epoch + b / n_b)."""
    if length <= 0:
        raise ValueError(f"length must be > 0, got {length}")
    return float(weight) * float(np.clip((current - warmup) / length, 0.0, 1.0))


def prior_penalty(logits: Tensor) -> Tensor:
    """``sum_c pi_c log(pi_c / p_hat_c)`` with uniform ``pi`` and ``p_hat`` the batch-mean prediction: KL(pi || p_hat) >= 0."""
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, C), got {tuple(logits.shape)}")
    num_classes = logits.shape[1]
    mean = torch.softmax(logits, dim=1).mean(0)
    prior = torch.full_like(mean, 1.0 / num_classes)
    return (prior * (prior.log() - mean.clamp_min(torch.finfo(mean.dtype).tiny).log())).sum()


def negative_entropy(logits: Tensor) -> Tensor:
    """Mean of ``sum_c p log p`` (the confidence penalty used in warm-up under asymmetric noise)."""
    logp = F.log_softmax(logits, dim=1)
    return (logp.exp() * logp).sum(dim=1).mean()


def nt_xent(z1: Tensor, z2: Tensor, temperature: float = 0.07) -> Tensor:
    """SimCLR / unsupervised SupCon loss of two views' features (N, d) each (normalised inside).

    Each row's positive is the same example's other view; the other ``2N - 2``
    rows are negatives. Equals SupConLoss without labels (base temperature = temperature).
    """
    if z1.shape != z2.shape or z1.dim() != 2:
        raise ValueError(f"z1 and z2 must both have shape (N, d), got {tuple(z1.shape)} and {tuple(z2.shape)}")
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -math.inf)
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, positive)
