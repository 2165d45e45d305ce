"""The regret and its closed-form gradient, against autograd and the formula's limits."""

import torch
import torch.nn.functional as F

from etude_meta_transfer import per_batch_regret, per_batch_regret_grad, posterior, regret_grad, transfer_regret


def _autograd(gamma, l1, l2, fn=transfer_regret):
    g = gamma.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(g, l1, l2).sum(), g)
    return grad


def _reference(gamma, l1, l2):
    # written from the paper's Eq.: R = -log(sigma(g) L1 + (1 - sigma(g)) L2), in log space by hand
    a = F.logsigmoid(gamma) + l1
    b = F.logsigmoid(-gamma) + l2
    m = torch.maximum(a, b)
    return -(m + torch.log(torch.exp(a - m) + torch.exp(b - m)))


def test_closed_form_gradient_equals_autograd_float64():
    gen = torch.Generator().manual_seed(0)
    gamma = torch.randn(200, generator=gen, dtype=torch.float64) * 3
    l1 = -torch.rand(200, generator=gen, dtype=torch.float64) * 50
    l2 = -torch.rand(200, generator=gen, dtype=torch.float64) * 50
    torch.testing.assert_close(transfer_regret(gamma, l1, l2), _reference(gamma, l1, l2), rtol=0, atol=1e-12)
    torch.testing.assert_close(regret_grad(gamma, l1, l2), _autograd(gamma, l1, l2), rtol=0, atol=1e-12)


def test_gradient_at_large_log_likelihoods_has_no_underflow():
    gamma = torch.tensor([0.0, 1.5, -2.0, 0.3], dtype=torch.float64)
    l1 = torch.tensor([-1000.0, -1200.0, -1000.5, -3000.0], dtype=torch.float64)
    l2 = torch.tensor([-1001.0, -1199.0, -1000.5, -2990.0], dtype=torch.float64)
    closed, auto = regret_grad(gamma, l1, l2), _autograd(gamma, l1, l2)
    assert torch.isfinite(closed).all() and torch.isfinite(transfer_regret(gamma, l1, l2)).all()
    torch.testing.assert_close(closed, auto, rtol=0, atol=1e-12)
    # the raw mixture underflows to 0 here: log space is needed
    assert (torch.sigmoid(gamma) * l1.exp() + torch.sigmoid(-gamma) * l2.exp() == 0).all()


def test_gradient_is_zero_when_likelihoods_agree_and_has_the_sign_of_l2_minus_l1():
    gamma = torch.linspace(-4, 4, 9, dtype=torch.float64)
    same = torch.full_like(gamma, -37.25)
    assert (regret_grad(gamma, same, same) == 0).all()
    better1 = regret_grad(gamma, same + 1.0, same)
    better2 = regret_grad(gamma, same, same + 1.0)
    assert (better1 < 0).all() and (better2 > 0).all()
    torch.testing.assert_close(posterior(torch.zeros(1, dtype=torch.float64), same[:1] + 2, same[:1]),
                               torch.sigmoid(torch.tensor([2.0], dtype=torch.float64)))


def test_per_batch_regret_gradient_equals_autograd():
    gen = torch.Generator().manual_seed(1)
    gamma = torch.randn(5, generator=gen, dtype=torch.float64)
    l1 = -torch.rand(5, 3, generator=gen, dtype=torch.float64) * 30
    l2 = -torch.rand(5, 3, generator=gen, dtype=torch.float64) * 30
    torch.testing.assert_close(
        per_batch_regret_grad(gamma, l1, l2), _autograd(gamma, l1, l2, per_batch_regret), rtol=0, atol=1e-12
    )
    # one batch: the per-batch regret is the episode regret
    torch.testing.assert_close(per_batch_regret(gamma, l1[:, :1], l2[:, :1]), transfer_regret(gamma, l1[:, 0], l2[:, 0]))


def test_nan_log_likelihood_is_an_error_naming_it():
    import pytest

    with pytest.raises(ValueError, match="log_l2.*NaN"):
        regret_grad(torch.zeros(1), torch.zeros(1), torch.tensor([float("nan")]))
