"""Targets: unnormalised densities (Pyro distributions) with exact log Z and samples."""

from ._base import check_points, log_prob_and_grad
from .funnel import Funnel, FunnelConfig
from .gaussian import Gaussian, GaussianConfig
from .gmm import GMM, GMMConfig
from .manywell import ManyWell, ManyWellConfig, double_well_x1_log_normaliser

__all__ = [
    "GMM",
    "Funnel",
    "FunnelConfig",
    "GMMConfig",
    "Gaussian",
    "GaussianConfig",
    "ManyWell",
    "ManyWellConfig",
    "check_points",
    "double_well_x1_log_normaliser",
    "log_prob_and_grad",
]
