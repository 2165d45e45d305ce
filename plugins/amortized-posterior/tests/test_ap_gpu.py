"""The CUDA path (run with ``make gpu-test`` on a machine with a GPU)."""

import pytest
import torch

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("encoder,head", [("transformer", "gaussian"), ("deepsets", "flow"), ("gru", "gaussian")])
def test_fit_and_estimate_on_cuda(encoder, head):
    from etude_amortized_posterior.estimator import AmortizedPosterior

    opts = {"hidden": 16, "out_features": 16}
    if encoder == "transformer":
        opts.update(num_heads=2, layers=1)
    est = AmortizedPosterior(task="bayes-nonlinear-regression", task_options={"dim": 1, "hidden": 8}, encoder=encoder,
                             encoder_options=opts, head=head, head_options={"hidden": 16, "num_layers": 2},
                             batch_size=8, kl="monte-carlo").to("cuda")
    est.fit(steps=3)
    data = est.task.simulate(4, torch.Generator().manual_seed(0))
    q = est.estimate(data["x"].cuda(), data["y"].cuda(), data["mask"].cuda())
    sample = q.rsample((2,))
    assert sample.device.type == "cuda" and sample.shape == (2, 4, 24)
    assert torch.isfinite(q.log_prob(sample)).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_reverse_kl_claim_smoke_on_cuda():
    from etude.claims import SeedContext
    from etude_amortized_posterior.claims import reverse_kl_predictive_run

    out = reverse_kl_predictive_run(SeedContext(claim_id="amortized-posterior/reverse-kl-predictive", scale="smoke",
                                                seed=0, device="cuda"))
    assert out["l2_prior"] > 0
