"""etude plugin: A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms.

Y. Bengio, T. Deleu, N. Rahaman, N. R. Ke, S. Lachapelle, O. Bilaniuk,
A. Goyal, C. Pal. ICLR 2020. arXiv:1901.10912.

Public API: the regret and its closed-form gradient (:func:`transfer_regret`,
:func:`regret_grad`, :func:`posterior`, per-batch variants), tabular
hypotheses batched over runs (:class:`TabularHypotheses`,
:func:`hypothesis_scms`), transfer episodes (:func:`meta_train`,
:func:`online_log_likelihood`), the estimator :class:`MetaTransferDirection`,
the procedure :class:`MetaTransfer`, the task :class:`BivariateTransferTask`, and the continuous
multimodal experiment (:class:`MixtureDensityNetwork`, :func:`continuous_meta_train`), and the
representation-learning experiment (:class:`RotationEncoder`, :func:`encoder_meta_train`).
Graphs, mechanisms and interventions come from etude-scm.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "per_batch_regret": "regret",
    "per_batch_regret_grad": "regret",
    "posterior": "regret",
    "transfer_regret": "regret",
    "regret_grad": "regret",
    "TabularHypotheses": "tabular",
    "check_categories": "tabular",
    "hypothesis_scms": "tabular",
    "joint_probs": "tabular",
    "META_OPTIMIZERS": "episodes",
    "MetaOptimizer": "episodes",
    "REGRETS": "episodes",
    "make_meta_optimizer": "episodes",
    "meta_train": "episodes",
    "online_log_likelihood": "episodes",
    "MetaTransferDirection": "estimator",
    "MetaTransferDirectionConfig": "estimator",
    "MetaTransfer": "procedure",
    "MetaTransferConfig": "procedure",
    "MixtureDensityNetwork": "continuous",
    "continuous_meta_train": "continuous",
    "fit_gaussian_mixture": "continuous",
    "gaussian_mixture_log_prob": "continuous",
    "RotationEncoder": "encoder",
    "RotationEncoderConfig": "encoder",
    "rotation_matrix": "encoder",
    "angle_to_solution": "encoder",
    "solution_index": "encoder",
    "mdn_log_prob": "representation",
    "online_log_likelihood_fn": "representation",
    "encoder_regret": "representation",
    "encoder_meta_train": "representation",
    "BivariateTransferTask": "tasks",
    "BivariateTransferTaskConfig": "tasks",
    "SplineTransferTask": "tasks",
    "SplineTransferTaskConfig": "tasks",
    "make_data_scm": "tasks",
    "sample_transfers": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
