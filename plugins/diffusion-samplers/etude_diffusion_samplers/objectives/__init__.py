"""Training objectives: TB, VarGrad, SubTB, DB, backward MLE (balance.py) and PIS (pis.py)."""

from .balance import (
    backward_mle,
    detailed_balance,
    log_ratio,
    subtb_weights,
    subtrajectory_balance,
    trajectory_balance,
    vargrad,
)
from .pis import pis_loss

__all__ = [
    "backward_mle",
    "detailed_balance",
    "log_ratio",
    "pis_loss",
    "subtb_weights",
    "subtrajectory_balance",
    "trajectory_balance",
    "vargrad",
]
