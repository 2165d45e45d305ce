"""etude plugin: Systematic Evaluation of Causal Discovery in Visual Model Based Reinforcement Learning.

N. R. Ke, A. Didolkar, S. Mittal, A. Goyal, G. Lajoie, S. Bauer, D. Rezende,
Y. Bengio, M. Mozer, C. Pal. NeurIPS 2021 Datasets and Benchmarks track.
arXiv:2107.00848.

- environments: :class:`ColorChanging` (chemistry; its hidden dynamics an
  ``etude_scm`` SCM) and :class:`WeightedBlockPushing` (physics), also as
  ``gymnasium.make("etude/chemistry-v0")`` / ``"etude/physics-v0"``;
- batched transition datasets :class:`ChemistryTransitions`,
  :class:`PhysicsTransitions` and headless rendering (:func:`render`);
- world models :class:`AEWorldModel`, :class:`VAEWorldModel`,
  :class:`ModularWorldModel`, :class:`GNNWorldModel`, trained by
  :class:`WorldModelTraining` (contrastive or NLL) and scored by
  :func:`ranking_metrics` (H@1, MRR) and greedy planning.

This list is the stable public API; names not in ``__all__`` are internal.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "ColorChanging": "chemistry",
    "ColorChangingConfig": "chemistry",
    "WeightedBlockPushing": "physics",
    "WeightedBlockPushingConfig": "physics",
    "push": "physics",
    "ChemistryTransitions": "tasks",
    "ChemistryTransitionsConfig": "tasks",
    "PhysicsTransitions": "tasks",
    "PhysicsTransitionsConfig": "tasks",
    "emit_chemistry": "tasks",
    "emit_physics": "tasks",
    "SHAPES": "rendering",
    "decode_colours": "rendering",
    "palette": "rendering",
    "render": "rendering",
    "shape_masks": "rendering",
    "AEWorldModel": "models",
    "GNNWorldModel": "models",
    "GroupedTransition": "models",
    "MLPTransition": "models",
    "ModularWorldModel": "models",
    "PixelDecoder": "models",
    "RewardPredictor": "models",
    "TransitionGNN": "models",
    "VAEWorldModel": "models",
    "WorldModel": "models",
    "WorldModelConfig": "models",
    "WorldModelTraining": "training",
    "WorldModelTrainingConfig": "training",
    "contrastive_loss": "training",
    "energy": "training",
    "ranking_metrics": "metrics",
    "ranks": "metrics",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
