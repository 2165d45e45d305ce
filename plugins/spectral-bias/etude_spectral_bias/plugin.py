"""Entry-point module of etude-spectral-bias: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Nasim Rahaman, Aristide Baratin, Devansh Arpit, Felix Draxler, Min Lin, Fred A. Hamprecht, "
               "Yoshua Bengio, Aaron Courville",
    "title": "On the Spectral Bias of Neural Networks",
    "venue": "ICML",
    "year": 2019,
    "arxiv": "1806.08734",
}

_SEEDS = {"smoke": 1, "quick": 3, "full": 3}


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "Fourier diagnostics of what a network has learned: per-frequency learning times, the detrended "
                "Fourier envelope, retention under parameter noise, and the sum-of-sinusoids / flower-manifold tasks.",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "task", "sum-of-sinusoids", "etude_spectral_bias.tasks:SumOfSinusoids",
        summary="1-D regression on sum_i A_i sin(2 pi k_i z + 2 pi phi_i) over z = j/N (Rahaman et al. 2019, Fig. 1).",
        example={"frequencies": [5, 10, 15], "n_points": 200},
    )
    registry.add(
        "task", "flower-manifold", "etude_spectral_bias.tasks:FlowerManifold",
        summary="The sum-of-sinusoids target in z observed on a closed curve in R^2 with L petals (L = 0: circle).",
        example={"frequencies": [5, 10], "petals": 4},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "spectral-bias/low-frequencies-first",
        run="etude_spectral_bias.claims:low_frequencies_first_run",
        judge="etude_spectral_bias.claims:low_frequencies_first_judge",
        statement=(
            "\"we highlight a learning bias of deep networks towards low frequency functions ... which manifests "
            "itself as a frequency-dependent learning speed\": fitting a sum of sinusoids by gradient descent, the "
            "lower-frequency components reach half their amplitude earlier."
        ),
        source="Abstract (ICML 2019); Figure 1, the sum-of-sinusoids experiment (ICML_SpectralBias.ipynb)",
        paper={"spearman_k_learning_time": "positive (qualitative: the heat-map fills from low to high k)"},
        scales=("smoke", "quick", "full"),
        seeds=_SEEDS,
    )
    registry.add_claim(
        "spectral-bias/fourier-decay",
        run="etude_spectral_bias.claims:fourier_decay_run",
        judge="etude_spectral_bias.claims:fourier_decay_judge",
        statement=(
            "(v1 abstract, paraphrased) the frequency-k Fourier component of a deep ReLU network decays at least as "
            "fast as O(k^-2) for one-dimensional inputs, with width helping polynomially and depth exponentially "
            "in representing higher frequencies."
        ),
        source="arXiv:1806.08734 v1, abstract and its Fourier analysis of ReLU networks",
        paper={"decay_exponent_d1": -2.0},
        scales=("smoke", "quick", "full"),
        seeds=_SEEDS,
    )
    registry.add_claim(
        "spectral-bias/manifold-helps-high-frequencies",
        run="etude_spectral_bias.claims:manifold_helps_high_frequencies_run",
        judge="etude_spectral_bias.claims:manifold_helps_high_frequencies_judge",
        statement=(
            "\"learning higher frequencies gets easier with increasing manifold complexity\": a target "
            "oscillating in the curve parameter z is learned faster when the curve in R^2 has more petals."
        ),
        source="Abstract (ICML 2019); the manifold experiments (ICML_Manifolds.ipynb)",
        paper={"learning_time_trend_with_petals": "decreasing (qualitative)"},
        scales=("smoke", "quick", "full"),
        seeds=_SEEDS,
    )
    registry.add_claim(
        "spectral-bias/low-frequencies-robust",
        run="etude_spectral_bias.claims:low_frequencies_robust_run",
        judge="etude_spectral_bias.claims:low_frequencies_robust_judge",
        statement=(
            "(paraphrased) lower-frequency components of a trained network are more robust to random parameter "
            "perturbations: after fitting a sum of sinusoids, Gaussian noise on the parameters destroys the "
            "high-frequency components first (v1: high-frequency functions occupy a smaller volume of parameter space)."
        ),
        source="Published version, robustness experiment (ICML_Robustness.ipynb); v1 abstract (parameter-space volume)",
        paper={"spearman_k_retention": "negative (qualitative)"},
        scales=("smoke", "quick", "full"),
        seeds=_SEEDS,
    )
