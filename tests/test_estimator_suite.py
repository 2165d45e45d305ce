"""The estimator conformance suite on categorical data: the NaN check is skipped when no tensor is floating."""

from __future__ import annotations

import types

import pytest
import torch

import etude
from etude.kinds import Estimator
from etude.testing.conformance import EstimatorConformance


class Frequencies(Estimator):
    """Class frequencies of integer-coded categorical data, with add-one smoothing.

    Used to test the estimator suite on data without a floating-point tensor; not a paper's estimator.

    Examples:
        >>> Frequencies().fit(torch.tensor([0, 1, 1]), steps=1).estimate(torch.tensor([1]))
        tensor(0.6000)
    """

    def fit(self, x, steps=None, progress=False):
        if x.is_floating_point():
            raise TypeError("Frequencies: x must hold integer category codes")
        self.probs = (torch.bincount(x, minlength=int(x.max()) + 1).double() + 1) / (len(x) + int(x.max()) + 1)
        return self

    def estimate(self, x):
        return self.probs[x].float().mean()


def _plugin():
    module = types.ModuleType("frequencies_plugin")

    @etude.hookimpl
    def register_components(registry):
        registry.add("estimator", "frequencies", Frequencies, example={})

    module.register_components = register_components
    return module


@pytest.fixture(autouse=True)
def frequencies_registry(etude_registry):
    etude_registry.add_plugin(_plugin(), "frequencies")
    yield


class TestFrequencies(EstimatorConformance):
    component = ("estimator", "frequencies")

    def make_data(self, seed):
        return (torch.randint(0, 4, (50,), generator=torch.Generator().manual_seed(seed)),)


def test_the_nan_check_is_skipped_not_failed():
    suite = TestFrequencies()
    with pytest.raises(pytest.skip.Exception, match="no floating-point tensor"):
        suite.test_nan_input_errors()
