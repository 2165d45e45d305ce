"""retrieval_competition: the hand-written competition against its equations."""

from __future__ import annotations

import pytest
import torch

from etude_compositional_attention import competition, retrieval_competition

D = torch.float64


@pytest.fixture(autouse=True, params=["function", "autograd"])
def implementation(request, monkeypatch):
    """Every test runs on both implementations: the hand-written function and the small-input autograd ops."""
    monkeypatch.setattr(competition, "AUTOGRAD_MAX_NUMEL", 0 if request.param == "function" else 2**62)
    return request.param


def _reference(pairs, u, beta=None):
    logits = (pairs * u.unsqueeze(-2)).sum(-1)
    if beta is not None:
        logits = logits + beta.unsqueeze(-1)
    choice = torch.softmax(logits, -1)
    return (choice.unsqueeze(-1) * pairs).sum(-2), choice


def _inputs(R=3, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.randn(2, 3, 5, R, d, generator=g, dtype=D, requires_grad=True)
    u = torch.randn(2, 3, 5, d, generator=g, dtype=D, requires_grad=True)
    beta = torch.randn(2, 3, 5, generator=g, dtype=D, requires_grad=True)
    return pairs, u, beta


@pytest.mark.parametrize("R", [1, 2, 3])
@pytest.mark.parametrize("with_beta", [False, True])
def test_equals_the_equations_with_gradients_of_both_outputs(R, with_beta):
    pairs, u, beta = _inputs(R)
    beta = beta if with_beta else None
    inputs = (pairs, u) + ((beta,) if with_beta else ())
    got, want = retrieval_competition(pairs, u, beta), _reference(pairs, u, beta)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    g_out, g_choice = torch.randn_like(got[0]), torch.randn_like(got[1])
    grads = torch.autograd.grad(got, inputs, (g_out, g_choice), retain_graph=True)
    ref = torch.autograd.grad(want, inputs, (g_out, g_choice), retain_graph=True)
    for a, b in zip(grads, ref):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    only_choice = torch.autograd.grad(got[1].sum(), inputs)
    for a, b in zip(only_choice, torch.autograd.grad(want[1].sum(), inputs)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_size_picks_the_implementation(monkeypatch):
    monkeypatch.setattr(competition, "AUTOGRAD_MAX_NUMEL", 2**15)
    small, u_small, _ = _inputs()
    assert retrieval_competition(small, u_small)[0].grad_fn.name() != "_RetrievalCompetitionBackward"
    big, u_big = small.detach().repeat(40, 40, 1, 1, 1), u_small.detach().repeat(40, 40, 1, 1)
    assert retrieval_competition(big.requires_grad_(), u_big)[0].grad_fn.name() == "_RetrievalCompetitionBackward"


def test_gradcheck_and_softmax_stability():
    pairs, u, beta = _inputs()
    assert torch.autograd.gradcheck(retrieval_competition, (pairs, u, beta))
    out, choice = retrieval_competition(pairs.detach() * 1e3, u.detach() * 1e3)  # logits ~1e6: no overflow
    assert torch.isfinite(out).all() and torch.isfinite(choice).all()
    torch.testing.assert_close(choice.sum(-1), torch.ones_like(choice[..., 0]))


def test_bad_shapes_name_the_inputs():
    pairs, u, beta = _inputs()
    with pytest.raises(ValueError, match="u"):
        retrieval_competition(pairs, u[..., :2])
    with pytest.raises(ValueError, match="beta"):
        retrieval_competition(pairs, u, beta[..., :2])
