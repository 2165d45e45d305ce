"""Entry-point module of etude-feature-alignment: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Aristide Baratin, Thomas George, César Laurent, R Devon Hjelm, Guillaume Lajoie, Pascal Vincent, "
               "Simon Lacoste-Julien",
    "title": "Implicit Regularization via Neural Feature Alignment",
    "venue": "AISTATS",
    "year": 2021,
    "arxiv": "2008.00938",
}

_SEEDS = {"smoke": 1, "quick": 3, "full": 5}
_SCALES = ("smoke", "quick", "full")


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "The empirical tangent kernel of any torch model (torch.func), its centred alignment with the "
                "labels (full, trace, layer-wise), and the path complexity of tangent-kernel classes.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "similarity", "kernel-target-alignment", "etude_feature_alignment.alignment:KernelTargetAlignment",
        summary="Centred alignment of tangent features (n, C*P) with targets (n, C), via linear CKA "
                "(Baratin et al. 2021).",
        example={"mode": "full"},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "feature-alignment/alignment-increases",
        run="etude_feature_alignment.claims:alignment_increases_run",
        judge="etude_feature_alignment.claims:alignment_increases_judge",
        statement=(
            "\"We highlight a regularization effect induced by a dynamical alignment of the neural tangent "
            "features ... along a small number of task-relevant directions\": the centred tangent-kernel / label "
            "alignment increases during training."
        ),
        source="Abstract; Sections 3-4 (alignment curves over iterations)",
        paper={"pilot_alignment_init": 0.053, "pilot_alignment_end": 0.089, "pilot_ratio": [1.6, 1.9]},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "feature-alignment/random-labels-align-less",
        run="etude_feature_alignment.claims:random_labels_align_less_run",
        judge="etude_feature_alignment.claims:random_labels_align_less_judge",
        statement="(paraphrased) With random labels the tangent features align much less with the labels "
                  "than with the true labels.",
        source="Section 4, random-label experiments",
        paper={"pilot_ratio_true_over_random": [3.4, 4.2]},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "feature-alignment/layerwise-profile",
        run="etude_feature_alignment.claims:layerwise_profile_run",
        judge="etude_feature_alignment.claims:layerwise_profile_judge",
        statement="(paraphrased, recollection) Layer-wise alignment rises then falls with depth, with its maximum "
                  "at a hidden layer.",
        source="Section 4, layer-wise alignment (VGG-19 on CIFAR-10)",
        paper={"pilot_layers_true": [[0.171, 0.150, 0.136, 0.130, 0.068], [0.188, 0.194, 0.173, 0.140, 0.070]]},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "feature-alignment/complexity-tracks-gap",
        run="etude_feature_alignment.claims:complexity_tracks_gap_run",
        judge="etude_feature_alignment.claims:complexity_tracks_gap_judge",
        statement=(
            "\"We motivate and study a heuristic complexity measure that captures this phenomenon, in terms of "
            "sequences of tangent kernel classes along optimization paths\": it grows with the random-label "
            "fraction as the generalisation gap does."
        ),
        source="Abstract; Section 5 (complexity vs generalisation gap)",
        paper={"pilot_gap": [0.02, 0.40, 0.90], "pilot_path_complexity": [58, 265, 303],
               "pilot_frozen_complexity": [7.2, 25.2, 28.0], "pilot_norm_dw": [9.2, 32.1, 35.6]},
        scales=_SCALES, seeds=_SEEDS,
    )
