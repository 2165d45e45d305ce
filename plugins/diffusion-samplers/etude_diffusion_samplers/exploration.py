"""Exploration schedule: extra sampling noise, decayed linearly to 0."""

from __future__ import annotations

import attrs


@attrs.frozen
class ExplorationSchedule:
    """``std(it) = factor * max(0, 1 - it / decay_steps)`` (constant ``factor`` when ``decay_steps == 0``).

    The value is the extra per-step noise standard deviation: training
    trajectories are sampled with variance ``sigma^2 dt e^h + std^2`` (the
    paper-era formula), while the loss uses the policy's own ``log p_F``.
    """

    factor: float = 0.0
    decay_steps: int = 0

    def __attrs_post_init__(self) -> None:
        if self.factor < 0:
            raise ValueError(f"exploration factor must be >= 0, got {self.factor}")
        if self.decay_steps < 0:
            raise ValueError(f"decay_steps must be >= 0, got {self.decay_steps}")

    def __call__(self, iteration: int) -> float:
        if self.factor == 0:
            return 0.0
        if self.decay_steps == 0:
            return self.factor
        return self.factor * max(0.0, 1.0 - iteration / self.decay_steps)
