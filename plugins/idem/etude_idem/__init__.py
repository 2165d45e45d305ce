"""etude plugin for Akhound-Sadegh et al., "Iterated Denoising Energy Matching for Sampling from Boltzmann Densities" (ICML 2024).

Samplers (registered): :class:`IDEM`, :class:`PDEM` (configurations of
:class:`DEMSampler`) and :class:`MCScoreSampler`. Targets: :class:`MultiDoubleWell`
(DW-4) and :class:`LennardJones` (LJ-13, LJ-55). Model: :class:`EGNNScore`.
Library pieces: :class:`NoiseSchedule` (VE schedules), :func:`dem_score`
(the Monte Carlo score S_K, fused), :func:`dem_score_vmap` (the vmap reference),
:func:`clip_score`, :func:`reverse_sde`, particle helpers and metrics.
Targets, buffer, MALA, NUTS, W2 and mode metrics come from
``etude_diffusion_samplers``.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "EGNNScore": "egnn",
    "EGNNScoreConfig": "egnn",
    "distance_w2": "metrics",
    "energy_w2": "metrics",
    "evaluate_samples": "metrics",
    "w2_1d": "metrics",
    "VectorScore": "networks",
    "mean_free_normal_log_prob": "particles",
    "mean_free_randn": "particles",
    "pairwise_distances": "particles",
    "remove_mean": "particles",
    "DEMSampler": "sampler",
    "DEMSamplerConfig": "sampler",
    "IDEM": "sampler",
    "MCScoreSampler": "sampler",
    "NormalisedTarget": "sampler",
    "PDEM": "sampler",
    "PRESETS": "sampler",
    "dem_loss": "sampler",
    "NoiseSchedule": "schedules",
    "clip_score": "score",
    "dem_score": "score",
    "dem_score_vmap": "score",
    "prior_sample": "sde",
    "reverse_sde": "sde",
    "LennardJones": "targets",
    "MultiDoubleWell": "targets",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
