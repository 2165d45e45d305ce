"""Entry point of etude-mixupe: registration only (no heavy imports)."""

import etude


@etude.hookimpl
def plugin_info():
    return {
        "paper": {
            "authors": "Yingtian Zou, Vikas Verma, Sarthak Mittal, Wai Hoh Tang, Hieu Pham, Juho Kannala, "
            "Yoshua Bengio, Arno Solin, Kenji Kawaguchi",
            "title": "MixupE: Understanding and Improving Mixup from Directional Derivative Perspective",
            "venue": "UAI 2023 (PMLR 216)",
            "year": 2023,
            "arxiv": "2212.13381",
        },
        "requires_core": ">=0.1",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "augmenter", "mixup", "etude_mixupe.mixup:Mixup",
        summary="Input (or manifold) mixup with Beta(alpha, alpha) weights and soft labels.",
        example={"alpha": 1.0},
    )
    registry.add(
        "augmenter", "mixupe", "etude_mixupe.mixup:MixupE",
        summary="MixupE: mixup plus an eta-weighted first-order directional-derivative term.",
        example={"alpha": 1.0, "eta": 0.1, "version": 3},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "mixupe/mixup-beats-erm",
        run="etude_mixupe.claims:mixup_beats_erm_run",
        judge="etude_mixupe.claims:mixup_beats_erm_judge",
        statement="Mixup \"is known to improve the generalization performance in many learning paradigms and "
        "applications\" (abstract); every table reports Mixup above ERM.",
        source="Abstract; Tables 1-2 (ERM vs Mixup rows); CPU analogue: MNIST-1D MLP pilot in the paper brief",
        paper={"pilot_erm_accuracy": 0.677, "pilot_mixup_accuracy": 0.692, "pilot_mean_diff": 0.016},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 6, "full": 10},
    )
    registry.add_claim(
        "mixupe/mixupe-beats-mixup",
        run="etude_mixupe.claims:mixupe_beats_mixup_run",
        judge="etude_mixupe.claims:mixupe_beats_mixup_judge",
        statement="\"Our results show that the proposed method improves Mixup across multiple datasets using a "
        "variety of architectures, for instance, exhibiting an improvement over Mixup by 0.8% in ImageNet "
        "top-1 accuracy.\"",
        source="Abstract; ImageNet table (top-1)",
        paper={"imagenet_top1_gain": 0.008, "pilot_mean_diff": 0.0025},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 6, "full": 10},
    )
    registry.add_claim(
        "mixupe/directional-derivative-regularisation",
        run="etude_mixupe.claims:directional_derivative_regularisation_run",
        judge="etude_mixupe.claims:directional_derivative_regularisation_judge",
        statement="\"we first analyze Mixup and show that it implicitly regularizes infinitely many directional "
        "derivatives of all orders\": L_mix = L_std + R_1 + R_2 + R_3 + ..., R_1 the first-order directional "
        "derivative term E[1 - lambda]/n sum_i (h'(f(x_i)) - y_i)^T J f(x_i) (x_bar - x_i).",
        source="Abstract; Section 3 (expansion of the mixup loss), after Zhang et al. (ICLR 2021) Lemma 3.1",
        paper={"remainder_order_first": 2, "remainder_order_second": 3},
        scales=("smoke", "quick"),
        seeds={"smoke": 1, "quick": 3},
    )
