"""A3T: adversarial training plus a gradient-reversed discriminator on a hidden layer (Erraqabi et al., 2018)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import AugmentedBatch, soft_cross_entropy

from .attacks import AdversarialAugmenter, _check_clip, _optional_float, fgsm, pgd
from .ops import dann_lambda, grad_reverse


@configclass
class A3TConfig:
    eps: float = field(default=0.1, validator=non_negative, doc="l-inf radius epsilon of the training attack")
    attack: str = field(default="fgsm", validator=one_of("fgsm", "pgd"), doc="training attack: 'fgsm' (the paper's) or 'pgd'")
    steps: int = field(default=10, validator=positive, doc="PGD steps (attack='pgd')")
    step_size: float | None = field(default=None, converter=_optional_float, doc="PGD step (None: 2.5 eps / steps)")
    random_start: bool = field(default=True, doc="PGD random start in the ball")
    clip_min: float | None = field(default=0.0, converter=_optional_float, doc="lower end of the valid input range")
    clip_max: float | None = field(default=1.0, converter=_optional_float, doc="upper end of the valid input range")
    adv_weight: float = field(default=0.5, validator=in_range(0.0, 1.0),
                              doc="w in (1 - w) CE(f(x), y) + w CE(f(x~), y)")
    lam: float = field(default=0.3, validator=non_negative, doc="gradient-reversal weight lambda (its end value with the ramp)")
    lam_schedule: str = field(default="constant", validator=one_of("constant", "dann"),
                              doc="'constant' lambda, or the DANN ramp lambda (2 / (1 + exp(-gamma p)) - 1), p = progress")
    gamma: float = field(default=10.0, validator=positive, doc="steepness of the DANN ramp")
    disc_weight: float = field(default=1.0, validator=non_negative, doc="weight of the discriminator's BCE terms")

    def __attrs_post_init__(self) -> None:
        _check_clip(self)
        if self.step_size is not None and not self.step_size > 0:
            raise FieldValueError("step_size", self.step_size, "a number > 0 or None (2.5 eps / steps)")
        if not math.isfinite(self.lam):
            raise FieldValueError("lam", self.lam, "a finite number >= 0")


class A3T(AdversarialAugmenter):
    """A3T, Adversarially Augmented Adversarial Training (Erraqabi, Baratin, Bengio, Lacoste-Julien, 2018).

    Adversarial examples ``x~`` are generated on the fly from the current
    model (FGSM by default, or PGD); a discriminator ``D`` on the hidden code
    ``h`` learns to tell clean (0) from adversarial (1) codes while, through
    a gradient-reversal layer, the encoder is trained to fool it, making the
    representation invariant to the adversarial noise:

        L = (1 - w) CE(f(x), y) + w CE(f(x~), y)
            + BCE(D(GRL_l(h(x))), 0) + BCE(D(GRL_l(h(x~))), 1),   w = 1/2,

    ``GRL_l`` the identity forward and ``-l x grad`` backward; ``l`` is
    constant (0.3) or the DANN ramp ``l (2 / (1 + e^{-10 p}) - 1)`` with
    ``p`` the fraction of training done (the loop's ``progress``). The model
    must be an :class:`~etude_a3t.model.A3TClassifier` (``features(x) ->
    (logits, h)`` and ``discriminate(h)``), which holds D, so the augmenter
    stays stateless and one optimiser step updates the classifier and D.
    ``augment`` returns the attacked batch alone. With ``l = 0`` the
    classifier's gradients are FGSM adversarial training's.

    References:
        A. Erraqabi, A. Baratin, Y. Bengio, S. Lacoste-Julien, "A3T: Adversarially Augmented Adversarial
        Training", arXiv:1801.04055, 2018 (authors and venue as given by the paper brief; not verified offline);
        Y. Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 2016, arXiv:1505.07818 (GRL).

    Examples:
        >>> from etude_a3t.model import A3TClassifier
        >>> net = A3TClassifier(in_features=8, out_features=3, classifier_options={"hidden": (16, 16)})
        >>> parts = A3T(eps=0.1).terms_with_progress(net, torch.rand(4, 8), torch.tensor([0, 1, 2, 0]), num_classes=3)
        >>> sorted(parts)
        ['ce_adversarial', 'ce_clean', 'discriminator_accuracy', 'discriminator_loss', 'lam', 'loss']
    """

    Config = A3TConfig

    def attack(self, model, inputs, targets, generator=None) -> Tensor:
        c = self.config
        if c.attack == "fgsm":
            return fgsm(model, inputs, targets, c.eps, clip_min=c.clip_min, clip_max=c.clip_max)
        return pgd(model, inputs, targets, c.eps, steps=c.steps, step_size=c.step_size, random_start=c.random_start,
                   clip_min=c.clip_min, clip_max=c.clip_max, generator=generator)

    def current_lambda(self, progress: float | None) -> float:
        """The GRL weight at ``progress`` (the fraction of training done; needed by the DANN ramp)."""
        c = self.config
        if c.lam_schedule == "constant":
            return c.lam
        if progress is None:
            raise ValueError("A3T with lam_schedule='dann' needs progress= (fraction of training done, in [0, 1]); "
                             "procedure/supervised passes it, direct calls must too")
        return dann_lambda(progress, c.lam, c.gamma)

    def terms_with_progress(self, model: nn.Module, inputs: Tensor, targets: Tensor, *, num_classes: int,
                            generator: torch.Generator | None = None, progress: float | None = None,
                            **context: Any) -> dict[str, Tensor | float]:
        """The loss and its parts: ``ce_clean``, ``ce_adversarial``, ``discriminator_loss`` (the two BCE terms,
        summed), ``discriminator_accuracy`` (D on clean and adversarial codes), ``lam`` and ``loss``."""
        if not (callable(getattr(model, "features", None)) and callable(getattr(model, "discriminate", None))):
            raise TypeError(f"A3T needs a model with a discriminator on a hidden layer (features(x) -> (logits, h) "
                            f"and discriminate(h)), got {type(model).__name__}: use model='a3t-classifier' "
                            "(etude_a3t.A3TClassifier)")
        batch: AugmentedBatch = self(inputs, targets, num_classes=num_classes, generator=generator, model=model)
        b = inputs.shape[0]
        logits, h = model.features(torch.cat([inputs, batch.inputs]))
        w = self.config.adv_weight
        ce_clean = soft_cross_entropy(logits[:b], batch.targets)
        ce_adv = soft_cross_entropy(logits[b:], batch.targets)
        lam = self.current_lambda(progress)
        d = model.discriminate(grad_reverse(h, lam))
        labels = torch.cat([torch.zeros(b, dtype=d.dtype, device=d.device), torch.ones(b, dtype=d.dtype, device=d.device)])
        bce = nn.functional.binary_cross_entropy_with_logits
        disc = bce(d[:b], labels[:b]) + bce(d[b:], labels[b:])
        loss = (1 - w) * ce_clean + w * ce_adv + self.config.disc_weight * disc
        accuracy = ((d.detach() > 0).to(labels.dtype) == labels).to(labels.dtype).mean()
        return {"loss": loss, "ce_clean": ce_clean, "ce_adversarial": ce_adv, "discriminator_loss": disc,
                "discriminator_accuracy": accuracy, "lam": lam}

    def loss(self, model, inputs, targets, *, num_classes, generator=None, progress: float | None = None,
             **context: Any) -> Tensor:
        """The A3T loss of the class docstring (``progress`` sets lambda under the DANN ramp)."""
        return self.terms_with_progress(model, inputs, targets, num_classes=num_classes, generator=generator,
                                        progress=progress)["loss"]


__all__ = ["A3T", "A3TConfig"]
