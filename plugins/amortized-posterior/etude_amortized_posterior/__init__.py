"""etude-amortized-posterior: amortized in-context Bayesian posterior estimation on Pyro.

Mittal, Bracher, Lajoie, Jaini, Brubaker, "Amortized In-Context Bayesian Posterior Estimation",
arXiv:2502.06601 (2025); first form: "Exploring Exchangeable Dataset Amortization for Bayesian
Posterior Inference", ICML 2023 SPIGM workshop.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "BayesModel": "models",
    "GaussianMean": "models",
    "GaussianMixture": "models",
    "LinearRegression": "models",
    "LinearClassification": "models",
    "NonlinearRegression": "models",
    "NonlinearClassification": "models",
    "BayesTask": "tasks",
    "BayesGaussianMean": "tasks",
    "BayesGaussianMixture": "tasks",
    "BayesLinearRegression": "tasks",
    "BayesLinearClassification": "tasks",
    "BayesNonlinearRegression": "tasks",
    "BayesNonlinearClassification": "tasks",
    "GPDatasets": "tasks",
    "DeepSetsEncoder": "encoders",
    "TransformerEncoder": "encoders",
    "GRUEncoder": "encoders",
    "GaussianHead": "heads",
    "FlowHead": "heads",
    "AmortizedGuide": "guide",
    "AmortizedPosterior": "estimator",
    "forward_kl": "objectives",
    "reverse_kl": "objectives",
    "mixed": "objectives",
    "warmup_weight": "objectives",
    "NUTSPosterior": "baselines",
    "LangevinPosterior": "baselines",
    "MeanFieldVI": "baselines",
    "MAPEstimate": "baselines",
    "AmortizedInference": "procedure",
    "predictive_l2": "metrics",
    "predictive_accuracy": "metrics",
    "predictive_log_likelihood": "metrics",
    "closest_mean_l2": "metrics",
    "symmetric_kl": "metrics",
    "wasserstein2": "metrics",
    "evaluate": "metrics",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
