"""The equations: JSD, normalisation, gamma schedule, soft targets, sharpening, MixMatch, losses."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from etude_crosssplit import functional as CF


def _probs(seed, n=6, c=4, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(3 * torch.randn(n, c, generator=g, dtype=dtype), 1)


# -- Jensen-Shannon divergence --------------------------------------------------------
def test_jsd_hand_computed():
    p = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    # m = (0.75, 0.25); KL(p||m) = log(4/3); KL(q||m) = 0.5 log(2/3) + 0.5 log 2
    expected = 0.5 * math.log(4 / 3) + 0.5 * (0.5 * math.log(2 / 3) + 0.5 * math.log(2))
    assert CF.jensen_shannon(p, q).item() == pytest.approx(expected, abs=1e-8)
    assert expected == pytest.approx(0.2157615543, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_jsd_matches_scipy_and_is_symmetric(seed):
    p, q = _probs(seed), _probs(seed + 1)
    ours = CF.jensen_shannon(p, q)
    ref = torch.tensor([jensenshannon(a, b) ** 2 for a, b in zip(p.numpy(), q.numpy(), strict=True)])
    torch.testing.assert_close(ours, ref, atol=1e-7, rtol=1e-6)
    torch.testing.assert_close(ours, CF.jensen_shannon(q, p))
    assert (ours >= 0).all() and (ours <= math.log(2) + 1e-12).all()


def test_jsd_zero_iff_equal_and_max_log2():
    p = _probs(3)
    assert CF.jensen_shannon(p, p).abs().max() < 1e-9
    assert (CF.jensen_shannon(p, _probs(4)) > 1e-6).all()
    a, b = torch.eye(3, dtype=torch.float64)[:2], torch.eye(3, dtype=torch.float64)[1:]
    torch.testing.assert_close(CF.jensen_shannon(a, b), torch.full((2,), math.log(2), dtype=torch.float64))


def test_jsd_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        CF.jensen_shannon(torch.rand(3, 4), torch.rand(3, 5))
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        CF.jensen_shannon(torch.rand(4), torch.rand(4))


# -- per-class normalisation (Eq. 4) ----------------------------------------------------
def test_class_range_and_normalisation_hand_values():
    jsd = torch.tensor([0.1, 0.3, 0.2, 0.5, 0.4])
    labels = torch.tensor([0, 0, 0, 1, 1])
    jmin, jmax = CF.class_jsd_range(jsd, labels, 3)
    torch.testing.assert_close(jmin[:2], torch.tensor([0.1, 0.4]))
    torch.testing.assert_close(jmax[:2], torch.tensor([0.3, 0.5]))
    assert jmin[2] == math.inf and jmax[2] == -math.inf  # empty class
    bt = CF.normalised_jsd(jsd, labels, jmin, jmax)
    torch.testing.assert_close(bt, torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0]))


def test_normalisation_clips_and_handles_degenerate_classes():
    jmin, jmax = torch.tensor([0.2, 0.3, math.inf]), torch.tensor([0.4, 0.3, -math.inf])
    jsd = torch.tensor([0.0, 0.6, 0.3, 0.9, 0.1])
    labels = torch.tensor([0, 0, 0, 1, 2])
    bt = CF.normalised_jsd(jsd, labels, jmin, jmax)
    torch.testing.assert_close(bt, torch.tensor([0.0, 1.0, 0.5, 0.5, 0.5]))
    assert torch.isfinite(bt).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_normalised_jsd_in_unit_interval_min_to_0_max_to_1(seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 4, (40,), generator=g)
    jsd = torch.rand(40, generator=g) * math.log(2)
    jmin, jmax = CF.class_jsd_range(jsd, labels, 4)
    bt = CF.normalised_jsd(jsd, labels, jmin, jmax)
    assert ((bt >= 0) & (bt <= 1)).all()
    for c in labels.unique():
        rows = labels == c
        if rows.sum() > 1:
            assert bt[rows][jsd[rows].argmin()] == 0 and bt[rows][jsd[rows].argmax()] == 1


# -- gamma schedule and beta (Eq. 2) --------------------------------------------------------
def test_gamma_schedule_boundaries():
    warm, delta = 10, 5
    assert CF.gamma_schedule(warm, warm, delta) == 0.6
    assert CF.gamma_schedule(warm + 2 * delta - 1, warm, delta) == 0.6
    assert CF.gamma_schedule(warm + 2 * delta, warm, delta) == 0.8
    assert CF.gamma_schedule(warm + 3 * delta - 1, warm, delta) == 0.8
    assert CF.gamma_schedule(warm + 3 * delta, warm, delta) == 1.0


def test_beta_range_per_gamma():
    bt = torch.linspace(0, 1, 11)
    for gamma, (lo, hi) in ((0.6, (0.2, 0.8)), (0.8, (0.1, 0.9)), (1.0, (0.0, 1.0))):
        beta = CF.cross_split_beta(bt, gamma)
        assert beta.min().item() == pytest.approx(lo) and beta.max().item() == pytest.approx(hi)
    with pytest.raises(ValueError, match="gamma"):
        CF.cross_split_beta(bt, 1.5)


# -- soft target (Eq. 1) and sharpening ------------------------------------------------------------
def test_soft_target_limits_and_simplex():
    peer = _probs(0)
    y = CF.one_hot(torch.tensor([0, 1, 2, 3, 0, 1]), 4, peer.dtype)
    torch.testing.assert_close(CF.soft_target(torch.zeros(6, dtype=peer.dtype), peer, y), y)
    torch.testing.assert_close(CF.soft_target(torch.ones(6, dtype=peer.dtype), peer, y), peer)
    s = CF.soft_target(torch.rand(6, dtype=peer.dtype), peer, y)
    torch.testing.assert_close(s.sum(1), torch.ones(6, dtype=peer.dtype))


def test_sharpen():
    p = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], dtype=torch.float64)
    t = CF.sharpen(p, 0.5)
    expected = p**2 / (p**2).sum(1, keepdim=True)
    torch.testing.assert_close(t, expected)
    torch.testing.assert_close(CF.sharpen(p, 1.0), p)
    torch.testing.assert_close(CF.sharpen(p, 1e-4), torch.tensor([[1.0, 0, 0], [0, 0, 1.0]], dtype=torch.float64))
    zero = torch.tensor([[0.0, 0.4, 0.6]])
    assert torch.isfinite(CF.sharpen(zero, 0.5)).all()
    with pytest.raises(ValueError, match="temperature"):
        CF.sharpen(p, 0.0)


def test_cross_split_target_trusts_the_peer_on_disagreement():
    # a labelled batch: rows 0-1 agree with the confident peer, row 2's label disagrees with it
    peer = torch.tensor([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.9, 0.05], [0.8, 0.1, 0.1]])
    labels = torch.tensor([0, 1, 0, 0])
    jsd = CF.jensen_shannon(CF.one_hot(labels, 3), peer)
    jmin, jmax = CF.class_jsd_range(jsd, labels, 3)
    target, beta = CF.cross_split_target(labels, peer, jmin, jmax, gamma=1.0, temperature=0.5)
    assert beta[2] == pytest.approx(1.0) and beta[0] == pytest.approx(0.0)
    assert target[2].argmax() == 1 and target[0].argmax() == 0
    torch.testing.assert_close(target.sum(1), torch.ones(4))


# -- MixMatch, losses, ramp, prior ----------------------------------------------------------------
def test_mix_lambda_at_least_half():
    rng = np.random.default_rng(0)
    lams = [CF.sample_mix_lambda(4.0, rng) for _ in range(200)]
    assert min(lams) >= 0.5 and max(lams) <= 1.0
    with pytest.raises(ValueError, match="alpha"):
        CF.sample_mix_lambda(0.0, rng)


def test_mixmatch_targets_stay_on_simplex_and_mix_rows():
    x, t = torch.randn(8, 3), _probs(1, n=8).float()
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    mx, mt = CF.mixmatch(x, t, 0.7, perm)
    torch.testing.assert_close(mt.sum(1), torch.ones(8))
    assert (mt >= 0).all()
    torch.testing.assert_close(mx, 0.7 * x + 0.3 * x[perm])


def test_semi_supervised_loss_terms():
    lx_logits, lu_logits = torch.randn(4, 3), torch.randn(5, 3)
    tx, tu = _probs(2, n=4, c=3).float(), _probs(3, n=5, c=3).float()
    lx, lu = CF.semi_supervised_loss(lx_logits, tx, lu_logits, tu)
    assert lx.item() == pytest.approx(float(-(tx * torch.log_softmax(lx_logits, 1)).sum(1).mean()), rel=1e-6)
    assert lu.item() == pytest.approx(float(torch.nn.functional.mse_loss(torch.softmax(lu_logits, 1), tu)), rel=1e-6)


def test_linear_rampup_values():
    assert CF.linear_rampup(10, 10, 30) == 0.0
    assert CF.linear_rampup(18, 10, 30) == pytest.approx(15.0)
    assert CF.linear_rampup(26, 10, 30) == 30.0
    assert CF.linear_rampup(40, 10, 30) == 30.0
    assert CF.linear_rampup(5, 10, 30) == 0.0


def test_prior_penalty_is_kl_to_uniform():
    assert CF.prior_penalty(torch.zeros(5, 4)).item() == pytest.approx(0.0, abs=1e-7)
    logits = torch.randn(16, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mean = torch.softmax(logits, 1).mean(0)
    expected = (0.25 * torch.log(0.25 / mean)).sum()
    assert CF.prior_penalty(logits).item() == pytest.approx(expected.item(), rel=1e-5)
    assert CF.prior_penalty(torch.tensor([[10.0, 0, 0, 0]] * 4)).item() > 0


def test_nt_xent_prefers_aligned_views():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(8, 5, generator=g)
    aligned = CF.nt_xent(z, z + 0.01 * torch.randn(8, 5, generator=g))
    shuffled = CF.nt_xent(z, z[torch.randperm(8, generator=g)])
    assert aligned < shuffled
