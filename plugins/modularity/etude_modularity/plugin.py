"""Entry-point module of etude-modularity: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Sarthak Mittal, Yoshua Bengio, Guillaume Lajoie",
    "title": "Is a Modular Architecture Enough?",
    "venue": "NeurIPS",
    "year": 2022,
    "arxiv": "2206.02713",
}


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "Rule tasks, monolithic / modular / modular-op / GT-modular networks, group-linear layers and "
                "the specialisation metrics (collapse, inverse MI, alignment, adaptation).",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "task", "rule-regression", "etude_modularity.tasks:RuleRegression",
        summary="a, b ~ N(0,1), rule r of R: y = alpha_r a + beta_r b (data_v2); 'ood' split scales a, b by 2.",
        example={"rules": 4, "num_train": 256},
    )
    registry.add(
        "task", "rule-classification", "etude_modularity.tasks:RuleClassification",
        summary="Rule task with binary targets 1[alpha_r a + beta_r b >= 0]; 'ood' split scales a, b by 2.",
        example={"rules": 4, "num_train": 256},
    )
    registry.add(
        "task", "rule-regression-set", "etude_modularity.set_task:RuleSetRegression",
        summary="Sets of T elements; each searches two others by its rule's features and regresses "
                "alpha_r u + beta_r v on the retrieved values (the MHA tasks); 'ood' scales features by 2.",
        example={"rules": 4, "num_train": 64},
    )
    registry.add(
        "task", "rule-regression-sequence", "etude_modularity.sequence_task:RuleSequenceRegression",
        summary="Rule-switching linear dynamics s_t = x_t B_r + s_{t-1} A_r over T steps (the RNN tasks); "
                "'ood' scales the inputs by 2.",
        example={"rules": 4, "dim": 8, "num_train": 64},
    )
    registry.add(
        "model", "monolithic", "etude_modularity.models:Monolithic",
        summary="The paper's monolithic baseline; family mlp (MLP 3e -> d -> d), mha (M x H heads) or rnn (one LSTM cell).",
        example={"rules": 4, "encoder_dim": 32},
    )
    registry.add(
        "model", "modular", "etude_modularity.models:Modular",
        summary="R group-linear modules (MLP, MHA heads + output MLPs, or RNN cells), each scoring itself; end-to-end softmax routing.",
        example={"rules": 4, "encoder_dim": 32},
    )
    registry.add(
        "model", "modular-op", "etude_modularity.models:ModularOp",
        summary="R group-linear modules routed by softmax(Linear(op encoding)): the router sees only the rule.",
        example={"rules": 4, "encoder_dim": 32},
    )
    registry.add(
        "model", "gt-modular", "etude_modularity.models:GTModular",
        summary="R group-linear modules routed by the ground-truth rule one-hot (the specialised upper bound).",
        example={"rules": 4, "encoder_dim": 32},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "modularity/ood-benefit-needs-specialisation",
        run="etude_modularity.claims:ood_benefit_run",
        judge="etude_modularity.claims:ood_benefit_judge",
        statement=(
            "Modular systems help out of distribution when they specialise: OoD error (inputs x2) orders "
            "GT-Modular < Modular < Monolithic (paraphrase of the abstract: \"modularity ... helps "
            "... when specialization is achieved\")."
        ),
        source="Abstract; Section 5 figures for the MLP, MHA and RNN settings (values not tabulated); CPU pilot in the paper brief",
        paper={"pilot_ood_l1_gt": [0.023, 0.045], "pilot_ood_l1_modular": [0.082, 0.104],
               "pilot_ood_l1_monolithic": [0.13, 0.18]},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "modularity/end-to-end-fails-to-specialise",
        run="etude_modularity.claims:fails_to_specialise_run",
        judge="etude_modularity.claims:fails_to_specialise_judge",
        statement=(
            "End-to-end learned routing rarely specialises, and the metrics show it (abstract: \"the "
            "sub-optimality of current end-to-end learned modular systems\"): inverse MI GT < Modular-op < "
            "Modular, with Modular's alignment far from 0."
        ),
        source="Abstract; Section 5 (specialisation metrics figures); CPU pilot in the paper brief",
        paper={"pilot_inverse_mi_gt": 0.0, "pilot_inverse_mi_modular_op": [0.65, 0.78],
               "pilot_inverse_mi_modular": [0.91, 0.93], "pilot_alignment_modular": [0.58, 0.63],
               "random_inverse_mi": 1.0, "random_alignment": 0.75},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "modularity/benefit-grows-with-rules",
        run="etude_modularity.claims:benefit_grows_run",
        judge="etude_modularity.claims:benefit_grows_judge",
        statement=(
            "The OoD benefit of specialised modules over a monolithic network grows with the number of rules "
            "(paraphrase of the Section 5 figures over R)."
        ),
        source="Section 5, figures over the number of rules R in {2, 4, 8, 16, 32}",
        paper={"rules": [2, 4, 8, 16, 32]},
        scales=("smoke", "full"),
        seeds={"smoke": 1, "full": 5},
    )
