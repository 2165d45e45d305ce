"""etude plugin for Rahaman et al., "On the Spectral Bias of Neural Networks" (ICML 2019, arXiv:1806.08734).

Tasks (registered): :class:`SumOfSinusoids` (``task/sum-of-sinusoids``) and
:class:`FlowerManifold` (``task/flower-manifold``). Diagnostics for any
low-dimensional regression run: :class:`SpectrumTracker` (a callback of the
core's supervised loop: the frequency x iteration heat-map and the learning
time of each frequency), :class:`SpectralNormTracker`, :func:`learning_order`
(Spearman with infinite times tied), :func:`perturbation_spectrum` (coherent
retention per frequency under parameter noise, all draws in one vmapped call)
and :func:`fourier_envelope` (the detrended spectrum of a 1-D network and its
decay slope).
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "PerturbationSpectrum": "perturbation",
    "perturbation_spectrum": "perturbation",
    "sample_perturbations": "perturbation",
    "FourierEnvelope": "fourier",
    "amplitudes": "fourier",
    "envelope_from_values": "fourier",
    "envelope_level": "fourier",
    "envelope_slope": "fourier",
    "fourier_envelope": "fourier",
    "grid_values": "fourier",
    "octave_maxima": "fourier",
    "spectrum": "fourier",
    "FlowerManifold": "tasks",
    "FlowerManifoldConfig": "tasks",
    "SumOfSinusoids": "tasks",
    "SumOfSinusoidsConfig": "tasks",
    "flower_curve": "tasks",
    "sum_of_sinusoids": "tasks",
    "SpectralNormTracker": "tracking",
    "SpectrumTracker": "tracking",
    "learning_order": "tracking",
    "learning_times": "tracking",
    "plot_heatmap": "tracking",
    "power_iteration": "tracking",
    "rankdata": "tracking",
    "spearman": "tracking",
    "fit": "training",
    "mlp_hidden": "training",
    "supervised_procedure": "training",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
