"""Claims that reproduce at quick scale: run them with their fixed seeds and require ``holds``.

These are the paper claims this machine can check in about a minute each
(`make demo` runs the same experiments). Claims that do not hold, or cannot
be decided, at quick scale are reported honestly by `etude reproduce` and are
not listed here; each plugin's README says what they measured.
"""

from __future__ import annotations

import pytest

from etude.claims import reproduce

HOLD_AT_QUICK = {
    "a3t": ["a3t/improves-robustness", "a3t/compared-with-adversarial-training"],
    "amortized-posterior": ["amortized-posterior/reverse-kl-predictive"],
    "cka": ["cka/outlier-sensitivity", "cka/rbf-robust-to-outlier", "cka/linear-separability-transform",
            "cka/map-manipulation"],
    "compositional-attention": [
        "compositional-attention/retrieval-mechanism",
        "compositional-attention/parameter-efficiency",
    ],
    "corelnet": ["corelnet/ood-generalisation", "corelnet/partition-ablation", "corelnet/across-tasks"],
    "crosssplit": ["crosssplit/label-noise-robustness", "crosssplit/memorization", "crosssplit/noise-ratios"],
    "diffusion-samplers": ["diffusion-samplers/local-search-mode-coverage", "diffusion-samplers/langevin-in-high-dim"],
    "feature-alignment": ["feature-alignment/alignment-increases", "feature-alignment/random-labels-align-less"],
    "lazy-hasty": ["lazy-hasty/order-flip-diagonal"],
    "meta-transfer": [
        "meta-transfer/causal-model-adapts-faster",
        "meta-transfer/sparse-expected-gradient",
        "meta-transfer/structural-parameter-finds-cause",
    ],
    "mine": ["mine/gaussian-mi", "mine/bias-correction", "mine/beats-infonce-at-high-mi"],
    "mixupe": ["mixupe/mixup-beats-erm", "mixupe/directional-derivative-regularisation"],
    "relevancy-screening": ["relevancy-screening/gradient-propagation"],
    "rtb": ["rtb/posterior-matches-sir", "rtb/rl-without-kl-collapses", "rtb/kl-rl-and-guidance-biased"],
    "scm": [
        "scm/intervention-is-not-conditioning",
        "scm/sparse-mechanism-shift-is-local",
        "scm/causal-predictor-transfers",
    ],
    "spectral-bias": [
        "spectral-bias/low-frequencies-first",
        "spectral-bias/fourier-decay",
        "spectral-bias/manifold-helps-high-frequencies",
        "spectral-bias/low-frequencies-robust",
    ],
}


@pytest.mark.reproduction
@pytest.mark.parametrize("plugin", sorted(HOLD_AT_QUICK))
def test_claims_hold_at_quick_scale(plugin, tmp_path):
    results = reproduce([plugin], claims=HOLD_AT_QUICK[plugin], scale="quick", out=tmp_path, progress=False)
    assert sorted(r.id for r in results) == sorted(HOLD_AT_QUICK[plugin])
    for r in results:
        assert r.error is None, f"{r.id}: {r.error}"
        assert r.holds is True, f"{r.id} at quick scale: {r.verdict}, measured {r.metrics}"
