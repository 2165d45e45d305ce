"""Conformance suite for Sampler."""

from __future__ import annotations

import torch

from etude.kinds import Sampler, Target

from ._base import ConformanceSuite, assert_finite


class SamplerConformance(ConformanceSuite):
    """Define ``make_sampler()``, ``make_target()`` and ``fit_steps``."""

    fit_steps = 3

    def make_sampler(self) -> Sampler:
        return self.create()

    def make_target(self) -> Target:
        raise NotImplementedError

    def _fitted(self):
        torch.manual_seed(0)
        target = self.make_target()
        sampler = self.make_sampler()
        assert sampler.fit(target, steps=self.fit_steps) is sampler
        return sampler, target

    def test_is_sampler(self):
        assert isinstance(self.make_sampler(), Sampler)

    def test_samples_shape_and_finite(self):
        sampler, target = self._fitted()
        s = sampler.sample(13)
        assert s.shape == (13, target.dim)
        assert_finite(s, "samples")

    def test_sampling_is_deterministic_under_generator(self):
        sampler, _ = self._fitted()
        a = sampler.sample(5, generator=torch.Generator().manual_seed(1))
        b = sampler.sample(5, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(a, b)
