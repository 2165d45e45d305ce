"""etude plugin for Geadah et al. (PLOS Comp. Biol. 2024): learned and adaptive f-I curves.

Public API: the gamma activation family (:func:`gamma`, :class:`GammaNeuron`),
the adaptation controller (:class:`AdaptiveGammaNeuron`), the recurrent
network that takes any neuron (:class:`ANRU`), the input perturbations
(:class:`SinusoidalGain`, :class:`StepGain`, :class:`AdditiveNoise`) and the
sequential digits task (:class:`SequentialDigits`).

Names load on first access, so importing the entry-point module
``etude_adaptive_neurons.plugin`` imports neither torch nor the implementation.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "ANRU": "model",
    "build_neuron": "model",
    "AdaptiveGammaNeuron": "neurons",
    "AdaptiveGammaState": "neurons",
    "GammaNeuron": "neurons",
    "gamma": "neurons",
    "AdditiveNoise": "perturbations",
    "SinusoidalGain": "perturbations",
    "StepGain": "perturbations",
    "SequentialDigits": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
