"""Entry-point module of etude-scm: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": (
        "Bernhard Schölkopf, Francesco Locatello, Stefan Bauer, Nan Rosemary Ke, Nal Kalchbrenner, "
        "Anirudh Goyal, Yoshua Bengio"
    ),
    "title": "Toward Causal Representation Learning",
    "venue": "Proceedings of the IEEE",
    "year": 2021,
    "arxiv": "2102.11107",
}

_PARAPHRASED = " [paraphrased; not yet checked against the paper's text]"


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": (
            "Structural causal models as seeded torch samplers and Pyro programs: graphs, mechanisms, hard and "
            "soft interventions, counterfactuals, sparse mechanism shifts, ready-made random SCMs."
        ),
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "model", "linear-gaussian-scm", "etude_scm.models:LinearGaussianSCM",
        summary="Random linear-Gaussian SCM on any skeleton: weights ±U(0.5, 2), noise scales U(0.5, 1.5).",
        example={"graph": "chain3", "seed": 0},
    )
    registry.add(
        "model", "categorical-scm", "etude_scm.models:CategoricalSCM",
        summary="Random categorical SCM, K categories, Dirichlet(1) table rows; 'A->B' is meta-transfer's SCM.",
        example={"graph": "A->B", "num_categories": 4, "seed": 0},
    )
    registry.add(
        "model", "spline-scm", "etude_scm.models:SplineSCM",
        summary="B := spline(A) + N(0, 1), a random not-a-knot cubic spline (span 8, 10 anchors).",
        example={"graph": "A->B", "seed": 0},
    )
    registry.add(
        "model", "categorical-mlp-scm", "etude_scm.models:CategoricalMLPSCM",
        summary="The chemistry environment's SCM: each colour an MLP of its parents' one-hot colours.",
        example={"graph": "chain3", "num_categories": 5, "seed": 0},
    )
    registry.add(
        "task", "scm-shift", "etude_scm.tasks:SCMShiftTask",
        summary="Regress one node of a random SCM on the others; 'ood' split after a sparse mechanism shift.",
        example={"graph": "chain3", "num_train": 64, "num_test": 32, "seed": 0},
    )


_SCALES = ("smoke", "quick")


def _add(registry, name, seeds, **metadata):
    """Register ``scm/<name>`` as a per-seed ``run`` + ``judge`` pair of :mod:`etude_scm.claims`."""
    attr = name.replace("-", "_")
    registry.add_claim(
        f"scm/{name}", run=f"etude_scm.claims:{attr}_run", judge=f"etude_scm.claims:{attr}_judge",
        scales=_SCALES, seeds=seeds, **metadata,
    )


@etude.hookimpl
def register_claims(registry):
    _add(
        registry, "intervention-is-not-conditioning", {"smoke": 1, "quick": 5},
        statement=(
            "Levels of causal modelling: a statistical model answers observational queries, a causal model "
            "also interventional ones; in a confounded SCM the regression of Y on X is biased for the effect "
            "of do(X), while sampling the intervened SCM recovers it." + _PARAPHRASED
        ),
        source="Section 3 (levels of causal modelling; SCMs and interventions), closed form",
        paper={"slope_do": 1.0, "slope_obs": 1.5},
    )
    _add(
        registry, "sparse-mechanism-shift-is-local", {"smoke": 3, "quick": 20},
        statement=(
            "Sparse Mechanism Shift hypothesis: small distribution changes tend to manifest themselves in a "
            "sparse or local way in the causal/disentangled factorisation, i.e. they should usually not affect "
            "all factors simultaneously (unlike in a non-causal factorisation)." + _PARAPHRASED
        ),
        source="Section 4 (Independent Causal Mechanisms and the SMS hypothesis), closed form",
        paper={"causal_changed_k1_mean": 1.0, "reverse_changed_k1_mean": 4.9},
    )
    _add(
        registry, "causal-predictor-transfers", {"smoke": 1, "quick": 5},
        statement=(
            "Robustness and transfer: a predictor using the causal parents of the target is invariant to "
            "interventions on other variables, while one that also uses the target's effects is better in "
            "distribution but breaks when the effect mechanism shifts." + _PARAPHRASED
        ),
        source="Sections 2 and 5 (robustness, transfer, invariant prediction), closed form",
        paper={"causal_test_mse": 1.0, "causal_ood_mse": 1.0, "both_test_mse": 0.5, "both_ood_mse": 4.25},
    )
