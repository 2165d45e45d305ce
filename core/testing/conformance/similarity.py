"""Conformance suite for SimilarityMetric."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import SimilarityMetric

from ._base import ConformanceSuite, assert_finite, devices


class SimilarityConformance(ConformanceSuite):
    """Define ``make_metric()`` (default: build ``component`` with no config); optionally ``n``, ``d1``, ``d2``.

    Always checked: a 0-d tensor on the inputs' device, float64 kept, joint
    permutation invariance, finite gradients, determinism, clear errors.
    Opt-in checks, for the properties the metric promises:

    - ``symmetric = True`` (default): ``m(X, Y) == m(Y, X)``;
    - ``value_range = (low, high)``: every value lies in the closed interval;
    - ``identity_is_one = True``: ``m(X, X) == 1``;
    - ``orthogonal_invariant = True``: ``m(X Q, Y R) == m(X, Y)`` for orthogonal Q, R;
    - ``isotropic_scale_invariant = True``: ``m(a X, b Y) == m(X, Y)`` for a, b > 0
      (over scales 1e-3 to 1e3).
    """

    n = 32
    d1, d2 = 6, 9
    symmetric = True
    value_range: tuple[float, float] | None = None
    identity_is_one = False
    orthogonal_invariant = False
    isotropic_scale_invariant = False
    #: absolute tolerance of the invariance checks (float64 inputs)
    invariance_atol = 1e-9

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

    def _several_inputs(self):
        for seed in range(3):
            g = torch.Generator().manual_seed(10 + seed)
            X = torch.randn(self.n, self.d1, generator=g, dtype=torch.float64)
            Y = X[:, :1] * (seed - 1) + torch.randn(self.n, self.d2, generator=g, dtype=torch.float64)
            yield X, Y

    def test_value_range(self):
        if self.value_range is None:
            pytest.skip("no value_range declared")
        low, high = self.value_range
        metric = self.make_metric()
        for X, Y in self._several_inputs():
            for a, b in ((X, Y), (X, X), (X, -X), (X, torch.randn_like(X))):
                value = float(metric(a, b))
                assert low - 1e-9 <= value <= high + 1e-9, f"value {value} outside {self.value_range}"

    def test_identity_is_one(self):
        if not self.identity_is_one:
            pytest.skip("identity_is_one not declared")
        metric = self.make_metric()
        for X, _ in self._several_inputs():
            torch.testing.assert_close(metric(X, X), torch.ones((), dtype=X.dtype), atol=self.invariance_atol, rtol=0)

    def test_orthogonal_invariance(self):
        if not self.orthogonal_invariant:
            pytest.skip("orthogonal_invariant not declared")
        metric = self.make_metric()
        g = torch.Generator().manual_seed(3)
        for X, Y in self._several_inputs():
            Q, _ = torch.linalg.qr(torch.randn(self.d1, self.d1, generator=g, dtype=torch.float64))
            R, _ = torch.linalg.qr(torch.randn(self.d2, self.d2, generator=g, dtype=torch.float64))
            torch.testing.assert_close(metric(X @ Q, Y @ R), metric(X, Y), atol=self.invariance_atol, rtol=0)

    def test_isotropic_scale_invariance(self):
        if not self.isotropic_scale_invariant:
            pytest.skip("isotropic_scale_invariant not declared")
        metric = self.make_metric()
        for X, Y in self._several_inputs():
            expected = metric(X, Y)
            for a, b in ((1e-3, 1.0), (1e3, 7.0), (0.5, 1e3)):
                torch.testing.assert_close(metric(a * X, b * Y), expected, atol=self.invariance_atol, rtol=0)

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
