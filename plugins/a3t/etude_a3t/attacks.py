"""FGSM and PGD (l-infinity) attacks, as functions and as model-aware augmenters (adversarial training).

Both attack the model's cross-entropy with input-only gradients
(``torch.autograd.grad`` with respect to the inputs: parameters' ``.grad``
are never touched), in eval mode (no BatchNorm statistics updated, dropout
off) with the model's train/eval mode restored afterwards, the whole batch
per step, and return detached inputs in the valid range ``[clip_min, clip_max]``.

References:
    I. J. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015,
    arXiv:1412.6572 (FGSM and FGSM adversarial training);
    A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards Deep Learning Models Resistant to
    Adversarial Attacks", ICLR 2018, arXiv:1706.06083 (PGD);
    A. Erraqabi, A. Baratin, Y. Bengio, S. Lacoste-Julien, "A3T: Adversarially Augmented Adversarial
    Training", arXiv:1801.04055, 2018 (the attacks A3T trains against).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, positive
from etude.kinds import AugmentedBatch, Augmenter, soft_cross_entropy, to_soft_targets


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` (every submodule) in eval mode and restore each submodule's own mode afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def _summed_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    if targets.dim() == 1:
        return nn.functional.cross_entropy(logits, targets.long(), reduction="sum")
    return -(targets.to(logits.dtype) * torch.log_softmax(logits, dim=-1)).sum()


def _check_inputs(inputs: Tensor, clip_min: float | None, clip_max: float | None, who: str) -> None:
    if not inputs.is_floating_point():
        raise TypeError(f"{who}: inputs must be floating point, got {inputs.dtype}")
    if not torch.isfinite(inputs).all():
        raise ValueError(f"{who}: inputs contain NaN or inf")
    low = float(inputs.min()) if clip_min is not None else None
    high = float(inputs.max()) if clip_max is not None else None
    if (low is not None and low < clip_min - 1e-6) or (high is not None and high > clip_max + 1e-6):
        raise ValueError(
            f"{who}: inputs span [{float(inputs.min()):.4g}, {float(inputs.max()):.4g}], outside the valid range "
            f"[clip_min, clip_max] = [{clip_min}, {clip_max}]; attack raw inputs in that range (put any "
            "normalisation inside the model's forward), or set clip_min / clip_max (None: no clipping)")


def input_gradient(model: nn.Module, inputs: Tensor, targets: Tensor) -> Tensor:
    """``d/dx sum_i CE(model(x)_i, y_i)`` at ``x = inputs`` (B, ...), in eval mode, parameters' ``.grad`` untouched.

    ``targets`` are class indices (B,) or soft labels (B, C). The summed loss
    makes each example's gradient independent of the batch size.
    """
    x = inputs.detach().requires_grad_(True)
    with eval_mode(model), torch.enable_grad():
        logits = model(x)
        if isinstance(logits, tuple):
            logits = logits[0]
        (grad,) = torch.autograd.grad(_summed_cross_entropy(logits, targets), x)
    return grad


def _clip(x: Tensor, clip_min: float | None, clip_max: float | None) -> Tensor:
    if clip_min is None and clip_max is None:
        return x
    return x.clamp(min=clip_min, max=clip_max)


def fgsm(model: nn.Module, inputs: Tensor, targets: Tensor, eps: float, *, clip_min: float | None = 0.0,
         clip_max: float | None = 1.0) -> Tensor:
    """FGSM: ``clip(x + eps * sign(grad_x CE(f(x), y)), [clip_min, clip_max])``, detached.

    Examples:
        >>> net = torch.nn.Linear(4, 3)
        >>> x = torch.rand(5, 4)
        >>> adv = fgsm(net, x, torch.tensor([0, 1, 2, 0, 1]), 0.1)
        >>> bool((adv - x).abs().max() <= 0.1 + 1e-7), bool(adv.min() >= 0), bool(adv.max() <= 1)
        (True, True, True)
    """
    _check_inputs(inputs, clip_min, clip_max, "fgsm")
    grad = input_gradient(model, inputs, targets)
    return _clip(inputs.detach() + eps * grad.sign(), clip_min, clip_max).detach()


def project(x: Tensor, center: Tensor, eps: float, clip_min: float | None = 0.0,
            clip_max: float | None = 1.0) -> Tensor:
    """Euclidean projection of ``x`` onto the l-inf ball of radius ``eps`` around ``center`` intersected with the box.

    Both sets are axis-aligned boxes, so the projection onto their
    intersection is the coordinate-wise clamp to
    ``[max(center - eps, clip_min), min(center + eps, clip_max)]``.
    """
    low, high = center - eps, center + eps
    if clip_min is not None:
        low = low.clamp(min=clip_min)
    if clip_max is not None:
        high = high.clamp(max=clip_max)
    return torch.maximum(torch.minimum(x, high), low)


def pgd(model: nn.Module, inputs: Tensor, targets: Tensor, eps: float, *, steps: int = 10,
        step_size: float | None = None, random_start: bool = True, clip_min: float | None = 0.0,
        clip_max: float | None = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """l-inf PGD (Madry et al., ICLR 2018): ``x_{t+1} = Proj(x_t + alpha * sign(grad CE))``, detached.

    ``alpha = step_size`` (default ``2.5 eps / steps``); the start is uniform
    in the ball (from ``generator``) when ``random_start``, else ``x``; every
    step is projected onto the ball intersected with ``[clip_min, clip_max]``.

    Examples:
        >>> net = torch.nn.Linear(4, 3)
        >>> x = torch.rand(5, 4)
        >>> adv = pgd(net, x, torch.tensor([0, 1, 2, 0, 1]), 0.1, steps=5, generator=torch.Generator().manual_seed(0))
        >>> bool((adv - x).abs().max() <= 0.1 + 1e-6)
        True
    """
    _check_inputs(inputs, clip_min, clip_max, "pgd")
    if steps < 1:
        raise ValueError(f"pgd: steps must be >= 1, got {steps}")
    alpha = 2.5 * eps / steps if step_size is None else float(step_size)
    center = inputs.detach()
    x = center
    if random_start and eps > 0:
        device = generator.device if generator is not None else center.device
        noise = torch.rand(center.shape, generator=generator, device=device, dtype=center.dtype).to(center.device)
        x = project(center + eps * (2 * noise - 1), center, eps, clip_min, clip_max)
    for _ in range(steps):
        grad = input_gradient(model, x, targets)
        x = project(x + alpha * grad.sign(), center, eps, clip_min, clip_max)
    return x.detach()


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _check_clip(config: Any) -> None:
    if config.clip_min is not None and config.clip_max is not None and not config.clip_min < config.clip_max:
        raise FieldValueError("clip_max", config.clip_max, f"> clip_min = {config.clip_min}")
    for name in ("clip_min", "clip_max"):
        value = getattr(config, name)
        if value is not None and not math.isfinite(value):
            raise FieldValueError(name, value, "a finite number or None (no clipping)")


@configclass
class FGSMConfig:
    eps: float = field(default=0.1, validator=non_negative, doc="l-inf radius epsilon (in input units)")
    clip_min: float | None = field(default=0.0, converter=_optional_float,
                                   doc="lower end of the valid input range (None: no clipping)")
    clip_max: float | None = field(default=1.0, converter=_optional_float,
                                   doc="upper end of the valid input range (None: no clipping)")
    adv_weight: float = field(default=0.5, validator=in_range(0.0, 1.0),
                              doc="w in the loss (1 - w) CE(f(x), y) + w CE(f(x~), y)")

    def __attrs_post_init__(self) -> None:
        _check_clip(self)


@configclass
class PGDConfig:
    eps: float = field(default=0.1, validator=non_negative, doc="l-inf radius epsilon (in input units)")
    steps: int = field(default=10, validator=positive, doc="gradient-sign steps")
    step_size: float | None = field(default=None, converter=_optional_float,
                                    doc="step alpha (None: 2.5 eps / steps, Madry et al.)")
    random_start: bool = field(default=True, doc="start uniformly in the ball (from the generator)")
    clip_min: float | None = field(default=0.0, converter=_optional_float,
                                   doc="lower end of the valid input range (None: no clipping)")
    clip_max: float | None = field(default=1.0, converter=_optional_float,
                                   doc="upper end of the valid input range (None: no clipping)")
    adv_weight: float = field(default=0.5, validator=in_range(0.0, 1.0),
                              doc="w in the loss (1 - w) CE(f(x), y) + w CE(f(x~), y)")

    def __attrs_post_init__(self) -> None:
        _check_clip(self)
        if self.step_size is not None and not self.step_size > 0:
            raise FieldValueError("step_size", self.step_size, "a number > 0 or None (2.5 eps / steps)")


class AdversarialAugmenter(Augmenter):
    """Base of the attack augmenters: ``augment`` returns the attacked batch, ``loss`` is adversarial training."""

    needs_model = True

    def attack(self, model: nn.Module, inputs: Tensor, targets: Tensor,
               generator: torch.Generator | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def augment(self, inputs, targets, *, num_classes, generator=None, model=None) -> AugmentedBatch:
        dtype = inputs.dtype if inputs.is_floating_point() else torch.get_default_dtype()
        soft = to_soft_targets(targets, num_classes, dtype).to(inputs.device)
        return AugmentedBatch(self.attack(model, inputs, targets, generator), soft)

    def loss(self, model, inputs, targets, *, num_classes, generator=None, **context: Any) -> Tensor:
        """``(1 - w) CE(f(x), y) + w CE(f(x~), y)`` with x~ the attack on the current model (one forward of both)."""
        adv = self(inputs, targets, num_classes=num_classes, generator=generator, model=model)
        logits = model(torch.cat([inputs, adv.inputs]))
        b = inputs.shape[0]
        w = self.config.adv_weight
        return ((1 - w) * soft_cross_entropy(logits[:b], adv.targets)
                + w * soft_cross_entropy(logits[b:], adv.targets))


class FGSM(AdversarialAugmenter):
    """FGSM (Goodfellow et al., ICLR 2015) as an augmenter: FGSM adversarial training by name.

    ``x~ = clip(x + eps sign(grad_x CE(f(x), y)), [clip_min, clip_max])``
    from the current model (eval mode, input-only gradient, mode restored);
    :meth:`loss` is ``(1 - w) CE(f(x), y) + w CE(f(x~), y)`` (w = 0.5), so
    ``procedure/supervised`` with ``augmenter="fgsm"`` is FGSM adversarial training.

    References:
        I. J. Goodfellow, J. Shlens, C. Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015,
        arXiv:1412.6572.

    Examples:
        >>> net = torch.nn.Linear(4, 3)
        >>> out = FGSM(eps=0.1)(torch.rand(5, 4), torch.tensor([0, 1, 2, 0, 1]), num_classes=3, model=net)
        >>> out.inputs.shape, out.targets.shape
        (torch.Size([5, 4]), torch.Size([5, 3]))
    """

    Config = FGSMConfig

    def attack(self, model, inputs, targets, generator=None) -> Tensor:
        c = self.config
        return fgsm(model, inputs, targets, c.eps, clip_min=c.clip_min, clip_max=c.clip_max)


class PGD(AdversarialAugmenter):
    """l-inf PGD (Madry et al., ICLR 2018) as an augmenter: PGD adversarial training by name.

    ``steps`` sign-gradient steps of size ``step_size`` (default
    ``2.5 eps / steps``) from a uniform random start in the ball (drawn from
    the generator), each projected onto the ball intersected with
    ``[clip_min, clip_max]``; the whole batch per step.

    References:
        A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu, "Towards Deep Learning Models Resistant to
        Adversarial Attacks", ICLR 2018, arXiv:1706.06083.

    Examples:
        >>> net = torch.nn.Linear(4, 3)
        >>> out = PGD(eps=0.1, steps=3)(torch.rand(5, 4), torch.tensor([0, 1, 2, 0, 1]), num_classes=3, model=net,
        ...                             generator=torch.Generator().manual_seed(0))
        >>> out.inputs.shape
        torch.Size([5, 4])
    """

    Config = PGDConfig

    def attack(self, model, inputs, targets, generator=None) -> Tensor:
        c = self.config
        return pgd(model, inputs, targets, c.eps, steps=c.steps, step_size=c.step_size, random_start=c.random_start,
                   clip_min=c.clip_min, clip_max=c.clip_max, generator=generator)


__all__ = ["FGSM", "PGD", "AdversarialAugmenter", "FGSMConfig", "PGDConfig", "eval_mode", "fgsm", "input_gradient",
           "pgd", "project"]
