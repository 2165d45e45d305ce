"""Mechanisms: inverse-CDF categorical sampling (chi-square), closed-form MLE, the spline against scipy."""

import numpy as np
import pytest
import torch
from scipy import interpolate, stats

from etude_scm import (
    SCM,
    AdditiveNoise,
    CategoricalMLP,
    CategoricalTable,
    CausalGraph,
    CubicSpline,
    LinearGaussian,
    create_categorical_scm,
    not_a_knot_spline,
)


def test_categorical_samples_match_every_table_row():
    scm = create_categorical_scm("A->B", torch.Generator().manual_seed(0), num_categories=4)
    s = scm.sample(100_000, torch.Generator().manual_seed(1))
    pA = scm.mechanisms["A"].probs.detach().double().numpy()
    pB = scm.mechanisms["B"].probs.detach().double().numpy()
    pA, pB = pA / pA.sum(), pB / pB.sum(-1, keepdims=True)
    obs_a = np.bincount(s["A"].numpy(), minlength=4)
    assert stats.chisquare(obs_a, pA * obs_a.sum()).pvalue > 1e-3
    for a in range(4):
        rows = s["B"][s["A"] == a].numpy()
        obs = np.bincount(rows, minlength=4)
        assert stats.chisquare(obs, pB[a] * obs.sum()).pvalue > 1e-3


def test_inverse_cdf_is_exact_at_the_boundaries():
    m = CategoricalTable(3, logits=torch.tensor([0.2, 0.3, 0.5]).log())
    u = torch.tensor([0.0, 0.1999, 0.2001, 0.4999, 0.5001, 0.999999])
    assert m.sample([], u).tolist() == [0, 0, 1, 1, 2, 2]


def test_mle_of_both_directions_has_one_likelihood():
    scm = create_categorical_scm("A->B", torch.Generator().manual_seed(0), num_categories=5)
    scm = scm.to(torch.float64)
    data = scm.sample(5000, torch.Generator().manual_seed(2))
    fwd = create_categorical_scm("A->B", torch.Generator().manual_seed(5), num_categories=5).to(torch.float64)
    bwd = create_categorical_scm("B->A", torch.Generator().manual_seed(6), num_categories=5).to(torch.float64)
    fwd.fit_mle(data)
    bwd.fit_mle(data)
    ll_f, ll_b = float(fwd.log_prob(data).sum().detach()), float(bwd.log_prob(data).sum().detach())
    # independent reference: the empirical joint's log-likelihood, sum N(a, b) log(N(a, b) / N)
    counts = np.zeros((5, 5))
    np.add.at(counts, (data["A"].numpy(), data["B"].numpy()), 1)
    nz = counts[counts > 0]
    ref = float((nz * np.log(nz / counts.sum())).sum())
    assert abs(ll_f - ll_b) < 1e-10 * abs(ref) + 1e-10 and ll_f == pytest.approx(ref, rel=1e-12)


def test_mle_pseudo_count_and_unseen_rows():
    m = CategoricalTable(3, parent_categories=(2,), generator=torch.Generator().manual_seed(0)).double()
    m.fit_mle(torch.tensor([0, 0, 1]), [torch.tensor([0, 0, 0])], pseudo_count=1.0)
    torch.testing.assert_close(m.probs[0], torch.tensor([3 / 6, 2 / 6, 1 / 6], dtype=torch.float64))
    torch.testing.assert_close(m.probs[1], torch.full((3,), 1 / 3, dtype=torch.float64))


def test_linear_gaussian_fit_mle_recovers_parameters():
    g = CausalGraph(["A", "B"], [("A", "B")])
    true = SCM(g, {"A": LinearGaussian((), 1.0, 2.0), "B": LinearGaussian([-1.5], 0.5, 0.7)}).double()
    data = true.sample(50_000, torch.Generator().manual_seed(0))
    fit = SCM(g, {"A": LinearGaussian(), "B": LinearGaussian([0.0])}).double().fit_mle(data).requires_grad_(False)
    assert float(fit.mechanisms["B"].weight[0]) == pytest.approx(-1.5, abs=0.02)
    assert float(fit.mechanisms["B"].scale) == pytest.approx(0.7, abs=0.01)
    assert float(fit.mechanisms["A"].bias) == pytest.approx(1.0, abs=0.03)


def test_cubic_spline_equals_scipy_not_a_knot():
    g = torch.Generator().manual_seed(0)
    m = CubicSpline.random(span=8.0, num_anchors=10, generator=g).double()
    knots, values = m.knots.numpy(), m.values.detach().numpy()
    x = np.linspace(-10, 10, 2001)  # includes extrapolation on both ends
    ours = m.spline(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, interpolate.CubicSpline(knots, values)(x), atol=1e-8, rtol=0)
    tck = interpolate.splrep(knots, values, k=3, s=0)
    inside = np.abs(x) <= 8
    np.testing.assert_allclose(ours[inside], interpolate.splev(x[inside], tck), atol=1e-8, rtol=0)


def test_cubic_spline_gradcheck():
    knots = torch.linspace(-3, 3, 6, dtype=torch.float64)
    values = torch.randn(6, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    x = torch.tensor([-3.5, -1.3, 0.2, 2.9, 3.4], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v, t: not_a_knot_spline(knots, v, t), (values, x))


def test_additive_noise_with_a_module_and_a_laplace_noise():
    f = torch.nn.Linear(2, 1).double()
    m = AdditiveNoise(lambda a, b: f(torch.stack([a, b], -1)).squeeze(-1), num_parents=2, noise=0.5).double()
    pa = [torch.randn(7, dtype=torch.float64), torch.randn(7, dtype=torch.float64)]
    x = m.sample(pa, m.noise(7, torch.Generator().manual_seed(0)))
    ref = torch.distributions.Normal(f(torch.stack(pa, -1)).squeeze(-1), 0.5).log_prob(x)
    torch.testing.assert_close(m.log_prob(x, pa), ref)
    lap = AdditiveNoise(torch.sin, noise=torch.distributions.Laplace(torch.tensor(0.0), torch.tensor(2.0)))
    z = torch.linspace(-1, 1, 5)
    y = lap.sample([z], lap.noise(5, torch.Generator().manual_seed(0)))
    ref = torch.distributions.Laplace(torch.sin(z), 2.0).log_prob(y)
    torch.testing.assert_close(lap.log_prob(y, [z]), ref)


def test_categorical_mlp_deterministic_is_argmax_and_init_ranges():
    g = torch.Generator().manual_seed(0)
    m = CategoricalMLP(5, num_parents=2, hidden=12, gain=3.5, bias_range=2.1, generator=g, deterministic=True)
    pa = [torch.tensor([0, 1, 4]), torch.tensor([3, 3, 2])]
    logits = m._logits(pa)
    assert m.sample(pa, torch.rand(3)).tolist() == logits.argmax(-1).tolist()
    w = m.net[0].weight.detach()
    torch.testing.assert_close(w.T @ w, 3.5**2 * torch.eye(10), atol=1e-4, rtol=1e-4)  # orthogonal columns x gain
    assert float(m.net[0].bias.detach().abs().max()) <= 2.1
    assert m.conditional(pa).log_prob(logits.argmax(-1)).tolist() == pytest.approx([0.0] * 3, abs=1e-6)
    assert m.conditional(pa).log_prob((logits.argmax(-1) + 1) % 5).tolist() == [-float("inf")] * 3


def test_mechanism_errors():
    with pytest.raises(ValueError, match="'scale' must be a finite number > 0"):
        LinearGaussian([1.0], scale=0.0)
    with pytest.raises(ValueError, match="'logits' must have shape"):
        CategoricalTable(3, (2,), logits=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="has 1 parent"):
        LinearGaussian([1.0]).sample([], torch.zeros(2))
