"""Paired comparison statistics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from etude.claims import mean_and_ci, paired_comparison


def test_paired_comparison_matches_t_interval():
    a, b = [1.0, 2.0, 3.0, 4.0], [0.5, 1.0, 2.0, 4.5]
    c = paired_comparison(a, b)
    diffs = [0.5, 1.0, 1.0, -0.5]
    mean = sum(diffs) / 4
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 3)
    half = 3.182446305284263 * sd / 2  # t_{0.975, 3}
    assert c.mean == pytest.approx(mean)
    assert c.ci_low == pytest.approx(mean - half) and c.ci_high == pytest.approx(mean + half)
    assert c.wins == 3 and c.n == 4 and not c.significant_positive


def test_one_pair_is_never_significant():
    c = paired_comparison([1.0], [0.0])
    assert c.mean == 1.0 and math.isinf(c.ci_low) and not c.significant_positive


def test_clear_difference_is_significant():
    assert paired_comparison([1.0, 1.1, 0.9, 1.05], [0.0, 0.1, -0.1, 0.0]).significant_positive


def test_errors():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_comparison([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one pair"):
        paired_comparison([], [])


def test_mean_and_ci():
    mean, low, high = mean_and_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
