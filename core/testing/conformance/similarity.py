"""Conformance suite for SimilarityMetric."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import SimilarityMetric

from ._base import ConformanceSuite, assert_finite, devices


class SimilarityConformance(ConformanceSuite):
    """Define ``make_metric()``; optionally ``n``, ``d1``, ``d2``, ``symmetric``."""

    n = 32
    d1, d2 = 6, 9
    symmetric = True

    def make_metric(self) -> SimilarityMetric:
        return self.create()

    def _inputs(self, dtype=torch.float32, device="cpu"):
        g = torch.Generator().manual_seed(0)
        X = torch.randn(self.n, self.d1, generator=g, dtype=torch.float64)
        Y = X[:, :1] * 0.5 + torch.randn(self.n, self.d2, generator=g, dtype=torch.float64)
        return X.to(device=device, dtype=dtype), Y.to(device=device, dtype=dtype)

    def test_is_similarity_metric(self):
        assert isinstance(self.make_metric(), SimilarityMetric)

    @pytest.mark.parametrize("device", devices())
    def test_scalar_on_device(self, device):
        X, Y = self._inputs(device=device)
        value = self.make_metric()(X, Y)
        assert value.dim() == 0 and value.device.type == device
        assert_finite(value, "similarity")

    def test_float64(self):
        X, Y = self._inputs(torch.float64)
        assert self.make_metric()(X, Y).dtype == torch.float64

    def test_joint_permutation_invariance(self):
        X, Y = self._inputs(torch.float64)
        perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(1))
        metric = self.make_metric()
        torch.testing.assert_close(metric(X, Y), metric(X[perm], Y[perm]))

    def test_symmetry(self):
        if not self.symmetric:
            pytest.skip("metric is not symmetric")
        X, Y = self._inputs(torch.float64)
        metric = self.make_metric()
        torch.testing.assert_close(metric(X, Y), metric(Y, X))

    def test_gradient_flows(self):
        X, Y = self._inputs(torch.float64)
        X.requires_grad_(True)
        self.make_metric()(X, Y).backward()
        assert X.grad is not None and torch.isfinite(X.grad).all()

    def test_deterministic(self):
        X, Y = self._inputs()
        torch.testing.assert_close(self.make_metric()(X, Y), self.make_metric()(X, Y))

    def test_bad_input_errors(self):
        X, Y = self._inputs()
        metric = self.make_metric()
        with pytest.raises(ValueError, match="same n"):
            metric(X, Y[:-1])
        with pytest.raises(ValueError, match="2-D"):
            metric(X[:, 0], Y)
        bad = X.clone()
        bad[0, 0] = float("nan")
        with pytest.raises(ValueError, match="NaN"):
            metric(bad, Y)
