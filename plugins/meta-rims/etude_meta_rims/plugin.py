"""Entry-point module of etude-meta-rims: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Kanika Madan, Nan Rosemary Ke, Anirudh Goyal, Bernhard Schölkopf, Yoshua Bengio",
    "title": "Fast and Slow Learning of Recurrent Independent Mechanisms",
    "venue": "ICLR",
    "year": 2021,
    "arxiv": "2105.08710",
}

RIMS_PAPER = ("A. Goyal, A. Lamb, J. Hoffmann, S. Sodhani, S. Levine, Y. Bengio, B. Schölkopf, "
              "\"Recurrent Independent Mechanisms\", ICLR 2021, arXiv:1909.10893")


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "The RIM cell (null-slot input attention, top-k competition on null probabilities, group "
                "LSTM / GRU, gated communication; " + RIMS_PAPER + "), RIMs and equal-size LSTM models, the "
                "Meta-RIMs fast / slow procedure, the sequential-image, two-source and sparse-change tasks, MiniGrid / "
                "BabyAI environments (optional [minigrid] extra) and a compact recurrent PPO with the fast / slow "
                "update.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "model", "rim-cell", "etude_meta_rims.cell:RIMCell",
        summary="One RIM step: null-slot input attention, k_A of K modules active (stable sort on null "
                "probabilities), group LSTM/GRU, gated communication; inactive (h, c) copied exactly.",
        example={"input_size": 8, "hidden_size": 16, "num_modules": 4, "active": 2},
    )
    registry.add(
        "model", "rims", "etude_meta_rims.models:RIMs",
        summary="The RIM cell unrolled over time with a linear readout (per step or last step); "
                "return_trace=True gives the active masks (T, B, K).",
        example={"input_size": 10, "output_size": 10, "hidden_size": 16, "num_modules": 4, "active": 2},
    )
    registry.add(
        "model", "lstm", "etude_meta_rims.models:LSTMBaseline",
        summary="Fused nn.LSTM with the RIMs readout wrapper; match_parameters(model) sizes it to a model.",
        example={"input_size": 10, "output_size": 10, "hidden_size": 32},
    )
    registry.add(
        "task", "sequential-image", "etude_meta_rims.tasks:SequentialImage",
        summary="A core image task binarised, nearest-resized to train_size, one pixel per step; "
                "test_<s> splits at the test_sizes (RIMs: 14 -> 16 / 19 / 24).",
        example={"image_task": "digits", "train_size": 6, "test_sizes": [8]},
    )
    registry.add(
        "task", "two-source", "etude_meta_rims.tasks:TwoSource",
        summary="Two independent Markov chains, one shown per step with a flag; predict its next symbol.",
        example={"num_symbols": 4, "length": 6, "num_train": 64, "num_test": 32},
    )
    registry.add(
        "task", "sparse-change", "etude_meta_rims.tasks:SparseChange",
        summary="Fixed random sub-skills y = f_s(z); each task of a stream perturbs exactly one sub-skill.",
        example={"num_train_tasks": 4, "num_test_tasks": 2, "examples_per_task": 8},
    )
    registry.add(
        "environment", "minigrid", "etude_meta_rims.minigrid:MiniGrid",
        summary="A MiniGrid level (Empty, DoorKey, MultiRoom, ...): 7 x 7 x 3 egocentric image and mission token ids "
                "from a fixed vocabulary; needs the [minigrid] extra.",
        example={"env_id": "MiniGrid-Empty-5x5-v0"},
    )
    registry.add(
        "environment", "babyai", "etude_meta_rims.minigrid:BabyAI",
        summary="A BabyAI level (GoTo / Pickup / Open / PutNext): image and mission token ids, as "
                "environment/minigrid; needs the [minigrid] extra.",
        example={"env_id": "BabyAI-GoToObj-v0"},
    )
    registry.add(
        "procedure", "meta-rims", "etude_meta_rims.procedure:MetaRIMs",
        summary="Meta-RIMs: inner SGD steps on the active modules' parameters (fast), outer Adam steps on the "
                "attention parameters (slow); fast='attention' reverses, 'all' is joint; adaptation area on "
                "held-out tasks.",
        example={"meta_steps": 2, "adapt_steps": 1, "batch_size": 4},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "meta-rims/faster-adaptation",
        run="etude_meta_rims.meta_claims:faster_adaptation_run",
        judge="etude_meta_rims.meta_claims:faster_adaptation_judge",
        statement="\"We find that meta-learning the modular aspects of the proposed system greatly helps in "
                  "achieving faster adaptation\" (Meta-RIMs abstract). CPU analogue: lower adaptation area "
                  "(mean held-out loss over adaptation steps 1..k / loss at step 0) on held-out sparse "
                  "sub-skill changes for fast modules / slow attention than for joint training. Full scale: the "
                  "paper's MiniGrid / BabyAI transfer with PPO, higher area under the target success curve.",
        source="Meta-RIMs abstract and MiniGrid / BabyAI transfer curves (no numbers tabulated); quick analogue "
               "task/sparse-change from the issue",
        paper={"all_minus_modules": "> 0: Meta-RIMs adapts faster than joint training (MiniGrid / BabyAI curves; "
                                     "no number)",
               "modules_minus_all": "> 0 at full scale (target success AUC, MiniGrid / BabyAI PPO transfer)"},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "meta-rims/reversed-roles-worse",
        run="etude_meta_rims.meta_claims:reversed_roles_run",
        judge="etude_meta_rims.meta_claims:reversed_roles_judge",
        statement="\"We also find that reversing the role of parameters and meta-parameters does not work nearly "
                  "as well\" (Meta-RIMs abstract): fast attention / slow modules adapts more slowly (higher "
                  "adaptation area; at full scale a lower target success AUC in MiniGrid / BabyAI PPO transfer) "
                  "than fast modules / slow attention.",
        source="Meta-RIMs abstract; ablation curves (no numbers tabulated)",
        paper={"attention_minus_modules": "> 0: reversed roles adapt more slowly (ablation curves; no number)",
               "modules_minus_attention": "> 0 at full scale (target success AUC, MiniGrid / BabyAI PPO transfer)"},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "meta-rims/rims-copying-longer-delay",
        run="etude_meta_rims.claims:copying_run",
        judge="etude_meta_rims.claims:copying_judge",
        statement="RIMs allow \"remarkably improved generalization on tasks where some factors of variation differ "
                  "systematically between training and evaluation\" (RIMs abstract): trained on copying with a "
                  "short delay, RIMs recall better than an equal-size LSTM at a longer test delay.",
        source="RIMs abstract; copying table (train length 50, test length 200). RIMs' row as listed by a "
               "benchmark aggregator (wizwand.com): cross-entropy 0.00 at 50 and at 200; the LSTM row was not "
               "available offline",
        paper={"setting": "experiment_copying.sh 600 6 4 50 200 (600 units, K 6, k_A 4, delay 50 -> 200)",
               "rims_cross_entropy_train_50": 0.0, "rims_cross_entropy_test_200": 0.0},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "meta-rims/rims-smnist-resolution",
        run="etude_meta_rims.claims:smnist_run",
        judge="etude_meta_rims.claims:smnist_judge",
        statement="Sequential MNIST trained at 14 x 14 and tested at 16 / 19 / 24 px: RIMs degrade less than an "
                  "LSTM as the resolution grows (RIMs, sequential MNIST table).",
        source="RIMs, sequential MNIST resolution table (unverified recollection in the paper brief); dido1998 "
               "third-party reproduction",
        paper={"rims_16_19_24": [90.0, 73.4, 38.1], "lstm_16_19_24": [86.8, 42.3, 25.2],
               "dido1998_rims_16_19_24": [87.89, 69.75, 46.23], "dido1998_lstm_16_19_24": [80.43, 39.74, 20.48]},
        scales=("smoke", "full"),
        seeds={"smoke": 1, "full": 3},
    )
    registry.add_claim(
        "meta-rims/rims-specialisation",
        run="etude_meta_rims.claims:specialisation_run",
        judge="etude_meta_rims.claims:specialisation_judge",
        statement="\"We show that this leads to specialization amongst the RIMs\" (RIMs abstract): on a two-source "
                  "toy (K = 2, k_A = 1) the module usage aligns with the shown source (alignment < 0.3, random "
                  "0.5) and more than at initialisation.",
        source="RIMs abstract; specialisation analyses (Section 4); threshold 0.3 from the paper brief",
        paper={"alignment_trained": "< 0.3 on every seed (the brief's threshold; uniform usage gives 0.5)"},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
