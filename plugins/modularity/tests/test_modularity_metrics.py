"""Specialisation metrics on hand-built usage matrices with known answers, and against independent references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from etude_modularity.metrics import (
    adaptation,
    alignment,
    collapse_avg,
    collapse_worst,
    conditional_usage,
    inverse_mutual_information,
    random_reference,
    specialisation_report,
    usage_matrix,
)

ALL = (collapse_avg, collapse_worst, inverse_mutual_information, alignment)


def _perm_matrix(R, seed=0):
    perm = np.random.default_rng(seed).permutation(R)
    return torch.eye(R, dtype=torch.float64)[perm] / R


@pytest.mark.parametrize("R", [2, 4, 7])
def test_perfect_specialisation_is_zero_everywhere(R):
    P = _perm_matrix(R)
    for metric in ALL:
        assert metric(P) == pytest.approx(0.0, abs=1e-12), metric.__name__


@pytest.mark.parametrize("R", [2, 4, 7])
def test_uniform_usage_is_the_random_reference(R):
    P = torch.full((R, R), 1.0 / R**2, dtype=torch.float64)
    assert collapse_avg(P) == pytest.approx(0.0, abs=1e-12)
    assert collapse_worst(P) == pytest.approx(0.0, abs=1e-12)
    assert inverse_mutual_information(P) == pytest.approx(1.0, abs=1e-12)
    assert alignment(P) == pytest.approx((R - 1) / R, abs=1e-12)
    assert random_reference(R, R) == pytest.approx(
        {"collapse_avg": 0.0, "collapse_worst": 0.0, "inverse_mi": 1.0, "alignment": (R - 1) / R})


def test_full_collapse():
    R = 4
    P = torch.zeros(R, R, dtype=torch.float64)
    P[:, 2] = 1.0 / R
    assert collapse_avg(P) == pytest.approx(1.0)
    assert collapse_worst(P) == pytest.approx(1.0)
    assert inverse_mutual_information(P) == pytest.approx(1.0)


def _random_joint(draw_seed, G, M):
    p = np.random.default_rng(draw_seed).dirichlet(np.ones(G * M)).reshape(G, M)
    return torch.from_numpy(p)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), R=st.integers(2, 6))
def test_every_metric_is_invariant_to_column_permutation(seed, R):
    P = _random_joint(seed, R, R)
    perm = torch.from_numpy(np.random.default_rng(seed + 1).permutation(R))
    for metric in ALL:
        assert metric(P[:, perm]) == pytest.approx(metric(P), abs=1e-12), metric.__name__


@pytest.mark.parametrize("R", [2, 3, 4, 5, 6])
def test_alignment_equals_brute_force(R):
    P = _random_joint(R, R, R).numpy()
    best = min(np.abs(np.eye(R)[list(perm)] - R * P).sum() / (2 * R) for perm in itertools.permutations(range(R)))
    assert alignment(P) == pytest.approx(best, abs=1e-12)


def test_inverse_mi_equals_numpy_formula():
    P = _random_joint(3, 4, 4).numpy()
    pg, pm = P.sum(1, keepdims=True), P.sum(0, keepdims=True)
    mi = float(np.sum(P * np.log(P / (pg * pm))))
    assert inverse_mutual_information(P) == pytest.approx((math.log(4) - mi) / math.log(4), abs=1e-12)


def test_rectangular_usage():
    P = _random_joint(5, 2, 4)
    assert 0 <= collapse_avg(P) <= 1 and 0 <= collapse_worst(P) <= 1
    # one factor per pair of modules: MI = log 2, so inverse MI (normalised by log min(G, M)) is 0
    split = torch.tensor([[0.25, 0.25, 0.0, 0.0], [0.0, 0.0, 0.25, 0.25]], dtype=torch.float64)
    assert inverse_mutual_information(split) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="square"):
        alignment(P)


def test_bool_mask_rows_are_normalised():
    mask = torch.tensor([[True, True, False, False], [False, True, True, True]])
    U = conditional_usage(mask, torch.tensor([0, 1]), 2)
    torch.testing.assert_close(U, torch.tensor([[0.5, 0.5, 0, 0], [0, 1 / 3, 1 / 3, 1 / 3]], dtype=torch.float64))


def test_usage_matrix_priors():
    routing = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    rule = torch.tensor([0, 0, 0, 1])
    torch.testing.assert_close(usage_matrix(routing, rule, 2), torch.tensor([[0.5, 0], [0, 0.5]], dtype=torch.float64))
    torch.testing.assert_close(usage_matrix(routing, rule, 2, prior="empirical"),
                               torch.tensor([[0.75, 0], [0, 0.25]], dtype=torch.float64))


def test_adaptation_of_ground_truth_routing_is_small_and_reproducible():
    R, n = 4, 5000

    def gt_usage(prior, seed=[0]):
        seed[0] += 1
        rule = torch.multinomial(prior, n, replacement=True, generator=torch.Generator().manual_seed(seed[0]))
        return torch.nn.functional.one_hot(rule, R).double()

    value = adaptation(gt_usage, R, draws=100, generator=torch.Generator().manual_seed(0))
    assert value < 0.02
    exact = adaptation(torch.eye(R, dtype=torch.float64), R, generator=torch.Generator().manual_seed(0))
    assert exact == pytest.approx(0.0, abs=1e-12)
    uniform = torch.full((R, R), 1 / R, dtype=torch.float64)
    a = adaptation(uniform, R, generator=torch.Generator().manual_seed(7))
    b = adaptation(uniform, R, generator=torch.Generator().manual_seed(7))
    assert a == b and a > 0.2  # a router ignoring the rule cannot track the prior


def test_report_bundles_everything():
    rule = torch.arange(3).repeat(10)
    report = specialisation_report(torch.full((30, 3), 1 / 3), rule, 3)
    assert report.inverse_mi == pytest.approx(1.0) and report.alignment == pytest.approx(2 / 3)
    assert set(report.as_dict()) >= {"collapse_avg", "adaptation", "usage", "reference"}


@pytest.mark.parametrize("routing,match", [
    (torch.tensor([[0.5, float("nan")]]), "NaN"),
    (torch.tensor([[1.5, -0.5]]), "negative"),
    (torch.tensor([[0.5, 0.4]]), "sum to 1"),
    (torch.tensor([[False, False]]), "no active"),
])
def test_bad_routing_is_named(routing, match):
    with pytest.raises(ValueError, match=match):
        usage_matrix(routing, torch.tensor([0]), 2)


def test_bad_factor_is_named():
    with pytest.raises(ValueError, match="num_factors=2"):
        usage_matrix(torch.tensor([[1.0, 0.0]]), torch.tensor([2]), 2)
    with pytest.raises(ValueError, match="no example"):
        usage_matrix(torch.tensor([[1.0, 0.0]]), torch.tensor([0]), 2)
