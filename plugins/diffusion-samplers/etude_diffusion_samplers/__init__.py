"""Off-policy diffusion samplers (Sendera et al., NeurIPS 2024) for etude.

Library layout (the iDEM and RTB plugins build on it):

* :mod:`.targets`: GMM, Funnel, ManyWell, Gaussian (Pyro distributions, exact log Z);
* :mod:`.path`: time grids, Euler-Maruyama and Brownian-bridge kernels, the policy network, batched trajectories;
* :mod:`.objectives`: TB, VarGrad, SubTB, DB, backward MLE, PIS;
* :mod:`.exploration`, :mod:`.local_search`: exploration schedule, MALA, replay buffer;
* :mod:`.estimators`, :mod:`.metrics`: log Z estimators, W2 / MMD / mode metrics;
* :mod:`.sampler`: :class:`DiffusionSampler` and the paper's method rows; :mod:`.baselines`: NUTS.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "NUTSSampler": "baselines",
    "ExplorationSchedule": "exploration",
    "ReplayBuffer": "local_search",
    "mala": "local_search",
    "DiffusionPath": "path",
    "DiffusionPolicy": "path",
    "Trajectory": "path",
    "DiffusionSampler": "sampler",
    "DiffusionSamplerConfig": "sampler",
    "FLSubTB": "sampler",
    "FLSubTBLangevin": "sampler",
    "PIS": "sampler",
    "PISLangevin": "sampler",
    "TBExploration": "sampler",
    "TBExplorationLangevin": "sampler",
    "TBExplorationLangevinLocalSearch": "sampler",
    "TBExplorationLocalSearch": "sampler",
    "TrajectoryBalance": "sampler",
    "VarGradExploration": "sampler",
    "VarGradExplorationLangevinLocalSearch": "sampler",
    "Funnel": "targets",
    "GMM": "targets",
    "Gaussian": "targets",
    "ManyWell": "targets",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
