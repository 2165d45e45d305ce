"""MALA local search, the replay buffer, the exploration schedule and metrics."""

import pytest
import torch

from etude_diffusion_samplers.exploration import ExplorationSchedule
from etude_diffusion_samplers.local_search import ReplayBuffer, mala
from etude_diffusion_samplers.metrics import mmd, mode_tv, modes_covered, wasserstein2
from etude_diffusion_samplers.targets import Gaussian


def test_mala_leaves_gaussian_invariant():
    target = Gaussian(dim=2, std=0.5, mean=1.0)
    x0 = target.sample((4000,), generator=torch.Generator().manual_seed(0))
    res = mala(x0, target, n_steps=60, burn_in=1, step_size=0.2, adaptive=False, generator=torch.Generator().manual_seed(1))
    x = res.final
    assert float(x.mean()) == pytest.approx(1.0, abs=0.02)
    assert float(x.var(0).mean()) == pytest.approx(0.25, rel=0.05)


def test_mala_uses_asymmetric_proposal_correction():
    # from a far start, with a big step, the chain still converges to the right variance only with MH correction
    target = Gaussian(dim=1, std=1.0)
    x0 = torch.randn(4000, 1, generator=torch.Generator().manual_seed(0)) * 3
    res = mala(x0, target, n_steps=150, burn_in=1, step_size=1.5, adaptive=False, generator=torch.Generator().manual_seed(2))
    assert float(res.final.var()) == pytest.approx(1.0, rel=0.08)
    assert 0.0 < sum(res.acceptance[-50:]) / 50 < 0.95


def test_mala_adapts_towards_target_acceptance():
    target = Gaussian(dim=4, std=1.0)
    x0 = target.sample((500,), generator=torch.Generator().manual_seed(0))
    res = mala(x0, target, n_steps=200, burn_in=100, step_size=1e-4, adaptive=True, generator=torch.Generator().manual_seed(1))
    assert res.step_size > 1e-2
    assert sum(res.acceptance[-100:]) / 100 == pytest.approx(0.574, abs=0.08)
    assert res.samples.shape[1] == 4 and res.samples.shape[0] == res.log_r.shape[0] > 0


def test_buffer_rank_weights_hand_computed():
    buf = ReplayBuffer(10, prioritization="rank", rank_k=0.01)
    log_r = torch.tensor([0.5, -1.0, 3.0, 2.0, 0.0])
    buf.add(torch.arange(5.0)[:, None], log_r)
    ranks = torch.tensor([2.0, 4.0, 0.0, 1.0, 3.0])
    raw = 1.0 / (0.01 * 5 + ranks)
    torch.testing.assert_close(buf.weights(), raw / raw.sum())
    x, lr = buf.sample(1000, torch.Generator().manual_seed(0))
    assert (x[:, 0] == 2.0).float().mean() > 0.7  # the best point dominates


def test_buffer_fifo_and_uniform():
    buf = ReplayBuffer(4, prioritization="uniform")
    buf.add(torch.arange(3.0)[:, None], torch.zeros(3))
    buf.add(torch.arange(3.0, 6.0)[:, None], torch.zeros(3))
    assert len(buf) == 4
    assert buf.x[:, 0].tolist() == [2.0, 3.0, 4.0, 5.0]
    torch.testing.assert_close(buf.weights(), torch.full((4,), 0.25))
    x, _ = buf.sample(7)
    assert x.shape == (7, 1)
    reward = ReplayBuffer(3, prioritization="reward", beta=1.0)
    reward.add(torch.zeros(3, 1), torch.log(torch.tensor([1.0, 2.0, 5.0])))
    torch.testing.assert_close(reward.weights(), torch.tensor([1.0, 2.0, 5.0]) / 8)
    with pytest.raises(RuntimeError, match="empty"):
        ReplayBuffer(2).sample(1)
    with pytest.raises(ValueError, match="prioritization"):
        ReplayBuffer(2, prioritization="best")


def test_exploration_schedule():
    s = ExplorationSchedule(0.2, 100)
    assert s(0) == 0.2 and s(50) == pytest.approx(0.1) and s(100) == 0 and s(1000) == 0
    assert ExplorationSchedule(0.3, 0)(10_000) == 0.3
    with pytest.raises(ValueError):
        ExplorationSchedule(-1.0, 0)


def test_metrics():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 2, generator=g)
    y = torch.randn(300, 2, generator=g)
    assert wasserstein2(x, x) == pytest.approx(0.0, abs=1e-9)
    assert wasserstein2(x, x + torch.tensor([3.0, 4.0])) == pytest.approx(5.0, rel=1e-6)
    assert abs(mmd(x, y)) < 0.02 and mmd(x, y + 3) > 0.3
    modes = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    assert modes_covered(x, modes) == 1 and mode_tv(x, modes) == pytest.approx(0.5)


def test_mode_metrics_with_an_off_mode_bin():
    from etude_diffusion_samplers.metrics import mode_weights, off_mode_fraction

    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    # 6 points near mode 0, 2 near mode 1, 2 far from both (nearest: mode 0 at distance 5)
    x = torch.tensor([[0.1, 0.0]] * 6 + [[10.0, 0.5]] * 2 + [[0.0, 5.0]] * 2)
    torch.testing.assert_close(mode_weights(x, modes), torch.tensor([0.8, 0.2]))
    torch.testing.assert_close(mode_weights(x, modes, radius=1.0), torch.tensor([0.6, 0.2]))
    assert off_mode_fraction(x, modes, radius=1.0) == pytest.approx(0.2)
    assert off_mode_fraction(x, modes) == 0.0
    # TV against equal weights: 0.5 (|0.6 - 0.5| + |0.2 - 0.5| + 0.2) = 0.3; without the radius 0.5 (0.3 + 0.3)
    assert mode_tv(x, modes, radius=1.0) == pytest.approx(0.3)
    assert mode_tv(x, modes) == pytest.approx(0.3)
    assert mode_tv(x, modes, torch.tensor([0.8, 0.2])) == pytest.approx(0.0, abs=1e-7)
    assert mode_tv(x, modes, torch.tensor([0.8, 0.2]), radius=1.0) == pytest.approx(0.2)
    assert modes_covered(x, modes, threshold=0.3) == 1
    assert modes_covered(x[6:], modes, radius=1.0) == 1  # the two far points hold no mode
    assert modes_covered(x[6:], modes) == 2
    with pytest.raises(ValueError, match="radius"):
        mode_weights(x, modes, radius=0.0)
