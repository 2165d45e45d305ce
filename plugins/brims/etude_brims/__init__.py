"""etude plugin for BRIMs: stacked RIM layers with bottom-up and top-down attention over modules.

S. Mittal, A. Lamb, A. Goyal, V. Voleti, M. Shanahan, G. Lajoie, M. Mozer, Y. Bengio,
"Learning to Combine Top-Down and Bottom-Up Signals in Recurrent Neural Networks with
Attention over Modules", ICML 2020, arXiv:2006.16981. Each layer is an unmodified
:class:`etude_meta_rims.cell.RIMCell`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "BRIMs": "model",
    "BRIMsConfig": "model",
    "WIRINGS": "model",
    "BouncingBalls": "tasks",
    "BouncingBallsConfig": "tasks",
    "NoisySequences": "tasks",
    "NoisySequencesConfig": "tasks",
    "LanguageModel": "sequence_models",
    "VideoPredictor": "sequence_models",
    "rollout_bce": "sequence_models",
    "layer_usage": "usage",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
