"""Meta-training: sigma(gamma) moves toward the true direction; regret and optimiser options."""

import pytest
import torch

from etude_meta_transfer import TabularHypotheses, meta_train
from etude_meta_transfer.tasks import make_data_scm, sample_transfers

N = 4


def _runs(causes=("A", "B"), episodes=80, seed=0):
    trains, transfers = [], []
    for cause in causes:
        g = torch.Generator().manual_seed(seed)
        scm = make_data_scm(N, cause, g)
        v = scm.sample(3000, g)
        trains.append(torch.stack([v["A"], v["B"]], -1))
        transfers.append(sample_transfers(scm, cause, episodes, 20, g)[0].view(episodes, 2, 10, 2))
    return TabularHypotheses.mle(torch.stack(trains), N, pseudo_count=0.1), torch.stack(transfers)


def test_sigma_gamma_moves_toward_the_true_direction_on_a_hand_sized_example():
    h, x = _runs()
    out = meta_train(h, x, meta_lr=0.05)
    sig = torch.sigmoid(out["final_gamma"])
    assert sig[0] > 0.8 and sig[1] < 0.2, sig  # A -> B data: G1; role-swapped: G2
    # the role swap is an exact mirror: gamma_BA = -gamma_AB
    torch.testing.assert_close(out["final_gamma"][0], -out["final_gamma"][1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("regret", ["episode", "per-batch"])
@pytest.mark.parametrize("opt", ["rmsprop", "adam", "sgd"])
def test_every_regret_and_optimiser_moves_gamma_the_right_way(regret, opt):
    h, x = _runs(causes=("A",), episodes=40)
    out = meta_train(h, x, regret=regret, meta_optimizer=opt, meta_lr=0.05 if opt != "sgd" else 0.5)
    assert float(out["final_gamma"][0]) > 0.2


def test_per_batch_and_episode_regrets_differ_but_agree_in_direction():
    h, x = _runs(causes=("A",), episodes=40)
    a = meta_train(h, x, regret="episode", meta_optimizer="sgd", meta_lr=0.1)["gamma"]
    b = meta_train(h, x, regret="per-batch", meta_optimizer="sgd", meta_lr=0.1)["gamma"]
    assert not torch.equal(a, b) and float(a[0, -1]) > 0 and float(b[0, -1]) > 0


def test_bad_options_are_errors():
    h, x = _runs(causes=("A",), episodes=2)
    with pytest.raises(ValueError, match="regret"):
        meta_train(h, x, regret="both")
    with pytest.raises(ValueError, match="meta_optimizer"):
        meta_train(h, x, meta_optimizer="lbfgs")
    with pytest.raises(ValueError, match="transfers"):
        meta_train(h, x[0])


@pytest.mark.gpu
def test_cuda_batched_loop_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    h, x = _runs(episodes=50)
    cpu = meta_train(h, x)["gamma"]
    gpu = meta_train(h.to("cuda"), x.to("cuda"))["gamma"].cpu()
    torch.testing.assert_close(gpu, cpu, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name, cls", [("rmsprop", torch.optim.RMSprop), ("adam", torch.optim.Adam), ("sgd", torch.optim.SGD)])
def test_meta_optimizers_equal_torch_optim(name, cls):
    from etude_meta_transfer import MetaOptimizer

    gen = torch.Generator().manual_seed(0)
    grads = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    ref = cls([p], lr=0.03)
    ours, g = MetaOptimizer(name, 0.03), torch.zeros(4, dtype=torch.float64)
    for grad in grads:
        p.grad = grad.clone()
        ref.step()
        g = ours.step(g, grad)
    torch.testing.assert_close(g, p.detach(), rtol=0, atol=1e-13)
