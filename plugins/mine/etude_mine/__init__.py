"""etude-mine: Mutual Information Neural Estimation (Belghazi et al., ICML 2018) and baselines."""

from etude.lazy import lazy_exports

_EXPORTS = {
    "MovingAverage": "bounds",
    "derangement": "bounds",
    "dv_bound": "bounds",
    "dv_corrected": "bounds",
    "infonce_bound": "bounds",
    "log_mean_exp": "bounds",
    "nwj_bound": "bounds",
    "ConcatCritic": "critics",
    "SeparableCritic": "critics",
    "make_critic": "critics",
    "CriticEstimator": "critic_estimator",
    "InfoNCE": "estimators",
    "MINE": "estimators",
    "MINEf": "estimators",
    "NWJ": "estimators",
    "CorrelatedGaussians": "tasks",
    "TransformedGaussians": "tasks",
    "correlated_gaussian_mi": "tasks",
    "gaussian_mi": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
