"""A task of frozen representation trajectories, for the core's supervised loop.

``trajectory_task(estimator, task, K)`` encodes every split of ``task`` at
``t_k = k / K`` (k = 0..K, both ends) with the estimator's *mean* encoder,
once and without gradients, and keeps the base task's targets and ``info``.
The read-outs then train on these tensors: the encoder is frozen by
construction (the inputs are plain tensors that carry no graph).

References:
    S. Mittal, G. Lajoie, S. Bauer, A. Mehrjou, "From Points to Functions", preprint 2022,
    arXiv:2210.13774 (unverified), Section 3 (representation trajectories).
"""

from __future__ import annotations

from typing import Any

import torch

from etude.kinds import Split, Task

__all__ = ["TrajectoryTask", "trajectory_task"]


class TrajectoryTask(Task):
    """Splits ``(N, K + 1, latent)`` of encoder means at ``times``, with ``task``'s targets (not registered: it wraps objects).

    Examples:
        >>> import torch
        >>> from etude_diffusion_time_mixing.drl import DRL
        >>> from etude_diffusion_time_mixing.tasks import TwoAttributeDigits
        >>> drl = DRL(in_features=64, latent_dim=4, width=16, steps=2)
        >>> traj = trajectory_task(drl, TwoAttributeDigits(seed=0), 5)
        >>> traj.split("train").inputs.shape, traj.num_classes, traj.input_shape
        (torch.Size([1347, 6, 4]), 20, (6, 4))
    """

    Config = None

    def __init__(self, estimator: Any, task: Task, times: torch.Tensor) -> None:
        super().__init__()
        if not hasattr(estimator, "estimate"):
            raise TypeError(f"estimator must have estimate(x, times) (a DRL), got {type(estimator).__name__}")
        if not isinstance(task, Task):
            raise TypeError(f"task must be an etude Task, got {type(task).__name__}")
        self.estimator, self.base, self.times = estimator, task, torch.as_tensor(times, dtype=torch.float32)
        self.split_names = tuple(task.split_names)
        self.num_classes = getattr(task, "num_classes", None)
        latent = int(estimator.config.latent_dim)
        self.input_shape = (int(self.times.numel()), latent)

    def make_splits(self) -> dict[str, Split]:
        out = {}
        for name, split in self.base.splits().items():
            z = self.estimator.estimate(split.inputs, self.times).detach().to("cpu", torch.float32).contiguous()
            out[name] = Split(z, split.targets, dict(split.info))
        return out


def trajectory_task(estimator: Any, task: Task, num_steps: int) -> TrajectoryTask:
    """``TrajectoryTask`` at the grid ``t_k = k / K``, K = ``num_steps`` (K + 1 times)."""
    from .drl import time_grid  # noqa: PLC0415

    return TrajectoryTask(estimator, task, time_grid(num_steps))
