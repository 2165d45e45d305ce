"""etude-mine: Mutual Information Neural Estimation (Belghazi et al., ICML 2018) and baselines."""

from .bounds import (
    MovingAverage,
    derangement,
    dv_bound,
    dv_corrected,
    infonce_bound,
    log_mean_exp,
    nwj_bound,
)
from .critics import ConcatCritic, SeparableCritic, make_critic
from .estimators import MINE, NWJ, CriticEstimator, InfoNCE, MINEf
from .tasks import CorrelatedGaussians, TransformedGaussians, correlated_gaussian_mi, gaussian_mi

__all__ = [
    "MINE",
    "NWJ",
    "ConcatCritic",
    "CorrelatedGaussians",
    "CriticEstimator",
    "InfoNCE",
    "MINEf",
    "MovingAverage",
    "SeparableCritic",
    "TransformedGaussians",
    "correlated_gaussian_mi",
    "derangement",
    "dv_bound",
    "dv_corrected",
    "gaussian_mi",
    "infonce_bound",
    "log_mean_exp",
    "make_critic",
    "nwj_bound",
]
