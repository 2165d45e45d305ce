"""Conformance suite for Target."""

from __future__ import annotations

import math

import torch

from etude.kinds import Target

from ._base import ConformanceSuite, assert_finite


class TargetConformance(ConformanceSuite):
    """Define ``make_target()``."""

    def make_target(self) -> Target:
        return self.create()

    def test_is_target(self):
        assert isinstance(self.make_target(), Target)

    def test_log_prob_shape_and_counter(self):
        target = self.make_target()
        x = torch.randn(7, 3, target.dim, generator=torch.Generator().manual_seed(0))
        before = target.energy_calls
        lp = target.log_prob(x)
        assert lp.shape == (7, 3)
        assert_finite(lp, "log_prob")
        assert target.energy_calls - before == 21
        torch.testing.assert_close(target.energy(x), -target.log_prob(x))

    def test_event_shape(self):
        target = self.make_target()
        assert tuple(target.event_shape) == (target.dim,)

    def test_log_Z_is_number_or_none(self):
        log_z = self.make_target().log_Z
        assert log_z is None or math.isfinite(float(log_z))

    def test_exact_samples(self):
        target = self.make_target()
        if not target.has_exact_samples:
            return
        torch.manual_seed(0)
        s = target.sample((11,))
        assert s.shape == (11, target.dim)
        assert_finite(s, "samples")

    def test_float64(self):
        target = self.make_target().to(dtype=torch.float64)
        assert target.log_prob(torch.zeros(2, target.dim, dtype=torch.float64)).dtype == torch.float64
