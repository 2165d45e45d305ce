"""Estimator behaviour: conformance, independence, invariances, input errors, the loss API."""

import math

import pytest
import torch

import etude
from etude.testing.conformance import EstimatorConformance
from etude_mine import MINE, NWJ, CorrelatedGaussians, InfoNCE, MINEf
from etude_mine.bounds import dv_bound


def _gaussian_data(seed, n=256, rho=0.8, d=2):
    g = torch.Generator().manual_seed(seed)
    return CorrelatedGaussians(dim=d, rho=rho).sample(n, g)


class _Small:
    def make_estimator(self):
        return self.create(hidden=16, batch_size=32)

    def make_data(self, seed):
        return _gaussian_data(seed)


class TestMINEConformance(_Small, EstimatorConformance):
    component = ("estimator", "mine")


class TestMINEfConformance(_Small, EstimatorConformance):
    component = ("estimator", "mine-f")


class TestNWJConformance(_Small, EstimatorConformance):
    component = ("estimator", "nwj")


class TestInfoNCEConformance(_Small, EstimatorConformance):
    component = ("estimator", "infonce")


def _fit_estimate(x, y, xt, yt, cls=MINE, steps=250, seed=0, **cfg):
    cfg = {"hidden": 32, "batch_size": 128, **cfg}
    return float(cls(seed=seed, **cfg).fit(x, y, steps=steps).estimate(xt, yt))


@pytest.fixture(scope="module")
def gaussian_1d():
    task = CorrelatedGaussians(dim=1, rho=0.8, n_train=16000, n_test=8000, seed=3)
    tr, te = task.split("train"), task.split("test")
    return task, tr.inputs, tr.targets, te.inputs, te.targets


def test_independent_variables_give_about_zero():
    task = CorrelatedGaussians(dim=2, rho=0.0, n_train=8000, n_test=8000, seed=1)
    tr, te = task.split("train"), task.split("test")
    for cls in (MINE, MINEf):
        assert abs(_fit_estimate(tr.inputs, tr.targets, te.inputs, te.targets, cls=cls, steps=150)) < 0.05


def test_mine_estimate_close_to_truth_and_symmetric(gaussian_1d):
    task, x, y, xt, yt = gaussian_1d
    true = task.mutual_information  # 0.51 nats
    a = _fit_estimate(x, y, xt, yt)
    b = _fit_estimate(y, x, yt, xt)
    assert abs(a - true) < 0.1
    assert abs(b - true) < 0.1
    assert abs(a - b) < 0.1


def test_invariance_to_invertible_per_variable_maps(gaussian_1d):
    task, x, y, xt, yt = gaussian_1d
    base = _fit_estimate(x, y, xt, yt)
    affine = _fit_estimate(3 * x + 1, y, 3 * xt + 1, yt)
    nonlinear = _fit_estimate(x * x.abs().sqrt(), torch.asinh(y), xt * xt.abs().sqrt(), torch.asinh(yt))
    # same MI; differences are estimation noise (seed-to-seed sd is about 0.02 nats here)
    assert abs(affine - base) < 0.1
    assert abs(nonlinear - base) < 0.1
    assert abs(nonlinear - task.mutual_information) < 0.12


def test_estimate_does_not_update_parameters(gaussian_1d):
    _, x, y, xt, yt = gaussian_1d
    est = MINE(hidden=8, batch_size=64, seed=0).fit(x, y, steps=5)
    before = [p.clone() for p in est.parameters()]
    ema_before = est.moving_average.value
    first = est.estimate(xt, yt)
    assert first.dim() == 0
    torch.testing.assert_close(est.estimate(xt, yt), first)
    for p, q in zip(before, est.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert est.moving_average.value == ema_before


def test_infonce_capped_and_dv_not(gaussian_1d):
    task = CorrelatedGaussians(dim=2, rho=0.98, n_train=8000, n_test=4000, seed=0)
    tr, te = task.split("train"), task.split("test")
    nce = InfoNCE(hidden=32, batch_size=4, seed=0).fit(tr.inputs, tr.targets, steps=200)
    assert float(nce.estimate(te.inputs, te.targets)) <= math.log(4) + 1e-6


def test_seeded_estimators_reproduce():
    x, y = _gaussian_data(0)
    a = MINE(hidden=8, batch_size=32, seed=5).fit(x, y, steps=10).estimate(x, y)
    b = MINE(hidden=8, batch_size=32, seed=5).fit(x, y, steps=10).estimate(x, y)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cls", [MINE, MINEf, NWJ, InfoNCE])
def test_bad_inputs_raise_clear_errors(cls):
    x, y = _gaussian_data(0, n=20)
    est = cls(hidden=8, batch_size=8)
    with pytest.raises(ValueError, match=r"same number.*x \(20, 2\).*y \(19, 2\)"):
        est.fit(x, y[:19], steps=1)
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="x contains NaN"):
        est.fit(bad, y, steps=1)
    bad[3, 1] = float("inf")
    with pytest.raises(ValueError, match="y contains inf"):
        est.fit(x, bad, steps=1)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        est.fit(x[:1], y[:1], steps=1)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        est.fit(x.reshape(20, 1, 2), y, steps=1)
    with pytest.raises(RuntimeError, match="call fit"):
        est.estimate(x, y)
    est.fit(x, y, steps=1)
    with pytest.raises(ValueError, match="3 features but the estimator was fitted with 2"):
        est.estimate(torch.randn(20, 3), y)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        est.estimate(x[:1], y[:1])
    with pytest.raises(ValueError, match="steps"):
        est.fit(x, y, steps=-1)


def test_config_errors_name_the_field():
    with pytest.raises(etude.ConfigError, match="ema_rate"):
        etude.create("estimator", "mine", ema_rate=0.0)
    with pytest.raises(etude.ConfigError, match="batch_size"):
        etude.create("estimator", "mine", batch_size=1)
    with pytest.raises(etude.ConfigError, match="critic"):
        etude.create("estimator", "nwj", critic="bilinear")


def test_lower_bound_is_a_differentiable_loss_for_a_user_model():
    torch.manual_seed(0)
    x, _ = _gaussian_data(0, n=64)
    encoder = torch.nn.Linear(2, 2)
    mine = MINE(hidden=8, batch_size=64, seed=0)
    z = encoder(x)
    value = mine.lower_bound(x, z)
    value.backward()
    assert encoder.weight.grad is not None and torch.isfinite(encoder.weight.grad).all()
    # objective: same forward value as the plain DV bound on the same re-pairing, updates the moving average
    assert math.isnan(mine.moving_average.value)
    mine.objective(x, z.detach())
    assert math.isfinite(mine.moving_average.value)


def test_fit_history_validation_and_early_stopping(gaussian_1d):
    _, x, y, xt, yt = gaussian_1d
    # held-out pairs that are independent: the estimate there cannot keep improving
    shuffled = yt[torch.randperm(len(yt), generator=torch.Generator().manual_seed(0))]
    est = MINE(hidden=8, batch_size=64, seed=0, eval_every=5, patience=2)
    est.fit(x, y, steps=200, validation=(xt, shuffled))
    assert len(est.history["bound"]) == est.steps_done < 200  # stopped early
    assert est.history["valid_step"][0] == 5
    assert float(est.estimate(xt, shuffled)) == pytest.approx(max(est.history["valid_mi"]), abs=1e-6)
    with pytest.raises(TypeError, match="validation"):
        est.fit(x, y, steps=1, validation=xt)


def test_critic_pairwise_matches_paired_scores():
    from etude_mine.critics import ConcatCritic, SeparableCritic

    torch.manual_seed(0)
    x, y = torch.randn(6, 2), torch.randn(6, 3)
    for critic in (ConcatCritic(2, 3, hidden=8), SeparableCritic(2, 3, hidden=8, embed_dim=4)):
        s = critic.pairwise(x, y)
        torch.testing.assert_close(s.diagonal(), critic(x, y))
        torch.testing.assert_close(s[1, 4], critic(x[1:2], y[4:5])[0])


def test_all_pairs_marginal_matches_shuffle_in_expectation():
    x, y = _gaussian_data(0, n=512)
    est = MINE(hidden=8, marginal="all-pairs", seed=0).fit(x, y, steps=3)
    with torch.no_grad():
        s = est.critic.pairwise(x, y)
        off = s[~torch.eye(512, dtype=torch.bool)]
        assert float(dv_bound(s.diagonal(), off)) == pytest.approx(float(est.estimate(x, y)), abs=0.05)


@pytest.mark.gpu
def test_mine_runs_on_cuda():
    x, y = _gaussian_data(0, n=2048, rho=0.9)
    est = MINE(hidden=32, batch_size=256, seed=0).to("cuda").fit(x, y, steps=200)
    value = est.estimate(x.cuda(), y.cuda())
    assert value.device.type == "cuda" and math.isfinite(float(value))
    assert next(est.critic.parameters()).device.type == "cuda"


@pytest.mark.parametrize("cls", [MINE, MINEf, NWJ, InfoNCE])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_lower_bound_rejects_non_finite_batches(cls, bad):
    """Issue 14, item 16: the Estimator contract's ValueError, not a NaN bound."""
    est = cls()
    x, y = torch.randn(16, 2), torch.randn(16, 3)
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"lower_bound: x contains (NaN|inf)"):
        est.lower_bound(x, y)
    with pytest.raises(ValueError, match=r"lower_bound: y contains"):
        est.lower_bound(torch.randn(16, 2), torch.full((16, 3), bad))
