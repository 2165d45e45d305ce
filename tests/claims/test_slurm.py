"""The cluster path (--executor slurm) through submitit's LocalExecutor and DebugExecutor."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import types

import pytest

import etude
from etude.claims import reproduce
from etude.claims.slurm import UnitJob, _gigabytes, _minutes, check_options, load_executor_config, status
from etude.claims.store import ResultsStore
from etude.claims.units import Unit

submitit = pytest.importorskip("submitit")

HELPER = '''
import os, pathlib, signal, time

import torch


def ok_run(ctx):
    return {"seed": ctx.seed, "noise": float(torch.rand(()))}


def killed_run(ctx):
    if ctx.seed == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"seed": ctx.seed, "noise": 0.0}


def slow_once_run(ctx):
    """Sleeps on its first attempt (so the test can preempt it), returns at once when requeued."""
    marker = pathlib.Path(os.environ["SLOW_MARKER"])
    if not marker.exists():
        marker.write_text("started")
        time.sleep(60)
    return {"seed": ctx.seed, "noise": 1.0}


def judge(ctx, runs):
    from etude.claims import Outcome

    return Outcome(holds=True, metrics={"seeds": [r["seed"] for r in runs], "noise": [r["noise"] for r in runs]})
'''


@pytest.fixture
def cluster_claims(etude_registry, tmp_path, monkeypatch):
    folder = tmp_path / "helper"
    folder.mkdir()
    (folder / "slurm_claims.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))

    def register_claims(registry):
        for name, run, seeds in (("ok", "ok_run", 3), ("killed", "killed_run", 2), ("slow", "slow_once_run", 1)):
            registry.add_claim(f"cluster/{name}", run=f"slurm_claims:{run}", judge="slurm_claims:judge",
                               statement=name, source="-", seeds={"smoke": seeds})

    record = etude_registry.add_plugin(types.SimpleNamespace(register_claims=etude.hookimpl(register_claims)), "cluster")
    assert record.status == "loaded", record.error
    return folder


def test_debug_executor_matches_the_local_run(cluster_claims, tmp_path):
    debug = reproduce(scale="smoke", out=tmp_path / "debug", progress=False, claims=["cluster/ok"],
                      executor="submitit-debug")
    local = reproduce(scale="smoke", out=tmp_path / "local", progress=False, claims=["cluster/ok"])
    assert debug[0].holds is True and debug[0].metrics == local[0].metrics
    assert (tmp_path / "debug" / "slurm" / "jobs.json").exists()


@pytest.mark.slow  # real subprocesses importing torch
def test_local_executor_runs_units_as_jobs_and_reports_a_killed_one(cluster_claims, tmp_path):
    out = tmp_path / "run"
    results = {r.id: r for r in reproduce(scale="smoke", out=out, progress=False, claims=["cluster/ok", "cluster/killed"],
                                          executor="submitit-local", executor_options={"poll_seconds": 0.2})}
    assert results["cluster/ok"].holds is True and results["cluster/ok"].metrics["seeds"] == [0, 1, 2]
    killed = results["cluster/killed"]
    assert killed.status == "error" and killed.failed_seeds == [1] and "JobFailed" in killed.error
    store = ResultsStore(out)
    assert store.read_unit("cluster/ok", "smoke", 2)["job_id"]  # written by the job itself
    manifest = json.loads((out / "slurm" / "jobs.json").read_text())
    assert len(manifest) == 5 and all((out / "slurm" / e["job_id"]).is_dir() for e in manifest.values())  # logs
    table = status(out)
    assert table["cluster/ok [smoke]"]["done"] == [0, 1, 2]
    assert table["cluster/killed [smoke]"] == {"done": [0], "failed": [1], "running": [], "pending": []}
    local = reproduce(scale="smoke", out=tmp_path / "plain", progress=False, claims=["cluster/ok"])
    assert local[0].metrics["noise"] == results["cluster/ok"].metrics["noise"]  # bit-identical on another process


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the task process through /proc")
def test_a_preempted_unit_is_requeued_by_checkpointing(cluster_claims, tmp_path, monkeypatch):
    marker = tmp_path / "started"
    monkeypatch.setenv("SLOW_MARKER", str(marker))
    claim = etude.get_registry().claim("cluster/slow")
    unit = Unit(claim_id=claim.id, run=claim.run, scale="smoke", seed=0)
    executor = submitit.AutoExecutor(folder=tmp_path / "slurm" / "%j", cluster="local")
    executor.update_parameters(timeout_min=5)
    job = executor.submit(UnitJob(str(tmp_path / "out")), unit)
    deadline = time.time() + 120
    while not marker.exists():
        assert time.time() < deadline, "the job never started"
        time.sleep(0.2)
    # what SLURM does on preemption: USR2 to the task; submitit's handler checkpoints and requeues the unit
    os.kill(_child_of(job._process.pid), signal.SIGUSR2)
    record = job.result()
    assert record["status"] == "ok" and record["measurements"] == {"seed": 0, "noise": 1.0}
    assert ResultsStore(tmp_path / "out").read_unit("cluster/slow", "smoke", 0)["status"] == "ok"


def _child_of(pid: int) -> int:
    """The task process the submitit-local controller ``pid`` started (from /proc)."""
    import pathlib

    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            return int(stat.parent.name)
    raise AssertionError(f"no task process under the controller {pid}")


def test_checkpoint_resubmits_the_same_unit():
    unit = Unit(claim_id="p/x", run="m:f", scale="smoke", seed=3)
    delayed = UnitJob("out").checkpoint(unit)
    assert delayed.args == (unit,) and isinstance(delayed.function, UnitJob)


def test_executor_options(tmp_path):
    config = tmp_path / "mila.yaml"
    config.write_text("partition: long\ngpus-per-unit: 1\ncpus_per_unit: 4\nmem: 16G\ntime: '2:00:00'\n"
                      "array_parallelism: 50\nsetup: ['module load anaconda/3']\n")
    options = load_executor_config(config)
    assert options["partition"] == "long" and options["gpus_per_unit"] == 1
    assert _minutes(options["time"]) == 120 and _minutes(90) == 90 and _minutes("1-00:00:00") == 1440
    assert _gigabytes("16G") == 16 and _gigabytes("512M") == 0.5 and _gigabytes(8) == 8
    with pytest.raises(ValueError, match="unknown option 'partitoin'.*partition"):
        check_options({"partitoin": "long"})
    with pytest.raises(ValueError, match="gpus_per_unit must be"):
        check_options({"gpus_per_unit": -1})
    (tmp_path / "bad.yaml").write_text("- a list\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_executor_config(tmp_path / "bad.yaml")


def test_cli_status_and_flags(cluster_claims, tmp_path, capsys):
    from etude.cli import main

    assert main(["reproduce", "--scale", "smoke", "--claim", "cluster/ok", "--out", str(tmp_path), "--quiet",
                 "--executor", "submitit-debug", "--time", "10", "--mem", "1G"]) == 0
    capsys.readouterr()
    assert main(["reproduce", "--status", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cluster/ok [smoke]" in out and "0 1 2" in out
    assert main(["reproduce", "--partition", "long", "--out", str(tmp_path)]) == 2  # needs --executor slurm


@pytest.mark.skipif(submitit.SlurmExecutor.affinity() > 0, reason="SLURM is available here")
def test_slurm_without_slurm_is_a_clear_error(tmp_path):
    from etude.claims.slurm import make_executor

    with pytest.raises(ValueError, match="SLURM is not available here"):
        make_executor("slurm", tmp_path, {})
