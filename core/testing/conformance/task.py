"""Conformance suite for Task."""

from __future__ import annotations

import torch

from etude.kinds import Split, Task

from ._base import ConformanceSuite


class TaskConformance(ConformanceSuite):
    """Define ``make_task(seed)``."""

    def make_task(self, seed: int) -> Task:
        return self.create(seed=seed)

    def test_is_task(self):
        assert isinstance(self.make_task(0), Task)

    def test_named_splits(self):
        task = self.make_task(0)
        splits = task.splits()
        assert {"train", "test"} <= set(splits)
        assert set(splits) == set(task.split_names)
        for name, split in splits.items():
            assert isinstance(split, Split), name
            assert split.inputs.shape[0] == split.targets.shape[0] > 0, name
            if task.num_classes is not None:
                assert split.targets.dtype == torch.int64
                assert 0 <= int(split.targets.min()) and int(split.targets.max()) < task.num_classes

    def test_same_seed_same_data(self):
        a, b = self.make_task(0).split("train"), self.make_task(0).split("train")
        torch.testing.assert_close(a.inputs, b.inputs)
        torch.testing.assert_close(a.targets, b.targets)

    def test_different_seed_different_data(self):
        a, b = self.make_task(0).splits(), self.make_task(1).splits()
        assert any(
            a[n].inputs.shape != b[n].inputs.shape or not torch.equal(a[n].inputs, b[n].inputs)
            or not torch.equal(a[n].targets, b[n].targets)
            for n in a
        )
