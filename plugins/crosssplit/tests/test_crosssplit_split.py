"""The split is disjoint and covers the data; each network only ever gets its own half's labels."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import etude
from etude_crosssplit import crosssplit as cs_module
from etude_crosssplit.split import SubsetLoader, disjoint_halves


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 500), st.integers(0, 1000))
def test_halves_disjoint_and_covering(n, seed):
    a, b = disjoint_halves(n, torch.Generator().manual_seed(seed))
    assert abs(len(a) - len(b)) <= 1
    assert set(a.tolist()).isdisjoint(b.tolist())
    assert sorted(a.tolist() + b.tolist()) == list(range(n))


def test_halves_reject_tiny_n():
    with pytest.raises(ValueError, match="n must be"):
        disjoint_halves(1, torch.Generator())


def test_subset_loader_yields_each_own_index_once_per_pass():
    idx = torch.tensor([3, 7, 8, 20, 21, 40, 41])
    loader = SubsetLoader(idx, 3, torch.Generator().manual_seed(0))
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    assert sorted(torch.cat(batches).tolist()) == idx.tolist()
    cyc = loader.cycle()
    seen = torch.cat([next(cyc) for _ in range(9)])
    assert set(seen.tolist()) <= set(idx.tolist())


def _task():
    return etude.create("task", "breast-cancer", label_noise=0.3, seed=0)


class _Recorder:
    """A SubsetLoader that records every loader built and every batch it yields."""

    loaders: list = []

    def __init__(self, indices, batch_size, generator):
        self.inner = SubsetLoader(indices, batch_size, generator)
        self.batch_size = batch_size
        self.batches = []
        _Recorder.loaders.append(self)

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        for b in self.inner:
            self.batches.append(b)
            yield b

    def cycle(self):
        while True:
            yield from self


@pytest.mark.parametrize("warmup_on", ["own", "all"])
def test_each_network_iterates_only_its_half(monkeypatch, warmup_on):
    _Recorder.loaders = []
    monkeypatch.setattr(cs_module, "SubsetLoader", _Recorder)
    ranges = []
    original = cs_module.CrossSplit._jsd_range
    monkeypatch.setattr(cs_module.CrossSplit, "_jsd_range",
                        lambda self, peer, data, idx: ranges.append(idx.clone()) or original(self, peer, data, idx))
    proc = cs_module.CrossSplit(epochs=3, warmup=1, hidden=(8,), batch_size=16, unlabelled_batch_size=8,
                                warmup_on=warmup_on)
    result = proc.run(_task(), seed=0)
    h1, h2 = result.info["halves"]
    n = len(h1) + len(h2)
    assert set(h1.tolist()).isdisjoint(h2.tolist()) and len(set(h1.tolist()) | set(h2.tolist())) == n
    labelled = [r for r in _Recorder.loaders if r.batch_size == 16]
    unlabelled = [r for r in _Recorder.loaders if r.batch_size == 8]
    # warm-up epoch: one labelled loader per network; then per epoch: labelled (own) + unlabelled (peer's half)
    assert len(labelled) == 2 * 3 and len(unlabelled) == 2 * 2
    for i, loader in enumerate(labelled):
        own = h1 if i % 2 == 0 else h2
        if i < 2 and warmup_on == "all":
            assert torch.equal(loader.inner.indices, torch.arange(n))
            continue
        assert torch.equal(loader.inner.indices, own)
        assert set(torch.cat(loader.batches).tolist()) == set(own.tolist())  # the whole half, nothing else
    for i, loader in enumerate(unlabelled):
        other = h2 if i % 2 == 0 else h1
        assert set(torch.cat(loader.batches).tolist()) <= set(other.tolist())
    # J_min / J_max of network k come from its own labelled half (default jsd_range_on="own")
    assert len(ranges) == 4
    for i, idx in enumerate(ranges):
        assert torch.equal(idx, h1 if i % 2 == 0 else h2)


def test_peer_is_in_eval_mode_without_grad(monkeypatch):
    calls = []
    original = cs_module.build_network

    def build(*args, **kwargs):
        net = original(*args, **kwargs)
        net_id = len([c for c in calls if c == "built"])
        calls.append("built")
        net.register_forward_hook(lambda m, i, o, k=net_id: calls.append((k, m.training, torch.is_grad_enabled())))
        return net

    monkeypatch.setattr(cs_module, "build_network", build)
    cs_module.CrossSplit(epochs=2, warmup=1, hidden=(8,), batch_size=32).run(_task(), seed=0)
    records = [c for c in calls if c != "built"]
    assert any(not training and not grad for _, training, grad in records)  # peer / evaluation calls
    # whenever a gradient can flow, the network is the one in training mode; eval-mode calls never carry grad
    assert all(training for _, training, grad in records if grad)
    assert all(not grad for _, training, grad in records if not training)
