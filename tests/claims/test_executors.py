"""Executors: the worker pool (--jobs), dying workers, and concurrent writers to one results folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import etude
from etude.claims import reproduce
from etude.claims.store import ResultsStore

HELPER = '''
import os, signal, time

import torch


def ok_run(ctx):
    time.sleep(float(os.environ.get("POOL_SLEEP", "0")))
    return {"seed": ctx.seed, "noise": float(torch.rand(())), "threads": torch.get_num_threads(), "pid": os.getpid()}


def raising_run(ctx):
    if ctx.seed == 1:
        raise ValueError("seed 1 raised")
    return {"seed": ctx.seed}


def killed_run(ctx):
    if ctx.seed == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"seed": ctx.seed}


def judge(ctx, runs):
    from etude.claims import Outcome

    return Outcome(holds=True, metrics={"seeds": [r["seed"] for r in runs], "noise": [r["noise"] for r in runs]
                                        if "noise" in runs[0] else []})
'''


@pytest.fixture
def helper(tmp_path, monkeypatch):
    """An importable module of claim functions (spawned workers import it by name)."""
    folder = tmp_path / "helper"
    folder.mkdir()
    (folder / "pool_claims.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _register(etude_registry, claims):
    def register_claims(registry):
        for name, run, seeds in claims:
            registry.add_claim(f"pool/{name}", run=f"pool_claims:{run}", judge="pool_claims:judge", statement=name,
                               source="-", seeds={"smoke": seeds})

    import types

    module = types.SimpleNamespace(register_claims=etude.hookimpl(register_claims))
    assert etude_registry.add_plugin(module, "pool").status == "loaded"


@pytest.mark.slow  # spawns worker processes that import torch
def test_pool_matches_serial_and_survives_raising_and_killed_units(etude_registry, helper, tmp_path):
    _register(etude_registry, [("ok", "ok_run", 4), ("raises", "raising_run", 3), ("killed", "killed_run", 3)])
    pooled = {r.id: r for r in reproduce(scale="smoke", out=tmp_path / "pool", progress=False, jobs=2)}
    assert pooled["pool/ok"].holds is True and pooled["pool/ok"].metrics["seeds"] == [0, 1, 2, 3]
    raises = pooled["pool/raises"]
    assert raises.status == "error" and raises.failed_seeds == [1] and "seed 1 raised" in raises.error
    killed = pooled["pool/killed"]
    assert killed.status == "error" and killed.failed_seeds == [0]
    assert "WorkerDied" in killed.error and "SIGKILL" in killed.error
    store = ResultsStore(tmp_path / "pool")
    assert [store.read_unit("pool/killed", "smoke", s)["status"] for s in range(3)] == ["error", "ok", "ok"]
    units = [store.read_unit("pool/ok", "smoke", s)["measurements"] for s in range(4)]
    assert {u["threads"] for u in units} == {1}  # one torch thread per worker on CPU
    pids = {store.read_unit(c, "smoke", s).get("pid") for c, n in (("pool/ok", 4), ("pool/raises", 3)) for s in range(n)}
    assert None not in pids and os.getpid() not in pids  # ran in worker processes
    # bit-identical to the same units run serially in this process
    serial = reproduce(scale="smoke", out=tmp_path / "serial", progress=False, claims=["pool/ok"], jobs=1)
    assert serial[0].metrics["noise"] == pooled["pool/ok"].metrics["noise"]


WRITER = '''
import sys, types
import etude
from etude.claims import reproduce
from etude.testing.registry import temporary_registry

sys.path.insert(0, {helper!r})
names = sys.argv[2:]

def register_claims(registry):
    for name in names:
        registry.add_claim(f"pool/{{name}}", run="pool_claims:ok_run", judge="pool_claims:judge", statement=name,
                           source="-", seeds={{"smoke": 3}})

with temporary_registry() as temp:
    temp.add_plugin(types.SimpleNamespace(register_claims=etude.hookimpl(register_claims)), "pool")
    results = reproduce(scale="smoke", out=sys.argv[1], progress=False)
    assert all(r.holds for r in results), results
'''


@pytest.mark.slow  # two processes that import torch
def test_two_writers_to_one_folder_keep_all_four_claims(helper, tmp_path):
    """Issue 14 item 1: two reproduce processes, two claims each, one --out: all four claims survive."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(helper=str(helper)))
    out = tmp_path / "shared"
    env = {**os.environ, "POOL_SLEEP": "0.2"}
    procs = [subprocess.Popen([sys.executable, str(script), str(out), *names], env=env)
             for names in (["w1-a", "w1-b"], ["w2-a", "w2-b"])]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    data = json.loads((out / "results.json").read_text())
    assert sorted(c["id"] for c in data["claims"]) == ["pool/w1-a", "pool/w1-b", "pool/w2-a", "pool/w2-b"]
    assert all(c["holds"] is True for c in data["claims"])
    report = (out / "report.md").read_text()
    assert all(f"pool/{n}" in report for n in ("w1-a", "w1-b", "w2-a", "w2-b"))


def test_results_store_publish_sees_every_writer(tmp_path):
    """Two stores on one folder publishing in turn: each publish lists every claim written so far."""
    from etude.claims.outcome import ClaimResult
    from etude.claims.store import ResultsStore

    a, b = ResultsStore(tmp_path), ResultsStore(tmp_path)
    a.write_claim(ClaimResult(id="p/a", plugin="p", scale="smoke", holds=True))
    b.write_claim(ClaimResult(id="p/b", plugin="p", scale="smoke", holds=False))
    a.publish({"etude_version": "x"})  # a never saw b's claim in memory: the view is built from the files
    assert [c["id"] for c in json.loads((tmp_path / "results.json").read_text())["claims"]] == ["p/a", "p/b"]


def test_cli_has_jobs(capsys):
    from etude.cli import build_parser

    args = build_parser().parse_args(["reproduce", "--jobs", "3"])
    assert args.jobs == 3
