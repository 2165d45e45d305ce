"""The fit through the core's supervised loop, every claim at smoke scale, and the judges' rules on hand-made runs."""

import math

import pytest
import torch

import etude
from etude.claims import JudgeContext, run_claim
from etude_spectral_bias import SpectrumTracker, SumOfSinusoids, claims, fit, supervised_procedure

CLAIMS = ["spectral-bias/low-frequencies-first", "spectral-bias/fourier-decay",
          "spectral-bias/manifold-helps-high-frequencies", "spectral-bias/low-frequencies-robust"]


def test_every_issue_claim_is_registered():
    ids = {c.id for c in etude.get_registry().claims() if c.plugin == "spectral-bias"}
    assert ids == set(CLAIMS)


def test_fit_learns_the_lowest_frequency_first():
    task = SumOfSinusoids(frequencies=(2, 20), seed=0)
    net, tracker = fit(task, width=64, depth=3, lr=3e-3, iterations=300, seed=0, every=25)
    assert tracker.iterations[0] == 0 and tracker.iterations[-1] == 300
    assert tracker.magnitudes.shape == (13, 2)
    t_low, t_high = tracker.learning_times()
    assert math.isfinite(t_low) and t_low < t_high
    # the tracker's last record is the trained network's spectrum on the grid
    f = net(task.split("train").inputs)[:, 0].detach().double()
    torch.testing.assert_close(tracker.magnitudes[-1], 2 * torch.fft.rfft(f).abs()[[2, 20]] / 200, atol=1e-6, rtol=0)


def test_tracker_reads_the_core_sine_regression_task():
    # any regression task whose train split is a grid in order and whose info names frequencies / amplitudes
    task = etude.create("task", "sine-regression", frequencies=(2, 20), amplitudes=(1.0, 0.5), seed=0)
    tracker = SpectrumTracker(every=50)
    supervised_procedure(width=32, depth=2, lr=3e-3, iterations=100).run(task, seed=0, callbacks=[tracker])
    assert tracker.frequencies == [2, 20] and tracker.amplitudes == [1.0, 0.5]
    assert tracker.iterations == [0, 50, 100] and tracker.magnitudes.shape == (3, 2)


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claims_run_at_smoke(claim_id, tmp_path):
    result = run_claim(claim_id, scale="smoke", out=tmp_path)
    assert result.error is None, result.error
    assert result.holds in (True, False, None)
    assert result.figures and all(str(p).endswith(".png") for p in result.figures)
    if claim_id == "spectral-bias/fourier-decay":  # seconds of work, and the slope rule already decides at smoke
        assert result.holds is True, result.metrics
        assert result.metrics["max_slope"] <= -1.5
        assert -1.1 < result.metrics["slope_raw_64x2_untrained"] < -0.9


def _judge(name, runs, seeds=None):
    ctx = JudgeContext(claim_id=f"spectral-bias/{name}", scale="quick", seeds=seeds or list(range(len(runs))),
                       out_dir="/tmp/etude-spectral-bias-judge-test")
    return getattr(claims, name.replace("-", "_") + "_judge")(ctx, runs)


def _first_run(times, rho_mag=-1.0):
    k = [5, 10, 15, 20, 25]
    finite = [math.inf if t is None else t for t in times]
    return {"frequencies": k, "learning_times": times, "spearman_time": claims.spearman(k, finite),
            "spearman_magnitude": rho_mag, "iterations": [0, 25], "magnitudes": [[0.0] * 5, [1.0] * 5]}


def test_low_frequencies_first_rule():
    good = [_first_run([275, 900, 2200, 7100, None]), _first_run([525, 2025, None, None, None])]
    assert _judge("low-frequencies-first", good).holds is True
    reversed_ = [_first_run([None, 7100, 2200, 900, 275])] * 2
    assert _judge("low-frequencies-first", reversed_).holds is False
    # k = 5 after k = 15 on one seed: not "holds", and the mean Spearman is still positive: inconclusive
    mixed = good[:1] + [_first_run([900, 300, 600, None, None])]
    assert _judge("low-frequencies-first", mixed).holds is None
    assert _judge("low-frequencies-first", [_first_run([None] * 5)] * 2).holds is None


def test_low_frequencies_robust_rule_picks_the_delta_in_range():
    def run(rhos):
        rows = [{"noise": "relative", "delta": d, "retention": ret, "magnitude_ratio": ret, "spearman": r}
                for d, ret, r in zip((0.03, 0.05, 0.1), ([0.95] * 3, [0.7] * 3, [0.1] * 3), rhos)]
        rows += [{"noise": "global", "delta": d, "retention": [1.0] * 3, "magnitude_ratio": [1.0] * 3, "spearman": 0.0}
                 for d in (0.5, 1.0, 2.0)]
        return {"frequencies": [2, 4, 6], "rows": rows}

    out = _judge("low-frequencies-robust", [run([0.5, -0.9, 1.0]), run([0.5, -1.0, 1.0]), run([0.5, -0.8, 1.0])])
    assert out.metrics["delta_used"] == 0.05 and out.holds is True
    out = _judge("low-frequencies-robust", [run([0.0, 0.9, 0.0]), run([0.0, 1.0, 0.0]), run([0.0, 0.8, 0.0])])
    assert out.holds is False


@pytest.mark.gpu
def test_fit_and_tracker_on_cuda():
    task = SumOfSinusoids(frequencies=(2, 20), seed=0)
    net, tracker = fit(task, width=64, depth=3, lr=3e-3, iterations=100, seed=0, device="cuda", every=25)
    assert next(net.parameters()).is_cuda and tracker.magnitudes.shape == (5, 2)
    assert torch.isfinite(tracker.magnitudes).all()
