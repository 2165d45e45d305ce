"""Relative trajectory balance (Venkatraman et al., NeurIPS 2024, arXiv:2405.20971) for etude.

* :mod:`.priors`: Brownian, Föllmer (closed form) and trained diffusion priors, ``fit_prior_mle``;
* :mod:`.sampler`: :class:`RelativeTrajectoryBalance` and the VarGrad / RL / KL-RL rows;
* :mod:`.guidance`: noisy, DPS and LGD-MC guidance;
* :mod:`.sir`: the SIR reference; :mod:`.rewards`: rewards, ``LikelihoodReward`` for Pyro likelihoods.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "BrownianPrior": "priors",
    "FollmerPrior": "priors",
    "PathPrior": "priors",
    "fit_prior_mle": "priors",
    "RelativeTrajectoryBalance": "sampler",
    "RTBVarGrad": "sampler",
    "RLFinetune": "sampler",
    "RLKLFinetune": "sampler",
    "Guidance": "guidance",
    "sir_reference": "sir",
    "LikelihoodReward": "rewards",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
