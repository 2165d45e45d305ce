"""Issue 14, item 21: the similarity suite's opt-in invariance checks catch metrics that break them."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import SimilarityMetric
from etude.testing.conformance import SimilarityConformance


class RawInnerProduct(SimilarityMetric):
    """Mean of X^T Y: symmetric and permutation invariant, but no range, identity or scale invariance."""

    def compute(self, X, Y):
        return (X.T @ Y).mean() if X.shape[1] == Y.shape[1] else (X.sum() * Y.sum()) / X.numel()


class FirstCoordinateCorrelation(SimilarityMetric):
    """|corr(X[:, 0], Y[:, 0])|: in [0, 1], identity 1, scale invariant, not orthogonally invariant."""

    def compute(self, X, Y):
        a, b = X[:, 0] - X[:, 0].mean(), Y[:, 0] - Y[:, 0].mean()
        return ((a * b).sum() / (a.norm() * b.norm())).abs()


class StrictSuite(SimilarityConformance):
    value_range = (0.0, 1.0)
    identity_is_one = orthogonal_invariant = isotropic_scale_invariant = True


@pytest.mark.parametrize(
    ("metric", "check"),
    [
        (RawInnerProduct, "test_value_range"),
        (RawInnerProduct, "test_identity_is_one"),
        (RawInnerProduct, "test_isotropic_scale_invariance"),
        (FirstCoordinateCorrelation, "test_orthogonal_invariance"),
    ],
)
def test_opt_in_checks_fail_for_metrics_that_break_the_property(metric, check):
    suite = StrictSuite()
    suite.make_metric = metric
    with pytest.raises(AssertionError):
        getattr(suite, check)()


def test_opt_in_checks_pass_for_a_metric_that_has_the_properties():
    suite = StrictSuite()
    suite.make_metric = FirstCoordinateCorrelation
    suite.orthogonal_invariant = False
    for check in ("test_value_range", "test_identity_is_one", "test_isotropic_scale_invariance"):
        getattr(suite, check)()


def test_checks_not_opted_in_are_skipped():
    suite = SimilarityConformance()
    suite.make_metric = RawInnerProduct
    with pytest.raises(pytest.skip.Exception):
        suite.test_orthogonal_invariance()
