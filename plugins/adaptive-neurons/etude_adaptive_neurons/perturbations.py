"""The paper's input perturbations as augmenters over sequences (B, T, ...)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from etude.config import configclass, field, in_range, non_negative
from etude.kinds import Augmenter
from etude.kinds.augmenter import AugmentedBatch, to_soft_targets

from .tasks import optional_positive_int

__all__ = ["AdditiveNoise", "SinusoidalGain", "StepGain"]


def _steps(inputs: Tensor, name: str) -> int:
    if inputs.dim() < 2:
        raise ValueError(f"{name}: inputs must be sequences (batch, time, ...), got shape {tuple(inputs.shape)}")
    return int(inputs.shape[1])


def _time_profile(values: Tensor, inputs: Tensor) -> Tensor:
    """(T,) factors reshaped to broadcast over (B, T, ...)."""
    return values.to(device=inputs.device, dtype=inputs.dtype).view(1, -1, *([1] * (inputs.dim() - 2)))


@configclass
class SinusoidalGainConfig:
    amplitude: float = field(default=0.5, validator=non_negative, doc="A in the gain 1 + A sin(2π f t / P + φ)")
    frequency: float = field(default=1.0, validator=non_negative, doc="f: cycles per period")
    phase: float = field(default=0.0, doc="φ in radians")
    period: int | None = field(default=None, validator=optional_positive_int, doc="P in steps; None uses the sequence length T (the paper: P = T = 784)")


class SinusoidalGain(Augmenter):
    """Sinusoidal change of input gain: every nonzero input at step ``t`` is scaled by ``1 + A sin(2π f t / P + φ)``.

    The paper's test-time perturbation of input statistics (amplitude 0.5,
    frequency 1, phase 0, period the sequence length) multiplies the nonzero
    pixels of a sequential image; zero inputs (the background) stay zero.
    ``amplitude=0`` is the identity. Time is dimension 1 of ``inputs``
    (B, T, ...). Targets pass through as one-hot soft labels.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, "Neural networks with
        optimized single-neuron adaptation uncover biologically plausible
        regularization", PLOS Computational Biology 2024 (bioRxiv
        10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> batch = SinusoidalGain(amplitude=0.5)(torch.ones(1, 4, 1), torch.tensor([0]), num_classes=2)
        >>> batch.inputs.flatten()
        tensor([1.0000, 1.5000, 1.0000, 0.5000])
    """

    Config = SinusoidalGainConfig

    def factors(self, steps: int) -> Tensor:
        """The (T,) gain profile ``1 + A sin(2π f t / P + φ)`` for t = 0..T-1 (float64)."""
        c = self.config
        period = c.period if c.period is not None else steps
        if period < 1:
            raise ValueError(f"SinusoidalGain: period must be >= 1 step, got {period}")
        t = torch.arange(steps, dtype=torch.float64)
        return 1.0 + c.amplitude * torch.sin(2.0 * math.pi * c.frequency * t / period + c.phase)

    def augment(self, inputs: Tensor, targets: Tensor, *, num_classes: int, generator: Any = None) -> AugmentedBatch:
        factor = _time_profile(self.factors(_steps(inputs, "SinusoidalGain")), inputs)
        out = torch.where(inputs != 0, inputs * factor, inputs)
        return AugmentedBatch(out, to_soft_targets(targets, num_classes, inputs.dtype if inputs.is_floating_point() else torch.float32))


@configclass
class StepGainConfig:
    step_size: float = field(default=1.0, validator=in_range(-1.0, 1e6), doc="inputs inside the window are scaled by 1 + step_size")
    start: float = field(default=0.5, validator=in_range(0.0, 1.0), doc="window start as a fraction of the sequence length")
    length: float = field(default=0.5, validator=in_range(0.0, 1.0), doc="window length as a fraction of the sequence length")


class StepGain(Augmenter):
    """Step change of input gain: nonzero inputs inside a time window are scaled by ``1 + step_size``.

    The paper's step perturbation (reference ``StepTransform``): a sudden
    change of input amplitude for ``length · T`` steps starting at
    ``start · T``, used to probe gain scaling. Time is dimension 1.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, PLOS Computational
        Biology 2024 (bioRxiv 10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> batch = StepGain(step_size=1.0, start=0.5, length=0.5)(torch.ones(1, 4, 1), torch.tensor([0]), num_classes=2)
        >>> batch.inputs.flatten()
        tensor([1., 1., 2., 2.])
    """

    Config = StepGainConfig

    def factors(self, steps: int) -> Tensor:
        c = self.config
        t = torch.arange(steps, dtype=torch.float64)
        begin = round(c.start * steps)
        inside = (t >= begin) & (t < begin + round(c.length * steps))
        return torch.where(inside, 1.0 + c.step_size, 1.0)

    def augment(self, inputs: Tensor, targets: Tensor, *, num_classes: int, generator: Any = None) -> AugmentedBatch:
        factor = _time_profile(self.factors(_steps(inputs, "StepGain")), inputs)
        out = torch.where(inputs != 0, inputs * factor, inputs)
        return AugmentedBatch(out, to_soft_targets(targets, num_classes, inputs.dtype if inputs.is_floating_point() else torch.float32))


@configclass
class AdditiveNoiseConfig:
    std: float = field(default=0.1, validator=non_negative, doc="standard deviation of the i.i.d. Gaussian noise")


class AdditiveNoise(Augmenter):
    """Additive Gaussian input noise ``x + σ ε``, ``ε ~ N(0, 1)`` i.i.d. over batch, time and features.

    The paper's "noise" robustness test. Randomness comes only from the
    ``generator`` argument; ``std=0`` is the identity.

    References:
        V. Geadah, S. Horoi, G. Kerg, G. Wolf, G. Lajoie, PLOS Computational
        Biology 2024 (bioRxiv 10.1101/2022.04.29.489963; no arXiv id).

    Examples:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> AdditiveNoise(std=0.1)(torch.zeros(2, 3, 1), torch.tensor([0, 1]), num_classes=2, generator=g).inputs.shape
        torch.Size([2, 3, 1])
    """

    Config = AdditiveNoiseConfig

    def augment(self, inputs: Tensor, targets: Tensor, *, num_classes: int, generator: Any = None) -> AugmentedBatch:
        if not inputs.is_floating_point():
            raise TypeError(f"AdditiveNoise: inputs must be floating point, got {inputs.dtype}")
        noise = torch.randn(inputs.shape, generator=generator, dtype=inputs.dtype,
                            device=generator.device if generator is not None else inputs.device)
        out = inputs + self.config.std * noise.to(inputs.device)
        return AugmentedBatch(out, to_soft_targets(targets, num_classes, inputs.dtype))
