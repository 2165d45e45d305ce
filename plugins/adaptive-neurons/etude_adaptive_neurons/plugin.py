"""Entry-point module of etude-adaptive-neurons: registration only, no heavy imports."""

import etude

_PKG = "etude_adaptive_neurons"


@etude.hookimpl
def plugin_info():
    return {
        "paper": {
            "authors": "Victor Geadah, Stefan Horoi, Giancarlo Kerg, Guy Wolf, Guillaume Lajoie",
            "title": "Neural networks with optimized single-neuron adaptation uncover biologically plausible regularization",
            "venue": "PLOS Computational Biology (preprint: bioRxiv 10.1101/2022.04.29.489963)",
            "year": 2024,
            "arxiv": None,
            "doi": "10.1371/journal.pcbi.1012567",
        },
        "requires_core": ">=0.1",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "neuron", "gamma", f"{_PKG}.neurons:GammaNeuron",
        summary="γ f-I curve (1-s) softplus(nx)/n + s σ(nx) with learned, constrained per-neuron gain n and saturation s.",
        example={"num_units": 8, "n_init": 2.0, "s_init": 0.3},
    )
    registry.add(
        "neuron", "adaptive-gamma", f"{_PKG}.neurons:AdaptiveGammaNeuron",
        summary="ANRU controller: a shared small RNN with a state per neuron sets (n_t, s_t) of γ at every step.",
        example={"hidden_size": 6},
    )
    registry.add(
        "model", "anru", f"{_PKG}.model:ANRU",
        summary="Elman RNN over any registered neuron (adaptive-gamma gives the paper's ANRU); logits from the last state.",
        example={"hidden_size": 8, "neuron": "adaptive-gamma", "neuron_options": {"hidden_size": 4}},
    )
    registry.add(
        "task", "sequential-digits", f"{_PKG}.tasks:SequentialDigits",
        summary="scikit-learn digits as 64-step pixel sequences (optionally permuted): CPU stand-in for psMNIST.",
        example={"seed": 0, "max_train": 200, "max_test": 100},
    )
    registry.add(
        "augmenter", "sinusoidal-gain", f"{_PKG}.perturbations:SinusoidalGain",
        summary="Scales nonzero inputs at step t by 1 + A sin(2π f t / T + φ) (the paper's test-time perturbation).",
        example={"amplitude": 0.5},
    )
    registry.add(
        "augmenter", "step-gain", f"{_PKG}.perturbations:StepGain",
        summary="Scales nonzero inputs inside a time window by 1 + step_size (the paper's step perturbation).",
        example={"step_size": 1.0},
    )
    registry.add(
        "augmenter", "additive-noise", f"{_PKG}.perturbations:AdditiveNoise",
        summary="Adds i.i.d. Gaussian noise of standard deviation std to the inputs.",
        example={"std": 0.1},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "adaptive-neurons/robust-to-input-perturbation",
        run=f"{_PKG}.claims:robust_to_input_perturbation_run",
        judge=f"{_PKG}.claims:robust_to_input_perturbation_judge",
        statement="\"We find that such networks show much-improved robustness to noise and changes in input "
        "statistics.\" Here: the relative accuracy drop of the adaptive (ANRU) network under the sinusoidal "
        "input gain (amplitude 0.5) is smaller than that of the ReLU network with everything else equal.",
        source="Abstract; psMNIST test under the sinusoidal gain perturbation (freq 1, phase 0, amplitude 0.5)",
        paper={
            "direction": "adaptive drop < fixed-activation drop",
            "task": "psMNIST, 784 steps, 400 units, 100 epochs",
            "numbers": "not transcribed here (see the PLOS Comp. Biol. article)",
        },
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 2, "full": 5},
    )
    registry.add_claim(
        "adaptive-neurons/gain-scaling",
        run=f"{_PKG}.claims:gain_scaling_run",
        judge=f"{_PKG}.claims:gain_scaling_judge",
        statement="\"We find that this procedure recovers precise coding strategies found in biological neurons, "
        "such as gain scaling.\" Here: after training, a step increase of the input amplitude lowers the "
        "controller's mean gain n_t (gain decreases as input scale grows).",
        source="Abstract; gain-scaling analysis of the trained adaptive network",
        paper={"direction": "d mean n_t / d input amplitude < 0"},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 1, "full": 5},
    )
    registry.add_claim(
        "adaptive-neurons/heterogeneity",
        run=f"{_PKG}.claims:heterogeneity_run",
        judge=f"{_PKG}.claims:heterogeneity_judge",
        statement="\"Each neuron has the liberty to modify its nonlinear activation function\" and training "
        "produces diverse f-I curves: learned per-neuron (n, s), started identical, spread out.",
        source="Abstract; distribution of learned (n, s) of the heterogeneous γ-RNN",
        paper={"direction": "learned (n_i, s_i) spread across neurons from a homogeneous start"},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 2, "full": 5},
    )
