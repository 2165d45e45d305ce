"""Local search: parallel MALA with an adaptive step, and the prioritised replay buffer."""

from .buffer import ReplayBuffer
from .mala import MALAResult, mala

__all__ = ["MALAResult", "ReplayBuffer", "mala"]
