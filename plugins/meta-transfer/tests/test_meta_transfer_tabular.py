"""Tabular hypotheses: closed-form gradients, MLE reset, scoring order, restore, batching."""

import pytest
import torch

from etude_scm import create_categorical_scm
from etude_meta_transfer import TabularHypotheses, hypothesis_scms, joint_probs, meta_train, online_log_likelihood
from etude_meta_transfer.tasks import sample_transfers

N = 5


def _scm(seed=0, graph="A->B"):
    return create_categorical_scm(graph, torch.Generator().manual_seed(seed), num_categories=N).double()


def _autograd_ll(h, x):
    """Summed log-likelihoods of batch x (R, b, 2) under G1 and G2 by gathering, and their autograd gradients."""
    ts = [t.clone().requires_grad_(True) for t in h.tensors()]
    a1, c1, a2, c2 = (t.log_softmax(-1) for t in ts)
    r = torch.arange(x.shape[0])[:, None]
    A, B = x[..., 0], x[..., 1]
    ll1 = (a1[r, A] + c1[r, A, B]).sum(-1)
    ll2 = (a2[r, B] + c2[r, B, A]).sum(-1)
    grads = torch.autograd.grad((ll1 + ll2).sum(), ts)
    return ll1.detach(), ll2.detach(), grads


def test_closed_form_scores_and_gradients_equal_autograd():
    gen = torch.Generator().manual_seed(0)
    h = TabularHypotheses(*(torch.randn(s, generator=gen, dtype=torch.float64) for s in [(3, N), (3, N, N)] * 2))
    x = torch.randint(0, N, (3, 17, 2), generator=gen)
    ll1, ll2, grads = _autograd_ll(h, x)
    s1, s2 = h.score(x)
    torch.testing.assert_close(s1, ll1, rtol=0, atol=1e-12)
    torch.testing.assert_close(s2, ll2, rtol=0, atol=1e-12)
    from etude_meta_transfer.tabular import _counts

    for closed, auto in zip(h.grads(_counts(x, N)), grads):
        torch.testing.assert_close(closed, auto, rtol=0, atol=1e-12)


def test_expected_gradient_on_the_conditional_vanishes_at_the_exact_tables_under_intervention_on_a():
    scm = _scm(1)
    h = TabularHypotheses.exact([scm])
    _, _, joints = sample_transfers(scm, "A", 3, 1, torch.Generator().manual_seed(2))
    h3 = TabularHypotheses(*(t.expand(3, *t.shape[1:]) for t in h.tensors()))
    ga1, gc1, ga2, gc2 = h3.grads(joints)
    assert gc1.abs().max() < 1e-12
    assert ga1.abs().max() > 1e-3 and gc2.abs().max() > 1e-3  # the other modules must move


def test_mle_both_factorisations_give_the_same_joint_and_rows_sum_to_one():
    scm = _scm(3)
    v = scm.sample(5000, torch.Generator().manual_seed(4))
    x = torch.stack([v["A"], v["B"]], -1)
    for pc in (0.0, 0.1):
        h = TabularHypotheses.mle(x, N, pseudo_count=pc)
        ll1, ll2 = h.score(x.unsqueeze(0))
        assert abs(float(ll1 - ll2)) <= 1e-10 * abs(float(ll1))
        for t in h.tensors():
            torch.testing.assert_close(t.softmax(-1).sum(-1), torch.ones(t.shape[:-1], dtype=torch.float64))
    # with pseudo_count 0 this is etude-scm's fit_mle
    g1, _ = hypothesis_scms(N)
    g1.fit_mle({"A": x[:, 0], "B": x[:, 1]})
    torch.testing.assert_close(TabularHypotheses.mle(x, N).a1[0].softmax(-1), g1.mechanisms["A"].probs.double())


def test_exact_tables_are_the_data_joint():
    scm = _scm(5, "B->A")
    h = TabularHypotheses.exact([scm])
    j1 = (h.a1.softmax(-1)[:, :, None] * h.c1.softmax(-1))[0]
    torch.testing.assert_close(j1, joint_probs(scm), rtol=0, atol=1e-12)


def test_online_likelihood_scores_each_batch_before_its_update():
    scm = _scm(6)
    h = TabularHypotheses.exact([scm])
    ep = torch.randint(0, N, (1, 3, 4, 2), generator=torch.Generator().manual_seed(7))
    lr = 50.0  # large: post-update scores would differ a lot
    ref = h.tensors()
    expected1, post1 = [], []
    manual = TabularHypotheses(*ref)
    for t in range(3):
        s1, _ = manual.score(ep[:, t])
        expected1.append(s1)
        manual.step(ep[:, t], lr)
        post1.append(manual.score(ep[:, t])[0])
    with h.restored():
        ll1, _ = online_log_likelihood(h, ep, lr)
    torch.testing.assert_close(ll1[0], torch.cat(expected1), rtol=0, atol=1e-12)
    assert (ll1[0] - torch.cat(post1)).abs().max() > 1.0
    for a, b in zip(h.tensors(), ref):  # restored bitwise
        assert torch.equal(a, b)


def test_after_every_episode_the_modules_are_bitwise_the_training_mle_and_batching_equals_separate_runs():
    trains, transfers = [], []
    for seed in range(3):
        scm = _scm(seed)
        g = torch.Generator().manual_seed(100 + seed)
        v = scm.sample(2000, g)
        trains.append(torch.stack([v["A"], v["B"]], -1))
        transfers.append(sample_transfers(scm, "A", 12, 20, g)[0].view(12, 2, 10, 2))
    h = TabularHypotheses.mle(torch.stack(trains), N, pseudo_count=0.1)
    before = [t.clone() for t in h.tensors()]
    seen = []
    out = meta_train(h, torch.stack(transfers), callback=lambda e, g: seen.append([t.clone() for t in h.tensors()]))
    assert len(seen) == 12
    for snapshot in seen:
        for a, b in zip(snapshot, before):
            assert torch.equal(a, b)
    for r in range(3):
        single = TabularHypotheses.mle(trains[r], N, pseudo_count=0.1)
        o = meta_train(single, transfers[r].unsqueeze(0))
        torch.testing.assert_close(o["gamma"][0], out["gamma"][r], rtol=0, atol=1e-14)


@pytest.mark.parametrize("bad, match", [(torch.tensor([[0, 5]]), r"\[5\] outside \[0, 5\)"),
                                        (torch.tensor([[0.0, float("nan")]]), "NaN"),
                                        (torch.tensor([[-1, 2]]), r"\[-1\]")])
def test_bad_categories_are_errors_naming_them(bad, match):
    with pytest.raises(ValueError, match=match):
        TabularHypotheses.mle(bad, N)
