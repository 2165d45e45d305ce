"""etude plugin for Geadah et al. (PLOS Comp. Biol. 2024): learned and adaptive f-I curves.

Public API: the gamma activation family (:func:`gamma`, :class:`GammaNeuron`),
the adaptation controller (:class:`AdaptiveGammaNeuron`), the recurrent
network that takes any neuron (:class:`ANRU`), the input perturbations
(:class:`SinusoidalGain`, :class:`StepGain`, :class:`AdditiveNoise`) and the
sequential digits task (:class:`SequentialDigits`).

Names load on first access, so importing the entry-point module
``etude_adaptive_neurons.plugin`` imports neither torch nor the implementation.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "gamma": "neurons",
    "GammaNeuron": "neurons",
    "AdaptiveGammaNeuron": "neurons",
    "AdaptiveGammaState": "neurons",
    "ANRU": "model",
    "build_neuron": "model",
    "AdditiveNoise": "perturbations",
    "SinusoidalGain": "perturbations",
    "StepGain": "perturbations",
    "SequentialDigits": "tasks",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
