"""Every claim at smoke scale."""

import pytest

from etude.claims import run_claim
from etude_mine import claims


@pytest.mark.parametrize(
    "claim_id", ["mine/gaussian-mi", "mine/bias-correction", "mine/beats-infonce-at-high-mi", "mine/information-bottleneck"]
)
def test_claim_smoke(claim_id, tmp_path):
    out = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert out.error is None
    assert out.holds is None  # one seed, seconds of training: the experiments cannot decide at smoke
    assert out.metrics
    for path in out.figures:
        assert (tmp_path / path).exists()


def test_gradient_bias_of_plain_minibatch_is_measurable(tmp_path):
    """The mechanism behind mine/bias-correction at a tiny batch: the plain ratio gradient is biased."""
    import torch

    from etude_mine.estimators import MINE
    from etude_mine.tasks import CorrelatedGaussians

    task = CorrelatedGaussians(dim=2, rho=0.9, n_train=64 * 100, n_test=10, seed=0)
    tr = task.split("train")
    mine = MINE(hidden=32, batch_size=64, seed=0).fit(tr.inputs, tr.targets, steps=100)
    res = claims._gradient_bias(mine.critic, task, batch=4, n_batches=3000, pool=100_000, burn_in=300,
                                ema_rate=0.01, seed=0)
    assert res["bias_plain"] > res["bias_ema"]
    assert res["bias_plain"] > 3 * res["noise_plain"]
    del torch
