"""Entry point of etude-corelnet: registration only (no heavy imports)."""

import etude

_RMTS = "Relational match-to-sample over Gaussian objects in R^32 (quick setting; 2 000 OOD examples, m = 95)"


@etude.hookimpl
def plugin_info():
    return {
        "paper": {
            "authors": "Giancarlo Kerg, Sarthak Mittal, David Rolnick, Yoshua Bengio, Blake Richards, Guillaume Lajoie",
            "title": "On Neural Architecture Inductive Biases for Relational Tasks",
            "venue": "preprint",
            "year": 2022,
            "arxiv": "2206.05056",
        },
        "requires_core": ">=0.1",
    }


@etude.hookimpl
def register_components(registry):
    small = {"input_shape": (6, 32), "num_classes": 2, "z_dim": 16, "encoder_options": {"hidden": (16,)}}
    registry.add(
        "model", "corelnet", "etude_corelnet.model:CoRelNet",
        summary="CoRelNet: per-object encoder, context norm, R = softmax_row(Z Z^T), MLP decoder on flatten(R) only.",
        example=small,
    )
    registry.add(
        "model", "relational-mlp", "etude_corelnet.baselines:RelationalMLP",
        summary="Baseline: an MLP on the concatenated (context-normalised) per-object encodings.",
        example=small,
    )
    registry.add(
        "model", "relational-transformer", "etude_corelnet.baselines:RelationalTransformer",
        summary="Baseline: per-object encoder, learned positions, L blocks of a registered attention, mean pool.",
        example={**small, "attention_options": {"num_heads": 2}},
    )
    registry.add(
        "model", "relational-lstm", "etude_corelnet.baselines:RelationalLSTM",
        summary="Baseline: an LSTM (hidden 512) reading the per-object encodings in order, classifier on its last output.",
        example={**small, "hidden": 32},
    )
    registry.add(
        "model", "esbn", "etude_corelnet.esbn:ESBN",
        summary="Baseline (Webb et al. 2021): LSTM controller with a key-value binding memory over the encodings.",
        example={**small, "hidden": 32, "key_dim": 8},
    )
    for name, cls, what in (("same-different", "SameDifferent", "two objects: same or different"),
                            ("rmts", "RMTS", "relational match-to-sample, 6 objects, 2 choices"),
                            ("distribution-of-3", "DistributionOf3", "complete a permutation of 3, 4 choices"),
                            ("identity-rules", "IdentityRules", "complete an ABA / ABB / AAA triple, 4 choices")):
        registry.add(
            "task", name, f"etude_corelnet.tasks:{cls}",
            summary=f"ESBN relational task ({what}) over an object bank with held-out objects (split 'ood'); "
            "option variant= for the paper's harder variants (unseen relations).",
            example={"num_train": 64, "num_test": 32, "num_ood": 32},
        )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "corelnet/ood-generalisation",
        run="etude_corelnet.claims:ood_generalisation_run",
        judge="etude_corelnet.claims:ood_generalisation_judge",
        statement="\"We find that simple architectural choices can outperform existing models in out-of-distribution "
        "generalization\": CoRelNet generalises to held-out objects where an MLP and a transformer on the same "
        "encoder do not.",
        source=f"Abstract; OOD tables (m = 95). CPU analogue: {_RMTS}, the paper brief's pilot",
        paper={"pilot_corelnet_ood": [1.0, 1.0, 1.0], "pilot_mlp_ood": [0.741, 0.764, 0.736],
               "pilot_transformer_ood": [0.688, 0.724, 0.664]},
        scales=("smoke", "quick", "full"), seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "corelnet/partition-ablation",
        run="etude_corelnet.claims:partition_ablation_run",
        judge="etude_corelnet.claims:partition_ablation_judge",
        statement="(paraphrase) Keeping relational and sensory information apart is what generalises: feeding the "
        "encodings to the decoder beside R (the '_cat' variants) lowers OOD accuracy.",
        source=f"The '_cat' variants (CoRelNet_cat in the repository); CPU analogue: {_RMTS}",
        paper={},
        scales=("smoke", "quick", "full"), seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "corelnet/across-tasks",
        run="etude_corelnet.claims:across_tasks_run",
        judge="etude_corelnet.claims:across_tasks_judge",
        statement="(paraphrase, unverified) The OOD advantage of CoRelNet holds on the other relational tasks "
        "(distribution-of-3, identity rules) and on the harder variants, where ESBN degrades.",
        source="OOD tables of the four ESBN tasks and of the harder variants; quick: distribution-of-3 and "
        "identity-rules vs the transformer; full: rmts3-hard, dist10-hard7, identity-rules4-flipped vs ESBN",
        paper={},
        scales=("smoke", "quick", "full"), seeds={"smoke": 1, "quick": 3, "full": 5},
    )
    registry.add_claim(
        "corelnet/harder-variants",
        run="etude_corelnet.claims:harder_variants_run",
        judge="etude_corelnet.claims:harder_variants_judge",
        statement="(paraphrase, unverified) On the harder variants, which test relations never seen in training on "
        "objects never seen in training, CoRelNet generalises where ESBN degrades.",
        source="The paper's harder variants (RMTS3_hard, dist10_hard7, identity_rules4_flipped in the repository's "
        "cognitive_tests/tasks); CPU analogue at m = 85 of corelnet/across-tasks at full scale",
        paper={},
        scales=("smoke", "quick"), seeds={"smoke": 1, "quick": 3},
    )
