"""Conformance suite for Procedure."""

from __future__ import annotations

import math

from etude.kinds import Procedure, ProcedureResult

from ._base import ConformanceSuite


class ProcedureConformance(ConformanceSuite):
    """Define ``make_procedure()`` (a tiny configuration) and ``make_task()``; ``run_kwargs`` are passed to run."""

    run_kwargs: dict = {}

    def make_procedure(self) -> Procedure:
        return self.create()

    def make_task(self):
        raise NotImplementedError

    def test_is_procedure(self):
        assert isinstance(self.make_procedure(), Procedure)

    def test_run_returns_finite_metrics_deterministically(self):
        task = self.make_task()
        a = self.make_procedure().run(task, seed=0, **self.run_kwargs)
        b = self.make_procedure().run(task, seed=0, **self.run_kwargs)
        assert isinstance(a, ProcedureResult) and a.metrics
        for name, value in a.metrics.items():
            assert math.isfinite(value), name
            assert math.isclose(value, b.metrics[name], rel_tol=1e-6, abs_tol=1e-9), name
