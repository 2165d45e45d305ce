"""CKA maps and hooks, the paper's manipulations, CKA-map training, and every claim at smoke scale."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import etude
from etude.claims import run_claim
from etude.data import Digits
from etude.testing.conformance import ProcedureConformance
from etude_cka import (
    AccuracyToleranceScheduler,
    CKAMapLoss,
    DebiasedCKA,
    LinearCKA,
    RBFCKA,
    cka_map,
    compare_networks,
    invertible_linear_map,
    log_cosh,
    plot_cka_map,
    random_direction,
    record_activations,
    target_map,
    translate_outlier,
    translate_subset,
    translation_limit,
)


def _digits(seed):
    """The map-manipulation claim's task: standardised digits with a val split (15%) and a test split (25%)."""
    return Digits(seed=seed, val_fraction=0.15, standardize=True)

torch.set_num_threads(1)


def mlp(seed, widths=(6, 8, 8, 3)):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers)


# -- hooks and maps ------------------------------------------------------------------------------
def test_record_activations_removes_hooks_and_flattens():
    net = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    with record_activations(net, ["1", net[3]]) as acts:
        net(torch.randn(5, 1, 8))
    assert {k: tuple(v.shape) for k, v in acts.items()} == {"1": (5, 12), "3": (5, 2)}
    assert not acts["1"].requires_grad
    assert all(not m._forward_hooks for m in net.modules())
    with pytest.raises(ValueError, match="no sub-module named 'nope'"):
        with record_activations(net, ["nope"]):
            pass


def test_cka_map_matches_pairwise_metric_calls():
    g = torch.Generator().manual_seed(0)
    acts = [torch.randn(40, d, generator=g, dtype=torch.float64) for d in (3, 5, 7)]
    acts[1] = acts[1] + acts[0] @ torch.randn(3, 5, generator=g, dtype=torch.float64)
    other = [acts[2], acts[0]]
    for metric in (LinearCKA(), DebiasedCKA(), RBFCKA()):
        M = cka_map(acts, other, metric)
        expected = torch.stack([torch.stack([metric(a, b) for b in other]) for a in acts])
        torch.testing.assert_close(M, expected)
    S = cka_map(acts, metric=DebiasedCKA())
    torch.testing.assert_close(S, S.T)
    torch.testing.assert_close(S.diagonal(), torch.ones(3, dtype=torch.float64))


def test_cka_map_errors():
    with pytest.raises(ValueError, match="same examples"):
        cka_map([torch.randn(10, 3), torch.randn(9, 3)])
    with pytest.raises(ValueError, match="empty"):
        cka_map([])
    with pytest.raises(ValueError, match="zero variance"):
        cka_map([torch.randn(10, 3), torch.ones(10, 3)])


def test_compare_networks_full_and_minibatch():
    a, b = mlp(0), mlp(1)
    x = torch.randn(600, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    layers = ["1", "3", "5"]
    full = compare_networks(a, b, x, layers, layers, metric=DebiasedCKA())
    mini = compare_networks(a, b, x, layers, layers, batch_size=200)
    assert full.shape == mini.shape == (3, 3)
    torch.testing.assert_close(mini.float(), full, atol=0.05, rtol=0)
    self_map = compare_networks(a, a, x, layers, layers)
    torch.testing.assert_close(self_map.diagonal(), torch.ones(3), atol=1e-5, rtol=0)
    fig = plot_cka_map(full, labels_a=layers, labels_b=layers)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="batch_size"):
        compare_networks(a, b, x, layers, layers, batch_size=2)


# -- manipulations --------------------------------------------------------------------------------
def test_translate_subset_moves_only_the_subset():
    X = torch.randn(10, 4, dtype=torch.float64)
    v = torch.tensor([0.0, 3.0, 0.0, 4.0], dtype=torch.float64)
    Z = translate_subset(X, [2, 5], 10.0, v)
    moved = torch.zeros(10, dtype=torch.bool)
    moved[[2, 5]] = True
    torch.testing.assert_close(Z[~moved], X[~moved])
    torch.testing.assert_close(Z[moved] - X[moved], (2.0 * v).expand(2, 4))
    with pytest.raises(ValueError, match="between 1 and n-1"):
        translate_subset(X, torch.ones(10, dtype=torch.bool), 1.0)
    with pytest.raises(ValueError, match="zero vector"):
        translate_subset(X, [0], 1.0, torch.zeros(4))
    with pytest.raises(ValueError, match="indices"):
        translate_outlier(X, 1.0, index=10)


def test_random_direction_is_orthogonal_unit():
    axis = torch.zeros(7, 1, dtype=torch.float64)
    axis[0] = 1.0
    v = random_direction(7, orthogonal_to=axis, generator=torch.Generator().manual_seed(0))
    assert float(v.norm()) == pytest.approx(1.0) and abs(float(v[0])) < 1e-12


@pytest.mark.parametrize("subset", [[0], list(range(30))])
def test_translation_converges_to_closed_form_limit(subset):
    g = torch.Generator().manual_seed(1)
    X = torch.randn(120, 6, generator=g, dtype=torch.float64)
    limit = float(translation_limit(X, subset))
    values = [float(LinearCKA()(X, translate_subset(X, subset, c, generator=torch.Generator().manual_seed(2))))
              for c in (1e2, 1e4, 1e6)]
    assert abs(values[-1] - limit) / limit < 1e-3  # the gap closes like 1/c
    assert abs(values[1] - limit) / limit < 0.05
    # the limit does not depend on the direction
    other = float(LinearCKA()(X, translate_subset(X, subset, 1e6, generator=torch.Generator().manual_seed(9))))
    assert other == pytest.approx(limit, rel=1e-3)


def test_one_outlier_limit_is_near_zero_but_rbf_is_robust():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 10, generator=g, dtype=torch.float64)
    Z = translate_outlier(X, 1e5, generator=g)
    assert float(LinearCKA()(X, Z)) < 0.05
    assert float(RBFCKA()(X, Z)) > 0.95


def test_invertible_map_preserves_rank():
    A = invertible_linear_map(5, mean=1.0, std=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.linalg.matrix_rank(A) == 5
    with pytest.raises(ValueError, match="std"):
        invertible_linear_map(3, std=0.0)


# -- map training pieces ------------------------------------------------------------------------------
def test_targets_log_cosh_and_scheduler():
    torch.testing.assert_close(target_map("identity", 3), torch.eye(3))
    assert float(target_map("ones", 3).min()) == 1.0
    single = target_map("single-one", 4)
    assert single[0, 3] == single[3, 0] == 1 and single[0, 1] == 0
    with pytest.raises(ValueError, match="unknown target"):
        target_map("goblin", 3)
    x = torch.tensor([0.0, 0.3, -2.0, 50.0], dtype=torch.float64)
    assert float(log_cosh(x)) == pytest.approx(float(torch.log(torch.cosh(x)).mean()), rel=1e-12)
    sched = AccuracyToleranceScheduler(500.0, reference=95.0, tolerance=1.0, factor=0.8)
    assert sched.step(94.5) == pytest.approx(625.0)  # within tolerance: alpha / 0.8
    assert sched.step(93.0) == pytest.approx(500.0)  # fell > 1 point: alpha * 0.8


def test_map_loss_gradient_moves_map_towards_target():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(64, 5, generator=g)
    A = base.clone().requires_grad_(True)
    B = (base @ torch.randn(5, 5, generator=g)).requires_grad_(True)
    loss_fn = CKAMapLoss(alpha=1.0, distance="mse")
    opt = torch.optim.SGD([A, B], lr=5.0)
    first = None
    for _ in range(30):
        opt.zero_grad()
        total, parts = loss_fn(torch.tensor(0.0), [A, B], torch.eye(2))
        first = float(parts["cka"][0, 1]) if first is None else first
        total.backward()
        opt.step()
    assert float(parts["cka"][0, 1]) < first - 0.2


class TestCKAMapTrainingConformance(ProcedureConformance):
    component = ("procedure", "cka-map-training")

    def make_procedure(self):
        return self.create(hidden_sizes=[16, 16], pretrain_epochs=1, map_epochs=1, batch_size=256)

    def make_task(self):
        return _digits(0)


def test_map_training_moves_the_map_and_uses_given_model_and_target():
    proc = etude.create("procedure", "cka-map-training", pretrain_epochs=8, map_epochs=6, target="ones",
                        batch_size=128, alpha=5.0, distance="mse", schedule=False)
    result = proc.run(_digits(1), seed=0)
    m = result.metrics
    assert all(math.isfinite(v) for v in m.values())
    assert m["map_error_after"] < m["map_error_before"]  # the map moved towards all-ones
    assert len(result.history["alpha"]) == 6 and set(result.history["alpha"]) == {5.0}
    net = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 10))
    res = etude.create("procedure", "cka-map-training", pretrain_epochs=1, map_epochs=1).run(
        _digits(0), model=net, layers=["1", "3"], target_map=torch.eye(2))
    assert res.info["layers"] == ["1", "3"] and res.models["model"] is net
    with pytest.raises(ValueError, match="target_map must be"):
        etude.create("procedure", "cka-map-training", pretrain_epochs=0, map_epochs=1).run(
            _digits(0), model=net, layers=["1", "3"], target_map=torch.eye(3))


# -- claims at smoke scale ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "claim_id", ["cka/outlier-sensitivity", "cka/rbf-robust-to-outlier", "cka/linear-separability-transform"]
)
def test_algebraic_claims_hold_at_smoke(tmp_path, claim_id):
    result = run_claim(claim_id, scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None and result.holds is True, result.metrics
    assert result.figures and all(p.endswith(".png") and (tmp_path / p).exists() for p in result.figures)


def test_outlier_claim_numbers(tmp_path):
    m = run_claim("cka/outlier-sensitivity", scale="smoke", seeds=[1], out=tmp_path).metrics
    assert m["linear_cka_c=0"] == pytest.approx(1.0)
    assert m["linear_cka_c=10"] > 0.95 > 0.05 > m["linear_cka_c=10000"]
    assert m["limit_relative_error_c1e5"] < 0.01
    assert m["readout_accuracy_change"] == 0.0


def test_map_manipulation_smoke_is_inconclusive(tmp_path):
    result = run_claim("cka/map-manipulation", scale="smoke", seeds=[0], out=tmp_path)
    assert result.error is None and result.holds is None
    assert math.isfinite(result.metrics["offdiag_cka_after"]) and result.figures


def test_every_issue_claim_is_registered():
    ids = {c.id for c in etude.get_registry().claims() if c.plugin == "cka"}
    assert ids == {"cka/outlier-sensitivity", "cka/rbf-robust-to-outlier", "cka/map-manipulation",
                   "cka/linear-separability-transform"}


@pytest.mark.gpu
def test_map_training_on_cuda():
    res = etude.create("procedure", "cka-map-training", pretrain_epochs=1, map_epochs=1).run(_digits(0), device="cuda")
    assert all(math.isfinite(v) for v in res.metrics.values())


def test_map_training_distillation_variant_runs():
    res = etude.create("procedure", "cka-map-training", hidden_sizes=[16, 16], pretrain_epochs=2, map_epochs=1,
                       task_loss="distillation", distance="mse").run(_digits(0), seed=0)
    assert all(math.isfinite(v) for v in res.metrics.values())
    assert len(res.history["task_loss"]) == 1
