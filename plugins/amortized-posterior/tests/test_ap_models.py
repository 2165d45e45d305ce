"""The Pyro programs: log joints against plain formulas, conjugate posteriors, masks, simulation."""

import math

import pytest
import torch

from etude_amortized_posterior.models import (
    GaussianMean,
    GaussianMixture,
    LinearClassification,
    LinearRegression,
    NonlinearClassification,
    NonlinearRegression,
)

ALL = [GaussianMean(3), GaussianMixture(2), LinearRegression(3), LinearClassification(2),
       NonlinearRegression(1, hidden=8), NonlinearClassification(2, hidden=4)]


def _data(model, d=5, seed=0, n_min=4, n_max=12, n_query=6):
    return model.simulate(d, n_min=n_min, n_max=n_max, n_query=n_query, generator=torch.Generator().manual_seed(seed))


def _normal_logpdf(x, loc, var):
    return -0.5 * (x - loc) ** 2 / var - 0.5 * math.log(2 * math.pi * var)


def test_gm_log_joint_matches_plain_formula():
    m = GaussianMean(3)
    data = _data(m)
    theta = torch.randn(5, 3)
    prior = _normal_logpdf(theta, 0.0, 1.0).sum(-1)
    lik = (_normal_logpdf(data["x"], theta[:, None, :], 1.0).sum(-1) * data["mask"]).sum(-1)
    torch.testing.assert_close(m.log_joint(theta, data["x"], None, data["mask"]), prior + lik)


def test_lr_log_joint_matches_plain_formula():
    m = LinearRegression(2, noise_variance=0.25)
    data = _data(m)
    theta = torch.randn(5, 3)
    mean = (data["x"] * theta[:, None, :2]).sum(-1) + theta[:, None, 2]
    lik = (_normal_logpdf(data["y"], mean, 0.25) * data["mask"]).sum(-1)
    expected = _normal_logpdf(theta, 0.0, 1.0).sum(-1) + lik
    torch.testing.assert_close(m.log_joint(theta, data["x"], data["y"], data["mask"]), expected)


def test_nlr_mean_is_the_tanh_network():
    m = NonlinearRegression(2, hidden=3)
    theta = torch.randn(4, m.num_params)
    x = torch.randn(4, 5, 2)
    w, b, v = theta[:, :6].reshape(4, 2, 3), theta[:, 6:9], theta[:, 9:]
    expected = torch.einsum("dnh,dh->dn", torch.tanh(torch.einsum("dni,dih->dnh", x, w) + b[:, None]), v)
    torch.testing.assert_close(m.mean(theta, x), expected)
    assert NonlinearRegression(1, hidden=8).num_params == 24  # the brief's E1 BNN


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.name)
def test_trace_log_joint_equals_vectorised_log_likelihood(model):
    data = _data(model)
    theta = torch.randn(5, model.num_params)
    expected = model.prior().log_prob(theta) + model.log_likelihood(theta, data["x"], data["y"], data["mask"])
    torch.testing.assert_close(model.log_joint(theta, data["x"], data["y"], data["mask"]), expected)


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.name)
def test_masked_junk_observations_leave_log_joint_unchanged(model):
    data = _data(model)
    theta = torch.randn(5, model.num_params)
    base = model.log_joint(theta, data["x"], data["y"], data["mask"])
    junk_x = torch.cat([data["x"], 50 * torch.randn(5, 7, model.dim)], dim=1)
    junk_mask = torch.cat([data["mask"], torch.zeros(5, 7, dtype=torch.bool)], dim=1)
    junk_y = None
    if model.supervised:
        junk = torch.randint(0, 2, (5, 7)).to(data["y"]) if model.classification else 9 * torch.randn(5, 7)
        junk_y = torch.cat([data["y"], junk], dim=1)
    torch.testing.assert_close(model.log_joint(theta, junk_x, junk_y, junk_mask), base)


@pytest.mark.parametrize("model", [GaussianMean(4), LinearRegression(4), NonlinearRegression(4, hidden=3)],
                         ids=lambda m: m.name)
def test_zero_padded_parameter_dimensions_leave_likelihood_unchanged(model):
    data = model.simulate(3, feature_dims=(2, 2), generator=torch.Generator().manual_seed(0))
    fm = data["feature_mask"]
    assert fm.sum(-1).eq(2).all() and (data["x"][..., 2:] == 0).all()
    theta = torch.randn(3, model.num_params)
    moved = theta.clone()
    if model.name == "gaussian-mean":
        moved[:, 2:] += 5.0
    elif model.name == "linear-regression":
        moved[:, 2:4] += 5.0  # the weights of the two unused features (the bias is index 4)
    else:
        h = model.hidden
        moved[:, 2 * h : 4 * h] += 5.0  # input weights of features 3 and 4
    a = model.log_likelihood(theta, data["x"], data["y"], data["mask"], fm)
    b = model.log_likelihood(moved, data["x"], data["y"], data["mask"], fm)
    torch.testing.assert_close(a, b)
    c = model.log_likelihood(moved, data["x"] + 1.0, data["y"], data["mask"], fm)  # not a vacuous check
    assert not torch.allclose(a, c)


def test_gm_exact_posterior_is_the_closed_form():
    m = GaussianMean(2)
    data = _data(m, n_min=16, n_max=64)
    n = data["mask"].sum(-1, keepdim=True).float()
    q = m.exact_posterior(data["x"], None, data["mask"])
    torch.testing.assert_close(q.mean, (data["x"] * data["mask"][..., None]).sum(1) / (n + 1))
    torch.testing.assert_close(q.variance, (1 / (n + 1)).expand(-1, 2))


@pytest.mark.parametrize("model", [GaussianMean(2), LinearRegression(2)], ids=lambda m: m.name)
def test_log_joint_minus_exact_log_posterior_is_constant_in_theta(model):
    """log p(theta, D) - log p(theta | D) = log p(D) for every theta: the posterior is exact."""
    data = _data(model)
    q = model.exact_posterior(data["x"], data["y"], data["mask"])
    thetas = 2 * torch.randn(6, 5, model.num_params)
    diffs = torch.stack([model.log_joint(t, data["x"], data["y"], data["mask"]) - q.log_prob(t) for t in thetas])
    torch.testing.assert_close(diffs, diffs[:1].expand_as(diffs), rtol=0, atol=1e-3)


def test_lr_exact_posterior_matches_gaussian_conditioning():
    """Woodbury-free reference: theta | y from the joint Gaussian of (theta, y = Phi theta + eps)."""
    m = LinearRegression(2, noise_variance=0.25)
    data = _data(m, d=3, n_min=10, n_max=10)
    q = m.exact_posterior(data["x"], data["y"], data["mask"])
    for i in range(3):
        phi = torch.cat([data["x"][i], torch.ones(10, 1)], dim=1).double()
        k = phi @ phi.T + 0.25 * torch.eye(10, dtype=torch.float64)
        mean = phi.T @ torch.linalg.solve(k, data["y"][i].double())
        cov = torch.eye(3, dtype=torch.float64) - phi.T @ torch.linalg.solve(k, phi)
        torch.testing.assert_close(q.mean[i].double(), mean, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(q.covariance_matrix[i].double(), cov, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("model", ALL, ids=lambda m: m.name)
def test_simulate_shapes_and_determinism(model):
    a, b = _data(model, seed=3), _data(model, seed=3)
    assert a["x"].shape == (5, 12, model.dim) and a["mask"].shape == (5, 12)
    assert a["theta"].shape == (5, model.num_params)
    assert a["x_query"].shape == (5, 6, model.dim)
    lengths = a["mask"].sum(-1)
    assert ((lengths >= 4) & (lengths <= 12)).all()
    assert (a["x"][~a["mask"]] == 0).all()
    torch.testing.assert_close(a["x"], b["x"])
    if model.supervised:
        torch.testing.assert_close(a["y"], b["y"])
    assert not torch.equal(a["x"], _data(model, seed=4)["x"])


def test_simulated_lr_targets_follow_the_model():
    m = LinearRegression(2, noise_variance=0.25)
    data = m.simulate(400, n_min=50, n_max=50, n_query=0, generator=torch.Generator().manual_seed(0))
    resid = data["y"] - m.mean(data["theta"], data["x"])
    assert abs(float(resid.var()) - 0.25) < 0.01
    assert abs(float(data["theta"].var()) - 1.0) < 0.1


def test_gmm_closest_mean_prediction():
    m = GaussianMixture(1)
    theta = torch.tensor([[-3.0, 3.0]])
    x = torch.tensor([[[-2.0], [4.0]]])
    assert m.predict(theta, x).flatten().tolist() == [-3.0, 3.0]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"x": torch.full((2, 3, 2), float("nan"))}, "NaN"),
        ({"mask": torch.ones(2, 4, dtype=torch.bool)}, "mask must have shape"),
        ({"mask": torch.zeros(2, 3, dtype=torch.bool)}, "every observation"),
        ({"y": torch.zeros(2, 5)}, "y must have shape"),
    ],
)
def test_clear_errors(kwargs, match):
    m = LinearRegression(2)
    args = {"x": torch.randn(2, 3, 2), "y": torch.randn(2, 3), "mask": torch.ones(2, 3, dtype=torch.bool)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        m.log_joint(torch.zeros(2, 3), args["x"], args["y"], args["mask"])


def test_simulated_gm_observations_follow_theta():
    m = GaussianMean(2)
    data = m.simulate(300, n_min=40, n_max=40, n_query=10, generator=torch.Generator().manual_seed(0))
    resid = data["x"] - data["theta"][:, None, :]
    assert abs(float(resid.var()) - 1.0) < 0.05
    q_resid = data["x_query"] - data["theta"][:, None, :]
    assert abs(float(q_resid.var()) - 1.0) < 0.05
