"""etude-corelnet: CoRelNet (Kerg et al., arXiv:2206.05056, 2022), its baselines and the ESBN relational tasks."""

from etude.lazy import lazy_exports

_EXPORTS = {
    "CoRelNet": "model",
    "CoRelNetConfig": "model",
    "PRESETS": "model",
    "ContextNorm": "contextnorm",
    "context_normalise": "contextnorm",
    "ObjectEncoder": "encoders",
    "ESBN": "esbn",
    "RelationalMLP": "baselines",
    "RelationalTransformer": "baselines",
    "RelationalLSTM": "baselines",
    "VARIANTS": "variants",
    "RMTS": "tasks",
    "DistributionOf3": "tasks",
    "IdentityRules": "tasks",
    "SameDifferent": "tasks",
    "RelationalTask": "tasks",
    "glyph_bank": "tasks",
    "gaussian_bank": "tasks",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
