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
                "Meta-RIMs fast / slow procedure, and the sequential-image, two-source and sparse-change tasks.",
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
