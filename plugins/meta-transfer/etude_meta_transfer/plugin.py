"""Entry-point module of etude-meta-transfer: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": (
        "Yoshua Bengio, Tristan Deleu, Nasim Rahaman, Nan Rosemary Ke, Sébastien Lachapelle, Olexa Bilaniuk, "
        "Anirudh Goyal, Christopher Pal"
    ),
    "title": "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms",
    "venue": "ICLR",
    "year": 2020,
    "arxiv": "1901.10912",
}

_ABSTRACT = " [from the abstract]"


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": (
            "The causal direction between two variables from how fast each factorisation adapts to a sparse "
            "change: online likelihoods, the regret on a structural parameter, tabular hypotheses batched over runs."
        ),
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "estimator", "meta-transfer-direction", "etude_meta_transfer.estimator:MetaTransferDirection",
        summary="P(A -> B) from the speed of adaptation to transfer episodes (structural parameter, regret).",
        example={"num_categories": 10},
    )
    registry.add(
        "procedure", "meta-transfer", "etude_meta_transfer.procedure:MetaTransfer",
        summary="Meta-train the structural parameter gamma on a bivariate transfer task; history sigma(gamma).",
        example={"inner_lr": 0.1, "meta_lr": 0.01},
    )
    registry.add(
        "task", "bivariate-transfer", "etude_meta_transfer.tasks:BivariateTransferTask",
        summary="Two categorical variables cause -> effect (etude-scm), transfers that redraw the cause's marginal.",
        example={"num_categories": 4, "num_train": 100, "episodes": 3, "test_episodes": 2, "seed": 0},
    )
    registry.add(
        "model", "rotation-encoder", "etude_meta_transfer.encoder:RotationEncoder",
        summary="(U, V) = R(theta)(X, Y): a learnable rotation mapping observations back to causal variables.",
        example={"init_angle": 0.0},
    )
    registry.add(
        "task", "spline-transfer", "etude_meta_transfer.tasks:SplineTransferTask",
        summary="B := spline(A) + N(0, 1) (etude-scm); A ~ N(0, 4) to train, N(m, 4), m in {-4..4}, for transfers.",
        example={"num_train": 100, "episodes": 3, "test_episodes": 2, "samples": 50, "seed": 0},
    )


def _add(registry, name, seeds, scales=("smoke", "quick", "full"), **metadata):
    attr = name.replace("-", "_")
    registry.add_claim(
        f"meta-transfer/{name}", run=f"etude_meta_transfer.claims:{attr}_run",
        judge=f"etude_meta_transfer.claims:{attr}_judge", scales=scales, seeds=seeds, **metadata,
    )


@etude.hookimpl
def register_claims(registry):
    _add(
        registry, "causal-model-adapts-faster", {"smoke": 2, "quick": 10, "full": 10},
        statement=(
            "The correct causal structural choices lead to faster adaptation to modified distributions." + _ABSTRACT
        ),
        source="Abstract; Sec. 2 (adaptation curves of the two factorisations, N = 10, notebook 02)",
        paper={"pilot_gap_10_nats": 0.42, "pilot_gap_100_nats": 0.11, "pilot_gap_500_nats": 0.012},
    )
    _add(
        registry, "sparse-expected-gradient", {"smoke": 3, "quick": 20, "full": 200},
        statement=(
            "This leads to sparse expected gradients and a lower effective number of degrees of freedom needing "
            "to be relearned." + _ABSTRACT
        ),
        source="Abstract; Sec. 3 (why the meta-transfer objective works, Appendix)",
        paper={"pilot_g1_share_median": 0.0025, "pilot_g1_share_max": 0.012, "pilot_g2_share_min": 0.51,
               "pilot_g2_share_median": 0.63},
    )
    _add(
        registry, "structural-parameter-finds-cause", {"smoke": 2, "quick": 20, "full": 20},
        statement=(
            "Structures parameterized via continuous variables and learned end-to-end determine the cause-effect "
            "relationship between two observed variables; the changes do not need to correspond to standard "
            "interventions." + _ABSTRACT
        ),
        source="Abstract; Sec. 3 (sigma(gamma) over meta-training episodes, N = 10)",
        paper={"pilot_sigma_ab_range": [0.92, 0.95], "pilot_sigma_ba_range": [0.053, 0.074]},
    )
    _add(
        registry, "continuous-multimodal", {"smoke": 1, "full": 5}, scales=("smoke", "full"),
        statement=(
            "The same meta-transfer objective finds the causal direction between two continuous, multimodal "
            "variables, with mixture density networks as the modules [paraphrased from Sec. 4; not checked "
            "against the paper's text]"
        ),
        source="Sec. 4 (continuous multimodal variables; notebook bivariate-continuous-multimodal/02)",
        paper={},
    )
    _add(
        registry, "encoder-recovers-causal-variables", {"smoke": 1, "full": 5}, scales=("smoke", "full"),
        statement=(
            "We then explore how these ideas could be used to also learn an encoder that would map low-level "
            "observed variables to unobserved causal variables leading to faster adaptation out-of-distribution."
            + _ABSTRACT
        ),
        source="Abstract; representation-learning section (encoder angle over training; notebook "
               "bivariate-continuous-multimodal/03_encoder_learning)",
        paper={"solutions_rad": "-pi/4 + k pi/2 (notebook: the angle converges to one of them)"},
    )
