"""The artefact cache: computed once per key, shared across processes, stored safely."""

from __future__ import annotations

import multiprocessing
import sys

import pytest
import torch

from etude.claims import SeedContext
from etude.claims.artefacts import artefact, artefact_key

PRODUCER = '''
import os, time

import torch


def produce(*, seed, device, width, log):
    with open(log, "a") as handle:
        handle.write(f"{os.getpid()}\\n")
    time.sleep(0.5)  # long enough for the other process to ask meanwhile
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.randn(width, generator=g), "width": width, "device": device}


def module_value(*, seed, device):
    return torch.nn.Linear(2, 2)
'''


@pytest.fixture
def producers(tmp_path, monkeypatch):
    folder = tmp_path / "mods"
    folder.mkdir()
    (folder / "artefact_producers.py").write_text(PRODUCER)
    monkeypatch.syspath_prepend(str(folder))
    sys.modules.pop("artefact_producers", None)
    import artefact_producers

    return artefact_producers


def _ask(cache, log, queue):  # pragma: no cover - runs in a child process
    value = artefact("artefact_producers:produce", cache_dir=cache, seed=3, device="cpu", width=4, log=log)
    queue.put(value["weight"].tolist())


def test_computed_once_and_keyed_by_config_seed_device(producers, tmp_path):
    log = str(tmp_path / "calls.log")
    ctx = SeedContext(claim_id="p/x", scale="smoke", seed=3, cache_dir=tmp_path / "cache")
    first = ctx.artefact(producers.produce, width=4, log=log)
    again = ctx.artefact(producers.produce, width=4, log=log)
    assert torch.equal(first["weight"], again["weight"]) and first["width"] == 4
    assert len(open(log).read().split()) == 1
    ctx.artefact(producers.produce, width=5, log=log)  # other config
    SeedContext(claim_id="p/y", scale="smoke", seed=4, cache_dir=tmp_path / "cache").artefact(
        producers.produce, width=4, log=log)  # other seed
    assert len(open(log).read().split()) == 3
    stems = {artefact_key(producers.produce, seed=s, device=d, config={"width": 4}) for s in (0, 1) for d in ("cpu", "cuda")}
    assert len(stems) == 4
    assert "artefact_producers.produce" in next(iter(stems))[0]


@pytest.mark.slow  # two spawned processes
def test_two_processes_asking_at_once_compute_once(producers, tmp_path):
    log = str(tmp_path / "calls.log")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [context.Process(target=_ask, args=(str(tmp_path / "cache"), log, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    values = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert values[0] == values[1]
    assert len(open(log).read().split()) == 1  # one computed, the other waited and loaded


def test_values_must_load_with_weights_only(producers, tmp_path):
    with pytest.raises(TypeError, match="weights_only"):
        artefact(producers.module_value, cache_dir=tmp_path, seed=0, device="cpu")
    with pytest.raises(TypeError, match="module-level function"):
        artefact(lambda *, seed, device: 1, cache_dir=tmp_path, seed=0, device="cpu")


def test_a_damaged_artefact_is_recomputed(producers, tmp_path):
    log = str(tmp_path / "calls.log")
    artefact(producers.produce, cache_dir=tmp_path / "c", seed=0, device="cpu", width=2, log=log)
    (path,) = (tmp_path / "c").glob("*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="could not be loaded"):
        value = artefact(producers.produce, cache_dir=tmp_path / "c", seed=0, device="cpu", width=2, log=log)
    assert value["width"] == 2 and len(open(log).read().split()) == 2
    assert list((tmp_path / "c").glob("*.corrupt-*"))


def test_without_a_cache_dir_the_producer_just_runs(producers, tmp_path):
    log = str(tmp_path / "calls.log")
    ctx = SeedContext(claim_id="p/x", scale="smoke", seed=1)
    ctx.artefact(producers.produce, width=2, log=log)
    ctx.artefact(producers.produce, width=2, log=log)
    assert len(open(log).read().split()) == 2
