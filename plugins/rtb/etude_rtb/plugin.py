"""Entry-point module of etude-rtb: registration only, no heavy imports."""

import etude

PAPER = {
    "authors": "Siddarth Venkatraman, Moksh Jain, Luca Scimeca, Minsu Kim, Marcin Sendera, Mohsin Hasan, Luke Rowe, "
    "Sarthak Mittal, Pablo Lemos, Emmanuel Bengio, Alexandre Adam, Jarrid Rector-Brooks, Yoshua Bengio, Glen Berseth, Nikolay Malkin",
    "title": "Amortizing intractable inference in diffusion models for vision, language, and control",
    "venue": "NeurIPS",
    "year": 2024,
    "arxiv": "2405.20971",
}

_SMALL = {"n_steps": 5, "batch_size": 16, "hidden_dim": 16, "harmonics": 8, "steps": 3}

SAMPLERS = (
    ("rtb", "RelativeTrajectoryBalance", "RTB: fine-tune a diffusion prior to p_theta r^beta / Z with a learned log Z (prior: fit(..., prior=)).", _SMALL),
    ("rtb-vargrad", "RTBVarGrad", "RTB with relative VarGrad (batch-mean log Z).", _SMALL),
    ("rl-finetune", "RLFinetune", "REINFORCE on r with advantage r - mean r, no KL (the DDPO-like row).", _SMALL),
    ("rl-kl-finetune", "RLKLFinetune", "REINFORCE + 0.01 (sum log p_phi - sum log p_theta)^2 (the reference toy's KL term).", _SMALL),
)


@etude.hookimpl
def plugin_info():
    return {
        "paper": PAPER,
        "requires_core": ">=0.1",
        "docs": "Relative trajectory balance: asymptotically unbiased posterior sampling p_theta(x) r(x) / Z from any diffusion "
        "prior and black-box reward; Föllmer / Brownian / trained priors, RL and guidance baselines, an SIR reference.",
    }


@etude.hookimpl
def register_components(registry):
    base = "etude_rtb"
    for name, cls, summary, example in SAMPLERS:
        registry.add("sampler", name, f"{base}.sampler:{cls}", summary=summary, example=dict(example))
    registry.add("sampler", "guidance", f"{base}.guidance:Guidance",
                 summary="Classifier guidance on a diffusion prior (noisy / DPS / LGD-MC); no training, biased.",
                 example={"mode": "noisy", "n_steps": 5})


CLAIMS = (
    ("posterior-matches-sir", "posterior_matches_sir", ("smoke", "quick", "full"),
     "RTB fine-tuning makes the posterior process sample p_theta(x) r(x)^beta / Z and log Z_phi -> log Z (Prop. 1; "
     "Fig. 1: RTB recovers the reweighted modes). Here: mode weights and log Z against an SIR reference (paraphrased).",
     "Proposition 1, Figure 1",
     {"pilot_tv": [0.045, 0.050], "pilot_abs_delta_log_z": [0.07, 0.10], "pilot_log_z_sir": -0.856}),
    ("rl-without-kl-collapses", "rl_without_kl_collapses", ("smoke", "quick", "full"),
     "RL fine-tuning without a KL term reaches the highest reward but collapses (Table 2 DDPO row: highest E[log r], "
     "worst FID and diversity; Fig. 1) (paraphrased).",
     "Table 2 (DDPO row), Figure 1",
     {"ddpo_mnist_log_r": -1.5e-3, "ddpo_mnist_fid": 1.5822, "ddpo_mnist_diversity": 0.1350, "pilot_tv": 0.385, "pilot_log_r": 0.049}),
    ("kl-rl-and-guidance-biased", "kl_rl_and_guidance_biased", ("smoke", "quick", "full"),
     "RL with a KL penalty stays biased towards the prior and classifier guidance (DPS, LGD-MC) under-weights r: "
     "both miss the posterior that RTB matches (Fig. 1; Table 2) (paraphrased).",
     "Figure 1, Table 2 (DPOK, DPS, LGD-MC rows)",
     {"dpok_mnist_fid": 1.2063, "dps_mnist_fid": 1.2913, "lgdmc_mnist_fid": 1.2873, "rtb_mnist_fid": 1.1823}),
    ("classifier-guided-posterior", "classifier_guided_posterior", ("smoke", "full"),
     "RTB gives the best FID among classifier-guided posterior samplers; DDPO has the highest reward and the lowest "
     "diversity (Table 2). Here on 8x8 digits with features of the classifier (not Inception).",
     "Table 2",
     {"mnist_fid": {"rtb": 1.1823, "dpok": 1.2063, "dps": 1.2913, "lgd_mc": 1.2873, "ddpo": 1.5822},
      "cifar10_fid": {"rtb": 0.4717, "dpok": 0.5316}, "mnist_log_r": {"rtb": -0.1734, "ddpo": -1.5e-3, "dps": -2.1597}}),
    ("language-image-control", "language_image_control", ("full",),
     "RTB matches or beats DPOK on text-to-image ImageReward, improves story infilling with a SEDD prior, and reaches "
     "state of the art on D4RL medium-replay (Fig. 3, Tables 3-4) (paraphrased).",
     "Figure 3, Table 3, Table 4",
     {"sedd_bleu4": {"rtb": 0.025, "gfn_ar": 0.019}, "d4rl": {"hopper-medium-replay": 100.40, "walker2d-medium-replay": 93.57,
      "halfcheetah-medium-replay": 48.11}}),
)


@etude.hookimpl
def register_claims(registry):
    for name, attr, scales, statement, source, paper in CLAIMS:
        registry.add_claim(
            f"rtb/{name}", run=f"etude_rtb.claims:{attr}_run", judge=f"etude_rtb.claims:{attr}_judge",
            statement=statement, source=source, paper=paper, scales=scales,
            seeds={"smoke": 1, "quick": 3, "full": 5},
        )
