"""Entry-point module of etude-diffusion-time-mixing: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Sarthak Mittal, Guillaume Lajoie, Stefan Bauer, Arash Mehrjou",
    "title": "From Points to Functions: Infinite-dimensional Representations in Diffusion Models",
    "venue": "preprint",
    "year": 2022,
    "arxiv": "2210.13774 (unverified)",
}

_SEEDS = {"smoke": 1, "quick": 3, "full": 5}
_SCALES = ("smoke", "quick", "full")
_M = "etude_diffusion_time_mixing"


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "Diffusion-based representation learning (an encoder inside a VE-SDE score model) and read-outs "
                "that mix the representation trajectory over diffusion time (MLP, GRU, attention with a CLS token).",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "estimator", "drl", f"{_M}.drl:DRL",
        summary="DRL: time-conditioned encoder + conditional score network (MLPs, or encoder='wrn': WRN-28-w encoder "
                "and U-Net on images) trained by DSM on a VE SDE with a KL (or L1) latent penalty; estimate() gives "
                "the trajectory of encoder means (N, K+1, latent).",
        example={"in_features": 64, "latent_dim": 16, "steps": 200},
    )
    registry.add(
        "model", "time-mlp", f"{_M}.readouts:TimeMLP",
        summary="MLP read-out of one diffusion time of a representation trajectory, or of its concatenation.",
        example={"input_shape": [6, 16], "out_features": 20, "time_index": 0},
    )
    registry.add(
        "model", "time-rnn", f"{_M}.readouts:TimeRNN",
        summary="GRU over the representation trajectory (t_0 first), classes from its last state.",
        example={"input_shape": [6, 16], "out_features": 20},
    )
    registry.add(
        "model", "time-attention", f"{_M}.readouts:TimeAttention",
        summary="Transformer mixer over diffusion time (Mittal et al.): sinusoidal time-index encoding, CLS token, "
                "one shared attention/multihead block applied twice; returns its attention over t on request.",
        example={"input_shape": [6, 16], "out_features": 20, "width": 64},
    )
    registry.add(
        "task", "two-attribute-digits", f"{_M}.tasks:TwoAttributeDigits",
        summary="Digits in [-1, 1] plus a +-checkerboard of amplitude 0.1: labels A (digit), B (sign), AB (20 classes).",
        example={"label": "AB", "val_fraction": 0.15},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "diffusion-time-mixing/mixing-beats-best-time",
        run=f"{_M}.claims:mixing_beats_best_time_run",
        judge=f"{_M}.claims:mixing_beats_best_time_judge",
        statement="\"a combination of information content from different time steps gives a strictly better "
                  "representation\" than any single time step (attention mixer vs the best single t).",
        source="Abstract; Section 4 (downstream classification from representation trajectories)",
        paper={"pilot_AB_best_t_concat_mixer": [[0.807, 0.931, 0.900], [0.827, 0.938, 0.884], [0.858, 0.936, 0.911]],
               "pilot_mixer_gain_points": [9.3, 5.7, 5.3], "gate_mean_gain_points": 3.0},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "diffusion-time-mixing/recurrent-mixer",
        run=f"{_M}.claims:recurrent_mixer_run",
        judge=f"{_M}.claims:recurrent_mixer_judge",
        statement="(paraphrased) Recurrence-based modules over the trajectory also beat the best single time step.",
        source="Abstract (\"attention and recurrence based modules\"); Section 4",
        paper={"gate_mean_gain_points": 3.0, "piloted": False},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "diffusion-time-mixing/attention-tracks-task",
        run=f"{_M}.claims:attention_tracks_task_run",
        judge=f"{_M}.claims:attention_tracks_task_judge",
        statement="(paraphrased) The attention over diffusion time depends on the task: mixers trained on different "
                  "attributes attend to different noise levels.",
        source="Section 5, qualitative analysis (attention over t per task, Colored-MNIST / CelebA)",
        paper={"expected_at_quick": "inconclusive (pilot: no clean coarse/fine split)"},
        scales=_SCALES, seeds=_SEEDS,
    )
    registry.add_claim(
        "diffusion-time-mixing/cifar-gains",
        run=f"{_M}.claims:cifar_gains_run",
        judge=f"{_M}.claims:cifar_gains_judge",
        statement="(paraphrased) On CIFAR-10 the mixers over the DRL trajectory beat the best single-t read-out.",
        source="Table of CIFAR-10 / CIFAR-100 downstream accuracies (numbers in the PDF; not in the brief)",
        paper={"numbers": "see the PDF (not available offline)"},
        scales=("full",), seeds={"full": 5},
    )
