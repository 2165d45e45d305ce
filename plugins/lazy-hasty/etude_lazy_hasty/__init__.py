"""etude plugin for George, Lajoie & Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
schedule based on example difficulty" (TMLR 2022, arXiv:2209.09658).

Registered: ``model/alpha-scaled`` (:class:`AlphaScaled`, the linearisation
knob ``f~ = alpha (f - f0) + offset``, trained on ``L / alpha^2``),
``model/diagonal-net`` and ``task/diagonal-net`` (the analytical model).
Library: the closed forms (:mod:`etude_lazy_hasty.analytical`), difficulty
scores (:func:`holdout_consistency`, :func:`quantile_groups`,
:class:`Annotated`), callbacks of the core loop (:class:`GroupTracker`,
:class:`SignSimilarity`) and :func:`matched_progress`.
"""

from etude.lazy import lazy_exports

_EXPORTS = {
    "AlphaScaled": "alpha_scaled",
    "AlphaScaledConfig": "alpha_scaled",
    "DiagonalNet": "diagonal",
    "DiagonalNetConfig": "diagonal",
    "DiagonalNetTask": "diagonal",
    "DiagonalNetTaskConfig": "diagonal",
    "diagonal_function": "analytical",
    "example1": "analytical",
    "example2": "analytical",
    "example3": "analytical",
    "half_loss_time": "analytical",
    "lazy_function": "analytical",
    "linear_dynamics": "analytical",
    "logistic_dynamics": "analytical",
    "mode_dynamics": "analytical",
    "Annotated": "difficulty",
    "holdout_consistency": "difficulty",
    "quantile_groups": "difficulty",
    "ColouredDigits": "tasks",
    "ColouredDigitsConfig": "tasks",
    "GroupTracker": "callbacks",
    "SignSimilarity": "callbacks",
    "matched_progress": "callbacks",
    "relu_patterns": "callbacks",
    "sign_similarity": "callbacks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
