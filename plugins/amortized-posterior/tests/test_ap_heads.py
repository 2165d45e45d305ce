"""Posterior heads: the conditional flow's density is the change of variables; shapes of both heads."""

import math

import torch

from etude_amortized_posterior.heads import FlowHead, GaussianHead


def _flow(p=3, c=5):
    torch.manual_seed(0)
    head = FlowHead(context=c, num_params=p, hidden=16, num_layers=4)
    for prm in head.parameters():  # move away from the identity initialisation of the couplings
        prm.data.add_(0.3 * torch.randn_like(prm))
    return head


def test_flow_log_prob_is_change_of_variables_with_autograd_jacobian():
    head = _flow()
    summary = torch.randn(1, 5)
    q = head(summary)
    transforms = q.transforms

    def forward(z):
        for t in transforms:
            z = t(z)
        return z

    z = torch.randn(1, 3)
    theta = forward(z)
    jac = torch.autograd.functional.jacobian(lambda u: forward(u.unsqueeze(0)).squeeze(0), z.squeeze(0))
    log_base = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum()
    expected = log_base - torch.linalg.slogdet(jac)[1]
    torch.testing.assert_close(q.log_prob(theta.detach()).squeeze(), expected, atol=1e-4, rtol=1e-4)


def test_flow_inverse_of_forward_is_identity():
    head = _flow()
    q = head(torch.randn(6, 5))
    z = torch.randn(6, 3)
    theta = z
    for t in q.transforms:
        theta = t(theta)
    back = theta
    for t in reversed(q.transforms):
        back = t.inv(back)
    torch.testing.assert_close(back, z, atol=1e-5, rtol=1e-5)


def test_flow_shapes_and_one_dimensional_spline():
    q = _flow()(torch.randn(4, 5))
    assert q.batch_shape == (4,) and q.event_shape == (3,)
    s = q.rsample((7,))
    assert s.shape == (7, 4, 3)
    lp = q.log_prob(s)
    assert lp.shape == (7, 4) and torch.isfinite(lp).all()
    assert q.log_prob(torch.zeros(4, 3)).shape == (4,)
    one = FlowHead(context=5, num_params=1, hidden=8, num_layers=2)(torch.randn(4, 5))
    assert one.rsample((2,)).shape == (2, 4, 1) and one.log_prob(torch.zeros(4, 1)).shape == (4,)


def test_gaussian_head_is_diagonal_normal_with_logvar():
    torch.manual_seed(0)
    head = GaussianHead(context=5, num_params=3)
    s = torch.randn(4, 5)
    q = head(s)
    loc, logvar = head.linear(s).chunk(2, -1)
    torch.testing.assert_close(q.mean, loc)
    torch.testing.assert_close(q.variance, logvar.exp())
    assert q.rsample((2,)).shape == (2, 4, 3) and q.log_prob(torch.zeros(4, 3)).shape == (4,)
