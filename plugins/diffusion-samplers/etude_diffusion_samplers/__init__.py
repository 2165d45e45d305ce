"""Off-policy diffusion samplers (Sendera et al., NeurIPS 2024) for etude.

Library layout (the iDEM and RTB plugins build on it):

* :mod:`.targets`: GMM, Funnel, ManyWell, Gaussian (Pyro distributions, exact log Z);
* :mod:`.path`: time grids, Euler-Maruyama and Brownian-bridge kernels, the policy network, batched trajectories;
* :mod:`.objectives`: TB, VarGrad, SubTB, DB, backward MLE, PIS;
* :mod:`.exploration`, :mod:`.local_search`: exploration schedule, MALA, replay buffer;
* :mod:`.estimators`, :mod:`.metrics`: log Z estimators, W2 / MMD / mode metrics;
* :mod:`.sampler`: :class:`DiffusionSampler` and the paper's method rows; :mod:`.baselines`: NUTS.
"""

from .baselines import NUTSSampler
from .exploration import ExplorationSchedule
from .local_search import ReplayBuffer, mala
from .path import DiffusionPath, DiffusionPolicy, Trajectory
from .sampler import (
    PIS,
    DiffusionSampler,
    DiffusionSamplerConfig,
    FLSubTB,
    FLSubTBLangevin,
    PISLangevin,
    TBExploration,
    TBExplorationLangevin,
    TBExplorationLangevinLocalSearch,
    TBExplorationLocalSearch,
    TrajectoryBalance,
    VarGradExploration,
    VarGradExplorationLangevinLocalSearch,
)
from .targets import GMM, Funnel, Gaussian, ManyWell

__all__ = [
    "GMM",
    "PIS",
    "DiffusionPath",
    "DiffusionPolicy",
    "DiffusionSampler",
    "DiffusionSamplerConfig",
    "ExplorationSchedule",
    "FLSubTB",
    "FLSubTBLangevin",
    "Funnel",
    "Gaussian",
    "ManyWell",
    "NUTSSampler",
    "PISLangevin",
    "ReplayBuffer",
    "TBExploration",
    "TBExplorationLangevin",
    "TBExplorationLangevinLocalSearch",
    "TBExplorationLocalSearch",
    "Trajectory",
    "TrajectoryBalance",
    "VarGradExploration",
    "VarGradExplorationLangevinLocalSearch",
    "mala",
]
