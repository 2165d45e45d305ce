"""Entry-point module of etude-cka: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "MohammadReza Davari, Stefan Horoi, Amine Natik, Guillaume Lajoie, Guy Wolf, Eugene Belilovsky",
    "title": "Reliability of CKA as a Similarity Measure in Deep Learning",
    "venue": "ICLR",
    "year": 2023,
    "arxiv": "2210.16156",
}


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "Linear, RBF and debiased CKA, CKA maps, and the paper's outlier, translation and map-manipulation experiments.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "similarity", "linear-cka", "etude_cka.linear:LinearCKA",
        summary="Linear CKA (Kornblith et al. 2019), feature- or Gram-space, whichever is cheaper.",
        example={"method": "auto"},
    )
    registry.add(
        "similarity", "rbf-cka", "etude_cka.rbf:RBFCKA",
        summary="RBF-kernel CKA with bandwidth = multiplier x median pairwise distance.",
        example={"multiplier": 0.8},
    )
    registry.add(
        "similarity", "debiased-cka", "etude_cka.debiased:DebiasedCKA",
        summary="Linear CKA on the unbiased HSIC estimator (Song et al. 2012); needs n >= 4.",
        example={"method": "auto"},
    )
    registry.add(
        "procedure", "cka-map-training", "etude_cka.map_training:CKAMapTraining",
        summary="Fine-tune a network so its layer x layer CKA map matches a target (Davari et al. 2023, Sec. 4.3).",
        example={"hidden_sizes": [16, 16], "pretrain_epochs": 1, "map_epochs": 1},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "cka/outlier-sensitivity",
        run="etude_cka.claims:outlier_sensitivity_run",
        judge="etude_cka.claims:outlier_sensitivity_judge",
        statement=(
            "\"CKA value can be significantly reduced by translating a single data point\"; the CKA value "
            "converges to the closed-form limit of Theorem 1 while a linear read-out's predictions are unchanged."
        ),
        source="Section 4.1, Theorem 1 and Corollary 1",
        paper={"linear_cka_far": 0.0, "readout_accuracy_change": 0.0},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "cka/rbf-robust-to-outlier",
        run="etude_cka.claims:rbf_robust_to_outlier_run",
        judge="etude_cka.claims:rbf_robust_to_outlier_judge",
        statement=(
            "RBF CKA with a median-distance bandwidth is far less affected by a single far outlier "
            "than linear CKA, which is dominated by the direction of the outlier's large variance."
        ),
        source="Section 4.1 (RBF kernel discussion, Appendix)",
        paper={"rbf_cka_min": 1.0},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "cka/map-manipulation",
        run="etude_cka.claims:map_manipulation_run",
        judge="etude_cka.claims:map_manipulation_judge",
        statement=(
            "\"CKA values can be manipulated without substantial changes in the functional behaviour of the "
            "models\": fine-tuning with a CKA-map loss drives the layer x layer map to a chosen target while "
            "accuracy stays within the scheduler's 1-point tolerance."
        ),
        source="Section 4.3, Figures 5-7",
        paper={"accuracy_change": 0.0, "offdiag_cka_after": 0.0},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "cka/linear-separability-transform",
        run="etude_cka.claims:linear_separability_transform_run",
        judge="etude_cka.claims:linear_separability_transform_judge",
        statement=(
            "Transformations that preserve the linear separability of the representation (translating a class, "
            "invertible linear maps) can change linear CKA substantially; the CKA under class translation "
            "converges to the Theorem-1 limit set by the class geometry."
        ),
        source="Section 4.1, Figure 3 (synthetic cubes) and Theorem 1",
        paper={"readout_accuracy_change": 0.0},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
