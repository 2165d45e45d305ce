"""etude-mixupe: mixup and MixupE (Zou et al., UAI 2023) augmenters, tasks with label noise, supervised training."""

from .mixup import Mixup, MixupE, expected_one_minus_lambda, mix, sample_lambda, sample_permutation
from .models import MLP
from .noise import asymmetric_map, inject_label_noise
from .procedure import SupervisedTraining
from .tasks import MNIST1D, BreastCancer, Digits

__all__ = [
    "MLP",
    "MNIST1D",
    "BreastCancer",
    "Digits",
    "Mixup",
    "MixupE",
    "SupervisedTraining",
    "asymmetric_map",
    "expected_one_minus_lambda",
    "inject_label_noise",
    "mix",
    "sample_lambda",
    "sample_permutation",
]
