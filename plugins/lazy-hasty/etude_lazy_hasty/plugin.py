"""Entry-point module of etude-lazy-hasty: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Thomas George, Guillaume Lajoie, Aristide Baratin",
    "title": "Lazy vs hasty: linearization in deep networks impacts learning schedule based on example difficulty",
    "venue": "TMLR",
    "year": 2022,
    "arxiv": "2209.09658",
}

_SCALES = ("smoke", "quick", "full")
_SEEDS = {"smoke": 1, "quick": 3, "full": 20}


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "The linearisation knob alpha (f - f0) from the feature-learning to the kernel regime, the analytical "
                "diagonal-network model and its closed forms, difficulty scores and per-group learning curves at "
                "matched overall progress.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "model", "alpha-scaled", "etude_lazy_hasty.alpha_scaled:AlphaScaled",
        summary="Lazy-training wrapper alpha (f(w) - f(w0)) + offset of any registered model, trained on L / alpha^2 "
                "(George et al. 2022; Chizat & Bach 2019).",
        example={"model": "mlp", "model_options": {"hidden": [16]}, "in_features": 4, "out_features": 3,
                 "alpha": 100.0},
    )
    registry.add(
        "model", "diagonal-net", "etude_lazy_hasty.diagonal:DiagonalNet",
        summary="Two-layer diagonal linear network sum_k u_k v_k x_k, u = v = sigma at init (the analytical model).",
        example={"in_features": 5},
    )
    registry.add(
        "task", "diagonal-net", "etude_lazy_hasty.diagonal:DiagonalNetTask",
        summary="x = diag(sqrt(mu)), y_k = mu_rev,k / sqrt(mu_k): label alignment reversed against the eigenvalues.",
        example={},
    )
    registry.add(
        "task", "coloured-digits", "etude_lazy_hasty.tasks:ColouredDigits",
        summary="Coloured-MNIST analogue on the 8x8 digits: colour = label for 90% of train, reversed at test.",
        example={},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "lazy-hasty/order-flip-diagonal",
        run="etude_lazy_hasty.claims:order_flip_diagonal_run",
        judge="etude_lazy_hasty.claims:order_flip_diagonal_judge",
        statement="(paraphrased) In the analytical model, non-linear (rich) dynamics learn examples in the order of "
                  "their label alignment, linear (lazy) dynamics in the order of their input eigenvalue.",
        source="Section 3 (analytical model, example 1); brief's pilot re-measured in issue 28",
        paper={"pilot_t_half_rich": [621, 530, 465, 417, 379], "pilot_t_half_lazy": [193, 217, 247, 289, 346],
               "pilot_spearman_rich": 1.0, "pilot_spearman_lazy": -1.0},
        scales=_SCALES, seeds={"smoke": 1, "quick": 1, "full": 1},
    )
    registry.add_claim(
        "lazy-hasty/easy-first-when-rich",
        run="etude_lazy_hasty.claims:easy_first_when_rich_run",
        judge="etude_lazy_hasty.claims:easy_first_when_rich_judge",
        statement="\"In the feature learning regime ... easier examples are given more weight and learned faster\" "
                  "(abstract): at matched overall accuracy the hardest examples are less learned when rich than lazy.",
        source="Abstract; Sections 4-5 (c-score bins on CIFAR-10, 2-D toy)",
        paper={"pilot_hard_quintile_at_0.7_rich": [0.57, 0.54, 0.51], "pilot_hard_quintile_at_0.7_lazy": [0.67, 0.52, 0.65]},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "lazy-hasty/label-noise-learned-last-when-rich",
        run="etude_lazy_hasty.claims:label_noise_learned_last_when_rich_run",
        judge="etude_lazy_hasty.claims:label_noise_learned_last_when_rich_judge",
        statement="(paraphrased from the abstract) Label noise is a difficulty: at matched overall accuracy the rich "
                  "regime has fitted fewer mislabelled examples than the lazy regime.",
        source="Abstract; Section 5 (label noise)",
        paper={"pilot_noisy_fitted_at_0.8_rich": [0.041, 0.052, 0.052],
               "pilot_noisy_fitted_at_0.8_lazy": [0.056, 0.048, 0.052]},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "lazy-hasty/spurious-correlation",
        run="etude_lazy_hasty.claims:spurious_correlation_run",
        judge="etude_lazy_hasty.claims:spurious_correlation_judge",
        statement="(paraphrased from the abstract) Easy-to-learn spurious features are picked up first in the "
                  "feature-learning regime: at matched overall accuracy the bias-conflicting examples are less "
                  "learned when rich than lazy.",
        source="Abstract; Section 5 (coloured MNIST, CelebA, Waterbirds with varying alpha)",
        paper={"note": "no single number; curves per group against overall accuracy for several alpha"},
        scales=("full",), seeds={"full": 20},
    )
