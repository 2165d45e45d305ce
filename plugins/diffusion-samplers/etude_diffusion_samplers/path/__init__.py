"""The diffusion path shared by the samplers: time grids, kernels, policy, batched trajectories."""

from .kernels import (
    backward_log_density,
    bridge_log_prob,
    bridge_params,
    gaussian_log_prob,
    sample_bridge_path,
)
from .policy import DiffusionPolicy, FourierTimeEmbedding
from .time_grid import check_grid, random_grid, uniform_grid
from .trajectory import DiffusionPath, Trajectory

__all__ = [
    "DiffusionPath",
    "DiffusionPolicy",
    "FourierTimeEmbedding",
    "Trajectory",
    "backward_log_density",
    "bridge_log_prob",
    "bridge_params",
    "check_grid",
    "gaussian_log_prob",
    "random_grid",
    "sample_bridge_path",
    "uniform_grid",
]
