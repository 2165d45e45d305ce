"""Rotation encoder and the encoder experiment: rotation algebra, functional fine-tuning, dR/dtheta by FD."""

import math

import pytest
import torch

import etude
from etude.testing.conformance import ModelConformance
from etude_meta_transfer.continuous import MixtureDensityNetwork
from etude_meta_transfer.encoder import RotationEncoder, angle_to_solution, rotation_matrix, solution_index
from etude_meta_transfer.regret import regret_grad
from etude_meta_transfer.representation import (
    encoder_meta_train, encoder_regret, mdn_log_prob, online_log_likelihood_fn, pair_online_log_likelihood,
    stack_hypotheses,
)


class TestRotationEncoderConformance(ModelConformance):
    component = ("model", "rotation-encoder")

    def make_model(self):
        return self.create(init_angle=0.3)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(7, 2, generator=torch.Generator().manual_seed(0)).to(device, dtype),)


def test_rotation_is_orthogonal_and_undoes_the_mixing_at_the_solution():
    theta = torch.tensor(0.7, dtype=torch.float64)
    r = rotation_matrix(theta)
    torch.testing.assert_close(r @ r.T, torch.eye(2, dtype=torch.float64), atol=1e-15, rtol=0)
    assert abs(float(torch.linalg.det(r)) - 1.0) < 1e-15
    ab = torch.randn(50, 2, dtype=torch.float64)
    xy = ab @ rotation_matrix(torch.tensor(math.pi / 4, dtype=torch.float64)).T
    for k in range(4):
        enc = RotationEncoder().double()
        with torch.no_grad():
            enc.theta.fill_(-math.pi / 4 + k * math.pi / 2)  # in float64 (init_angle is stored in float32)
            uv = enc(xy)
        # k even: (+-A, +-B); k odd: (+-B, +-A)
        expected = {0: ab, 1: torch.stack([-ab[:, 1], ab[:, 0]], 1), 2: -ab, 3: torch.stack([ab[:, 1], -ab[:, 0]], 1)}[k]
        torch.testing.assert_close(uv, expected, atol=1e-12, rtol=0)


def test_official_rotor_convention_is_our_negative_angle():
    # the official Rotor(theta) multiplies rows by [[cos, -sin], [sin, cos]] on the right
    theta = 0.4
    c, s = math.cos(theta), math.sin(theta)
    x = torch.randn(9, 2, dtype=torch.float64)
    official = x @ torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    with torch.no_grad():
        enc = RotationEncoder().double()
        enc.theta.fill_(-theta)
        ours = enc(x)
    torch.testing.assert_close(ours, official, atol=1e-14, rtol=0)


def test_distance_to_the_nearest_solution():
    sol = -math.pi / 4
    assert angle_to_solution(sol + 0.05, sol) == pytest.approx(0.05)
    assert angle_to_solution(sol + math.pi / 2 - 0.03, sol) == pytest.approx(0.03)
    assert angle_to_solution(0.0, sol) == pytest.approx(math.pi / 4)
    assert solution_index(sol + 0.01, sol) == 0 and solution_index(math.pi / 4, sol) == 1
    assert solution_index(sol - math.pi / 2, sol) == 3


def test_bad_input_names_the_argument():
    enc = etude.create("model", "rotation-encoder")
    with pytest.raises(ValueError, match="last dimension of 2"):
        enc(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="NaN"):
        enc(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(TypeError, match="floating"):
        enc(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(Exception, match="init_angle"):
        etude.create("model", "rotation-encoder", init_angle=float("inf"))


def test_functional_mdn_equals_the_mixture_same_family_density():
    torch.manual_seed(0)
    mdn = MixtureDensityNetwork(components=4, capacity=8).double()
    x, y = torch.randn(30, dtype=torch.float64), torch.randn(30, dtype=torch.float64)
    params = dict(mdn.body.named_parameters())
    torch.testing.assert_close(mdn_log_prob(mdn, params, y, x), mdn.log_prob(y, x), atol=1e-12, rtol=0)


def test_online_likelihood_scores_before_each_step_and_leaves_the_module_alone():
    torch.manual_seed(1)
    mdn = MixtureDensityNetwork(components=3, capacity=8).double()
    before = {k: p.detach().clone() for k, p in mdn.named_parameters()}
    x, y = torch.randn(40, dtype=torch.float64), torch.randn(40, dtype=torch.float64)
    lr = 0.5  # large, so pre- and post-update scores differ clearly
    got = online_log_likelihood_fn(mdn, x, y, steps=3, lr=lr, create_graph=False)
    # reference: torch.optim.Adam on a copy, summing each step's log-likelihood before the step
    ref_model = MixtureDensityNetwork(components=3, capacity=8).double()
    ref_model.load_state_dict(mdn.state_dict())
    opt = torch.optim.Adam(ref_model.parameters(), lr=lr)
    total, post = 0.0, 0.0
    for _ in range(3):
        ll = ref_model.log_prob(y, x)
        total += float(ll.detach().sum())
        opt.zero_grad()
        (-ll.mean()).backward()
        opt.step()
        post += float(ref_model.log_prob(y, x).detach().sum())
    assert float(got) == pytest.approx(total, abs=1e-6)
    assert abs(total - post) > 1.0  # the post-update sum is a different number
    for k, p in mdn.named_parameters():
        assert torch.equal(p, before[k])


def _regret_at(theta, obs, g1, g2, gamma):
    enc = obs @ rotation_matrix(theta).T
    marginals = torch.tensor([-120.0, -125.0], dtype=torch.float64)
    return encoder_regret(gamma, enc, g1, stack_hypotheses(g1, g2), marginals, steps=3, lr=0.05)


def test_both_hypotheses_in_one_pass_equal_two_separate_ones():
    torch.manual_seed(3)
    g1 = MixtureDensityNetwork(components=3, capacity=8).double()
    g2 = MixtureDensityNetwork(components=3, capacity=8).double()
    u, v = torch.randn(50, dtype=torch.float64), torch.randn(50, dtype=torch.float64)
    pair = pair_online_log_likelihood(g1, stack_hypotheses(g1, g2), torch.stack([u, v]), torch.stack([v, u]), 4, 0.05)
    one = online_log_likelihood_fn(g1, u, v, 4, 0.05)
    two = online_log_likelihood_fn(g2, v, u, 4, 0.05)
    torch.testing.assert_close(pair, torch.stack([one, two]), atol=1e-10, rtol=0)


def test_regret_theta_gradient_matches_finite_differences():
    torch.manual_seed(2)
    g1 = MixtureDensityNetwork(components=3, capacity=8).double()
    g2 = MixtureDensityNetwork(components=3, capacity=8).double()
    obs = 2 * torch.randn(60, 2, dtype=torch.float64)
    # gamma such that the posterior is not saturated: both hypotheses contribute to dR/dtheta
    theta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    _, l1, l2 = _regret_at(theta, obs, g1, g2, torch.zeros((), dtype=torch.float64))
    gamma = (l2 - l1).detach() + 0.3
    r, _, _ = _regret_at(theta, obs, g1, g2, gamma)
    (auto,) = torch.autograd.grad(r, theta)
    h = 1e-6  # R is a difference of sums of ~10^2 nats: float64 rounding gives FD about 1e-7 of noise
    rp = _regret_at(torch.tensor(0.3 + h, dtype=torch.float64), obs, g1, g2, gamma)[0].detach()
    rm = _regret_at(torch.tensor(0.3 - h, dtype=torch.float64), obs, g1, g2, gamma)[0].detach()
    fd = float((rp - rm) / (2 * h))
    assert abs(float(auto)) > 1e-3  # a gradient that could be wrong
    assert float(auto) == pytest.approx(fd, rel=1e-5)
    # and without differentiating through the fine-tuning the gradient is a different number
    theta2 = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    enc = obs @ rotation_matrix(theta2).T
    u, v = enc[:, 0], enc[:, 1]
    l1s = online_log_likelihood_fn(g1, u, v, 3, 0.05, create_graph=False) - 360.0
    l2s = online_log_likelihood_fn(g2, v, u, 3, 0.05, create_graph=False) - 375.0
    from etude_meta_transfer.regret import transfer_regret
    (stop,) = torch.autograd.grad(transfer_regret(gamma, l1s, l2s), theta2)
    assert abs(float(stop) - fd) > 1e-2 * abs(fd)
    # gamma's closed form agrees with autograd on the same regret
    gam = gamma.clone().requires_grad_(True)
    r2, l1, l2 = _regret_at(torch.tensor(0.3, dtype=torch.float64), obs, g1, g2, gam)
    (dg,) = torch.autograd.grad(r2, gam)
    torch.testing.assert_close(dg, regret_grad(gamma, l1.detach(), l2.detach()), atol=1e-12, rtol=0)


def test_encoder_meta_train_is_deterministic_under_seed():
    kw = dict(meta_steps=3, samples=80, preheat_steps=2, em_iters=5)
    a, b, c = encoder_meta_train(0, **kw), encoder_meta_train(0, **kw), encoder_meta_train(1, **kw)
    assert a == b and a != c and len(a["theta"]) == 3
