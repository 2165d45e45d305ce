"""Entry point of etude-a3t: registration only (no heavy imports)."""

import etude

PAPER = {
    "authors": "Akram Erraqabi, Aristide Baratin, Yoshua Bengio, Simon Lacoste-Julien",
    "title": "A3T: Adversarially Augmented Adversarial Training",
    "venue": "arXiv preprint (NIPS 2017 workshop paper per the paper brief; venue and authors not verified offline)",
    "year": 2018,
    "arxiv": "1801.04055",
}

_SEEDS = {"smoke": 1, "quick": 3, "full": 5}


@etude.hookimpl
def plugin_info():
    return {"paper": PAPER, "requires_core": ">=0.1"}


@etude.hookimpl
def register_components(registry):
    registry.add(
        "augmenter", "fgsm", "etude_a3t.attacks:FGSM",
        summary="FGSM attack on the model being trained; its loss is FGSM adversarial training (1/2 clean + 1/2 adversarial CE).",
        example={"eps": 0.1},
    )
    registry.add(
        "augmenter", "pgd", "etude_a3t.attacks:PGD",
        summary="l-inf PGD attack (random start, projection onto the ball and [0, 1]); its loss is PGD adversarial training.",
        example={"eps": 0.1, "steps": 10},
    )
    registry.add(
        "augmenter", "a3t", "etude_a3t.a3t:A3T",
        summary="A3T: adversarial training plus a gradient-reversed discriminator making hidden codes of clean and "
        "adversarial inputs indistinguishable.",
        example={"eps": 0.1, "lam": 0.3},
    )
    registry.add(
        "model", "a3t-classifier", "etude_a3t.model:A3TClassifier",
        summary="A registered classifier plus a discriminator MLP on a named hidden layer (read with a forward hook).",
        example={"in_features": 64, "out_features": 10},
    )


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "a3t/improves-robustness",
        run="etude_a3t.claims:improves_robustness_run",
        judge="etude_a3t.claims:improves_robustness_judge",
        statement="\"we investigate a procedure to improve adversarial robustness of deep neural networks through "
        "enforcing representation invariance\" (abstract)",
        source="Abstract; CPU analogue: the paper brief's digits pilot (section 5), eps = 0.1",
        paper={"pilot_erm": {"clean": 0.971, "fgsm": 0.433, "pgd10": 0.392},
               "pilot_a3t_lam0.3": {"clean": 0.981, "fgsm": 0.824, "pgd10": 0.801}},
        scales=("smoke", "quick", "full"), seeds=_SEEDS,
    )
    registry.add_claim(
        "a3t/compared-with-adversarial-training",
        run="etude_a3t.claims:compared_with_adversarial_training_run",
        judge="etude_a3t.claims:compared_with_adversarial_training_judge",
        statement="\"We perform preliminary experiments to test the viability of the approach and to compare it to "
        "other standard adversarial training methods.\" (abstract; the paper's numbers are in its PDF, not available "
        "offline). Tested here: on par with FGSM adversarial training on PGD accuracy.",
        source="Abstract and experiments section; CPU analogue: the paper brief's pilot (section 5)",
        paper={"pilot_pgd10_eps0.1": {"fgsm_at": 0.825, "a3t_lam0.3": 0.801},
               "pilot_pgd10_eps0.2": {"fgsm_at": 0.360, "a3t_lam1.0": 0.368, "a3t_lam0.1": 0.398}},
        scales=("smoke", "quick", "full"), seeds={"smoke": 1, "quick": 5, "full": 5},
    )
    registry.add_claim(
        "a3t/representation-invariance",
        run="etude_a3t.claims:representation_invariance_run",
        judge="etude_a3t.claims:representation_invariance_judge",
        statement="\"train the classifier jointly with a discriminator attached to one of its hidden layer and trained "
        "to filter the adversarial noise\" (abstract), i.e. representation invariance: tested here as a fresh probe "
        "separating clean from adversarial hidden codes less well after A3T than after adversarial training.",
        source="Abstract (representation invariance); not piloted",
        paper={},
        scales=("smoke", "quick", "full"), seeds=_SEEDS,
    )
