"""Learning times, Spearman with infinite ties, power iteration, and the trackers' hooks."""

import math

import pytest
import torch
from scipy import stats

from etude_spectral_bias import (SpectralNormTracker, SpectrumTracker, learning_order, learning_times, power_iteration,
                                 rankdata, spearman)

INF = math.inf


def test_learning_times_on_hand_made_curves():
    iterations = [0, 25, 50, 75]
    magnitudes = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.1, 0.2], [0.9, 0.49, 0.7], [1.0, 0.6, 0.3]])
    # threshold reached exactly at 0.5 counts; dipping below later does not undo a learning time
    assert learning_times(iterations, magnitudes) == [25.0, 75.0, 50.0]
    assert learning_times(iterations, magnitudes, threshold=0.95) == [75.0, INF, INF]
    with pytest.raises(ValueError, match="4 records"):
        learning_times(iterations, magnitudes[:3])


def test_ranks_give_ties_and_infinities_their_average_rank():
    assert rankdata([10.0, INF, 10.0, 5.0, INF]).tolist() == [2.5, 4.5, 2.5, 1.0, 4.5]
    with pytest.raises(ValueError, match="NaN"):
        rankdata([1.0, float("nan")])


@pytest.mark.parametrize("times", [
    [100, 400, INF, INF, INF],
    [300, 100, 900, INF, 200],
    [50, 50, 50, 700, INF],
    [INF, 1200, 600, 300, 100],
])
def test_spearman_matches_scipy_with_infinities_tied(times):
    k = [5, 10, 15, 20, 25]
    want = stats.spearmanr(k, times).statistic  # scipy ranks inf as the largest value, ties averaged
    assert abs(learning_order(k, times) - want) < 1e-9


def test_learning_order_extremes():
    assert learning_order([5, 10, 15], [100, 200, 300]) == 1.0
    assert learning_order([5, 10, 15], [300, 200, 100]) == -1.0
    # hand value: ranks of t = (1, 2, 3.5, 3.5) against (1, 2, 3, 4): rho = 4.5 / sqrt(5 * 4.5)
    assert abs(learning_order([5, 10, 15, 20], [1, 2, INF, INF]) - 4.5 / math.sqrt(22.5)) < 1e-12
    assert math.isnan(learning_order([5, 10, 15], [INF, INF, INF]))  # nothing learned: undefined
    assert spearman([1, 2, 3, 4], [10, 20, 40, 30]) == pytest.approx(0.8)


@pytest.mark.parametrize("shape", [(64, 64), (128, 32), (1, 50), (40, 1)])
def test_power_iteration_matches_the_matrix_2_norm(shape):
    g = torch.Generator().manual_seed(sum(shape))
    w = torch.randn(*shape, generator=g)
    sigma, v = power_iteration(w, n_iter=200, generator=g)
    want = float(torch.linalg.matrix_norm(w, ord=2))
    assert abs(sigma - want) < 1e-3 * want
    sigma2, _ = power_iteration(w, v, n_iter=1)  # warm start: already converged
    assert abs(sigma2 - want) < 1e-3 * want


def test_power_iteration_is_not_the_eigenvalue_of_a_non_symmetric_matrix():
    w = torch.tensor([[1.0, 10.0], [0.0, 1.0]])  # eigenvalues 1, 1; spectral norm ~10.1
    assert abs(power_iteration(w, n_iter=100)[0] - float(torch.linalg.matrix_norm(w, ord=2))) < 1e-3


class _State:
    """The attributes of the supervised loop's TrainState the trackers read."""

    def __init__(self, model, x, info):
        self.model, self.device, self.step = model, torch.device("cpu"), 0
        self.data, self.info = {"train": (x, None)}, info


class _Sine(torch.nn.Module):
    """f(t) = a sin(2 pi 5 t) + b sin(2 pi 10 t) with trainable amplitudes."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.0))
        self.b = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        t = x[:, :1].double()
        return (self.a * torch.sin(2 * math.pi * 5 * t) + self.b * torch.sin(2 * math.pi * 10 * t)).float()


def test_spectrum_tracker_records_normalised_amplitudes_and_learning_times():
    x = (torch.arange(100) / 100.0)[:, None]
    model = _Sine()
    state = _State(model, x, {"frequencies": [5, 10], "amplitudes": [1.0, 2.0]})
    tracker = SpectrumTracker(every=10)
    tracker.on_train_start(state)
    for step in range(35):
        state.step = step
        with torch.no_grad():  # a hand-made "training": a ramps up fast, b slowly
            model.a.fill_(min(1.0, step / 10))
            model.b.fill_(min(2.0, step / 20))
        tracker.on_batch_start(state, None)
    state.step = 35
    tracker.on_train_end(state)
    assert tracker.iterations == [0, 10, 20, 30, 35]
    torch.testing.assert_close(tracker.magnitudes[:, 0], torch.tensor([0.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64),
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(tracker.magnitudes[:, 1], torch.tensor([0.0, 0.25, 0.5, 0.75, 0.85], dtype=torch.float64),
                               atol=1e-6, rtol=0)
    assert tracker.learning_times() == [10.0, 20.0]
    assert model.training  # the tracker restores the mode


def test_spectral_norm_tracker_follows_each_linear_layer():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 1))
    state = _State(net, None, {})
    tracker = SpectralNormTracker(every=5, n_iter=3)
    tracker.on_train_start(state)
    for step in range(11):
        state.step = step
        with torch.no_grad():
            net[2].weight.mul_(1.01)
        tracker.on_batch_start(state, None)
    state.step = 11
    tracker.on_train_end(state)
    assert tracker.iterations == [0, 5, 10, 11]
    want = [float(torch.linalg.matrix_norm(m.weight.detach(), ord=2)) for m in net if isinstance(m, torch.nn.Linear)]
    assert tracker.norms.shape == (4, 3)
    torch.testing.assert_close(tracker.norms[-1], torch.tensor(want, dtype=torch.float64), rtol=1e-3, atol=0)


def test_trackers_reject_bad_settings():
    with pytest.raises(ValueError, match="every"):
        SpectrumTracker(every=0)
    tracker = SpectrumTracker()
    with pytest.raises(ValueError, match="frequencies"):
        tracker.on_train_start(_State(torch.nn.Linear(1, 1), torch.zeros(10, 1), {}))
    with pytest.raises(RuntimeError, match="no records"):
        SpectrumTracker(frequencies=[1]).learning_times()
