"""Conformance suite for Estimator."""

from __future__ import annotations

import pytest
import torch

from etude.kinds import Estimator


from ._base import ConformanceSuite


class EstimatorConformance(ConformanceSuite):
    """Define ``make_estimator()``, ``make_data(seed)`` (a tuple of fit/estimate arguments) and ``fit_steps``."""

    fit_steps = 5

    def make_estimator(self) -> Estimator:
        return self.create()

    def make_data(self, seed: int) -> tuple:
        raise NotImplementedError

    def _fit(self, seed=0):
        torch.manual_seed(seed)
        est = self.make_estimator()
        assert est.fit(*self.make_data(seed), steps=self.fit_steps) is est
        return est

    def test_is_estimator(self):
        assert isinstance(self.make_estimator(), Estimator)

    def test_fit_then_estimate_is_finite(self):
        value = self._fit().estimate(*self.make_data(1))
        if isinstance(value, torch.Tensor):
            assert torch.isfinite(value).all()

    def test_deterministic_under_seed(self):
        a = self._fit(0).estimate(*self.make_data(1))
        b = self._fit(0).estimate(*self.make_data(1))
        if isinstance(a, torch.Tensor):
            torch.testing.assert_close(a, b)

    def test_nan_input_errors(self):
        data = [d.clone() if isinstance(d, torch.Tensor) else d for d in self.make_data(0)]
        first = next((i for i, d in enumerate(data) if isinstance(d, torch.Tensor) and d.is_floating_point()), None)
        if first is None:
            pytest.skip("the data has no floating-point tensor (e.g. categorical data): no NaN to inject")
        data[first].view(-1)[0] = float("nan")
        with pytest.raises(ValueError, match="NaN"):
            self.make_estimator().fit(*data, steps=1)
