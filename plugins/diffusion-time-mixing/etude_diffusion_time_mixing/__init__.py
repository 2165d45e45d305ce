"""etude plugin for Mittal, Lajoie, Bauer, Mehrjou, "From Points to Functions: Infinite-dimensional
Representations in Diffusion Models" (preprint 2022, arXiv:2210.13774, unverified).

Library: the VE SDE (:class:`VESDE`), the DRL objective (:func:`dsm_loss`,
:func:`gaussian_kl`, :func:`latent_penalty`), the DRL encoder and score
network (:class:`DRLEncoder`, :class:`ScoreNetwork`) inside the estimator
:class:`DRL` (``estimator/drl``), frozen trajectories for the core loop
(:func:`trajectory_task`, :class:`TrajectoryTask`), the read-outs
:class:`TimeMLP`, :class:`TimeRNN`, :class:`TimeAttention`
(``model/time-mlp``, ``model/time-rnn``, ``model/time-attention``), the task
:class:`TwoAttributeDigits` (``task/two-attribute-digits``) and the analysis
measures :func:`js_divergence`, :func:`normalized_mutual_information`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "VESDE": "sde",
    "REDUCTIONS": "objective",
    "WEIGHTINGS": "objective",
    "dsm_loss": "objective",
    "gaussian_kl": "objective",
    "latent_penalty": "objective",
    "DRL": "drl",
    "DRLConfig": "drl",
    "DRLEncoder": "drl",
    "ScoreNetwork": "drl",
    "time_grid": "drl",
    "TrajectoryTask": "trajectory",
    "trajectory_task": "trajectory",
    "TimeAttention": "readouts",
    "TimeAttentionConfig": "readouts",
    "TimeMLP": "readouts",
    "TimeMLPConfig": "readouts",
    "TimeRNN": "readouts",
    "TimeRNNConfig": "readouts",
    "sinusoidal_encoding": "readouts",
    "LABELS": "tasks",
    "TwoAttributeDigits": "tasks",
    "TwoAttributeDigitsConfig": "tasks",
    "checkerboard": "tasks",
    "js_divergence": "analysis",
    "normalized_mutual_information": "analysis",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
