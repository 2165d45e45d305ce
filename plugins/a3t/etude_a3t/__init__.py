"""etude-a3t: FGSM / PGD attacks as augmenters and A3T (Erraqabi et al., arXiv:1801.04055) adversarial training."""

from etude.lazy import lazy_exports

_EXPORTS = {
    "A3T": "a3t",
    "A3TConfig": "a3t",
    "A3TClassifier": "model",
    "A3TClassifierConfig": "model",
    "AdversarialAugmenter": "attacks",
    "FGSM": "attacks",
    "PGD": "attacks",
    "GradientReversal": "ops",
    "RobustAccuracyCallback": "metrics",
    "dann_lambda": "ops",
    "discriminator_accuracy": "metrics",
    "eval_mode": "attacks",
    "fgsm": "attacks",
    "grad_reverse": "ops",
    "input_gradient": "attacks",
    "pgd": "attacks",
    "project": "attacks",
    "robust_accuracy": "metrics",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
