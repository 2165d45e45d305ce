"""etude plugin for Recurrent Independent Mechanisms and their fast-and-slow training (Meta-RIMs).

A. Goyal, A. Lamb, J. Hoffmann, S. Sodhani, S. Levine, Y. Bengio, B. Schölkopf,
"Recurrent Independent Mechanisms", ICLR 2021, arXiv:1909.10893; K. Madan, N. R. Ke,
A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent Independent
Mechanisms", ICLR 2021, arXiv:2105.08710.

Stable public API (``etude-brims`` builds on it; changes are additive only):
:mod:`etude_meta_rims.cell` (:class:`RIMCell`, :class:`RIMCellConfig`,
:class:`RIMState`, ``info["active"]`` / ``info["null_attention"]``),
:mod:`etude_meta_rims.models` (:class:`RIMs`, :class:`LSTMBaseline`,
:func:`match_parameters`) and :mod:`etude_meta_rims.tasks`
(:class:`SequentialImage`). MiniGrid / BabyAI environments
(:mod:`etude_meta_rims.minigrid`, optional ``[minigrid]`` extra) and the
recurrent PPO with the fast / slow update (:mod:`etude_meta_rims.ppo`).
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "RIMCell": "cell",
    "RIMCellConfig": "cell",
    "RIMState": "cell",
    "select_active": "cell",
    "LSTMBaseline": "models",
    "LSTMBaselineConfig": "models",
    "RIMs": "models",
    "RIMsConfig": "models",
    "lstm_parameter_count": "models",
    "match_parameters": "models",
    "BABYAI_LEVELS": "minigrid",
    "BabyAI": "minigrid",
    "MINIGRID_LEVELS": "minigrid",
    "MISSION_VOCABULARY": "minigrid",
    "MiniGrid": "minigrid",
    "VectorGrid": "minigrid",
    "tokenize_mission": "minigrid",
    "ActorCritic": "ppo",
    "PPO": "ppo",
    "PPOConfig": "ppo",
    "gae": "ppo",
    "ppo_loss": "ppo",
    "ppo_transfer": "ppo",
    "MetaRIMs": "procedure",
    "MetaRIMsConfig": "procedure",
    "clip_gradients": "procedure",
    "mask_inactive_modules": "procedure",
    "module_usage": "procedure",
    "SequentialImage": "tasks",
    "SequentialImageConfig": "tasks",
    "SparseChange": "tasks",
    "SparseChangeConfig": "tasks",
    "TwoSource": "tasks",
    "TwoSourceConfig": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
