"""The reproduce runner: per-seed units, isolation of failures, resumable runs, the documented schema."""

from __future__ import annotations

import json
import types
import warnings

import jsonschema
import pytest

import etude
from etude.claims import JudgeContext, Outcome, SeedContext, reproduce, results_schema, run_claim
from etude.claims.store import CorruptFileWarning, ResultsStore
from etude.claims.units import Unit, run_unit

CALLS: list[tuple[str, int]] = []


def good_run(ctx: SeedContext) -> dict:
    import torch

    CALLS.append((ctx.claim_id, ctx.seed))
    noise = float(torch.rand(()))  # the global RNG, seeded by the runner per unit
    return {"value": 0.5, "seed": ctx.seed, "noise": noise, "curve": torch.arange(3.0), "nan": float("nan")}


def good_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert [r["seed"] for r in runs] == ctx.seeds
    assert runs[0]["curve"] == [0.0, 1.0, 2.0] and runs[0]["nan"] != runs[0]["nan"]  # NaN kept for the judge
    fig, ax = plt.subplots()
    ax.plot([r["noise"] for r in runs])
    ctx.save_figure(fig, "noise")
    return Outcome(holds=True, metrics={"value": 0.5, "n_seeds": len(runs), "zero": -0.0})


def failing_run(ctx: SeedContext) -> dict:
    CALLS.append((ctx.claim_id, ctx.seed))
    raise RuntimeError("the experiment broke")


def flaky_run(ctx: SeedContext) -> dict:
    """Fails on seed 1 only."""
    CALLS.append((ctx.claim_id, ctx.seed))
    if ctx.seed == 1 and FLAKY["broken"]:
        raise RuntimeError("seed 1 broke")
    return {"seed": ctx.seed}


FLAKY = {"broken": True}


def wrong_type_run(ctx: SeedContext):
    return 3.0


def wrong_type_judge(ctx: JudgeContext, runs: list[dict]):
    return {"holds": True}


def seeds_judge(ctx: JudgeContext, runs: list[dict]) -> Outcome:
    return Outcome(holds=True, metrics={"seeds": [r["seed"] for r in runs]})


def _plugin():
    module = types.ModuleType("claims_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("demo/a-fails", run=failing_run, judge=good_judge, statement="fails", source="Table 1",
                           paper={"value": 1})
        registry.add_claim("demo/b-good", run=good_run, judge=good_judge, statement="works", source="Fig. 2",
                           paper={"value": 0.5}, seeds={"smoke": 2})
        registry.add_claim("demo/c-full-only", run=good_run, judge=good_judge, statement="big", source="Table 3",
                           scales=("full",))
        registry.add_claim("demo/d-wrong-type", run=good_run, judge=wrong_type_judge, statement="bad judge", source="-")
        registry.add_claim("demo/e-flaky", run=flaky_run, judge=seeds_judge, statement="flaky", source="-",
                           seeds={"smoke": 3})
        registry.add_claim("demo/f-bad-run", run=wrong_type_run, judge=good_judge, statement="bad run", source="-")

    module.register_claims = register_claims
    return module


@pytest.fixture
def demo(etude_registry):
    record = etude_registry.add_plugin(_plugin(), "demo")
    assert record.status == "loaded", record.error
    CALLS.clear()
    FLAKY["broken"] = True
    return etude_registry


def test_failing_units_are_recorded_and_the_run_continues(demo, tmp_path):
    results = {r.id: r for r in reproduce(scale="smoke", out=tmp_path, progress=False)}
    failed = results["demo/a-fails"]
    assert failed.error.startswith("RuntimeError: the experiment broke") and failed.status == "error"
    assert failed.holds is None and failed.failed_seeds == [0]
    good = results["demo/b-good"]
    assert good.holds is True and good.seeds == [0, 1] and good.metrics["n_seeds"] == 2
    assert results["demo/c-full-only"].status == "not-run" and "not run at this scale" in results["demo/c-full-only"].notes
    assert "Outcome" in results["demo/d-wrong-type"].error
    assert "must return a dict" in results["demo/f-bad-run"].error
    flaky = results["demo/e-flaky"]
    assert flaky.status == "error" and flaky.failed_seeds == [1] and "seed 1 broke" in flaky.error
    assert (tmp_path / good.figures[0]).exists()
    # every unit is on disk at once, failed ones with their error
    unit = json.loads((tmp_path / "units" / "demo__e-flaky" / "smoke" / "seed-00001.json").read_text())
    assert unit["status"] == "error" and "seed 1 broke" in unit["error"]


def test_results_json_matches_schema_and_report(demo, tmp_path):
    reproduce(scale="smoke", out=tmp_path, progress=False)
    data = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(data, results_schema())
    assert {c["id"] for c in data["claims"]} == {"demo/a-fails", "demo/b-good", "demo/c-full-only",
                                                 "demo/d-wrong-type", "demo/e-flaky", "demo/f-bad-run"}
    for key in ("etude_version", "python", "torch", "host", "date", "plugins", "git_commit"):
        assert key in data
    assert data["torch"] and data["python"] and data["date"].endswith("Z")
    report = (tmp_path / "report.md").read_text()
    assert "## demo" in report
    assert "- ✓ **holds** `demo/b-good` [smoke]: value: paper 0.5, ours 0.5" in report
    assert "**error**" in report and "**not run**" in report
    page = (tmp_path / "report.html").read_text()
    assert 'data-verdict="holds"' in page and (data["git_commit"] or "") in page


def test_resume_runs_only_missing_or_failed_seeds(demo, tmp_path):
    reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-flaky"])
    assert CALLS == [("demo/e-flaky", 0), ("demo/e-flaky", 1), ("demo/e-flaky", 2)]
    CALLS.clear()
    FLAKY["broken"] = False
    (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-flaky"])
    assert CALLS == [("demo/e-flaky", 1)]  # only the failed unit runs again
    assert result.holds is True and result.metrics["seeds"] == [0, 1, 2]
    CALLS.clear()
    (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-flaky"], seeds=10)
    assert CALLS == [("demo/e-flaky", s) for s in range(3, 10)]  # --seeds 10 after 3 computes seeds 3-9
    assert result.metrics["seeds"] == list(range(10))
    CALLS.clear()
    (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-flaky"], seeds=10)
    assert CALLS == [] and result.reused  # nothing left to do: the stored result comes back
    (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-flaky"], seeds=4)
    assert CALLS == [] and not result.reused and result.metrics["seeds"] == [0, 1, 2, 3]  # judged again, no runs
    reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/e-*"], seeds=2, rerun=True)
    assert CALLS == [("demo/e-flaky", 0), ("demo/e-flaky", 1)]


def test_an_interrupted_run_resumes_at_the_first_missing_seed(demo, tmp_path):
    store = ResultsStore(tmp_path)
    claim = etude.get_registry().claim("demo/b-good")
    for seed in (0,):  # seed 0 finished before the interruption
        store.write_unit(run_unit(Unit(claim_id=claim.id, run=claim.run, scale="smoke", seed=seed)))
    CALLS.clear()
    (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/b-good"], seeds=3)
    assert CALLS == [("demo/b-good", 1), ("demo/b-good", 2)]
    assert result.holds is True and result.seeds == [0, 1, 2]


def test_units_are_seeded_per_unit_not_by_the_process(demo, tmp_path):
    import torch

    claim = etude.get_registry().claim("demo/b-good")
    alone = run_unit(Unit(claim_id=claim.id, run=claim.run, scale="smoke", seed=1))
    torch.manual_seed(12345)
    torch.rand(100)  # whatever the process did before
    after_other_work = run_unit(Unit(claim_id=claim.id, run=claim.run, scale="smoke", seed=1))
    assert alone["measurements"] == after_other_work["measurements"]
    other_seed = run_unit(Unit(claim_id=claim.id, run=claim.run, scale="smoke", seed=2))
    assert other_seed["measurements"]["noise"] != alone["measurements"]["noise"]
    # the same unit inside a full run gives the same record
    reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/b-good"], seeds=2)
    stored = ResultsStore(tmp_path).read_unit("demo/b-good", "smoke", 1)
    assert json.dumps(stored["measurements"]) == json.dumps(alone["measurements"])


def test_figures_are_named_by_scale(demo, tmp_path):
    smoke = run_claim("demo/b-good", scale="smoke", seeds=[0], out=tmp_path)
    quick = run_claim("demo/b-good", scale="quick", seeds=[0], out=tmp_path)
    assert smoke.figures != quick.figures
    assert all((tmp_path / f).exists() for f in smoke.figures + quick.figures)
    assert "-smoke-" in smoke.figures[0] and "-quick-" in quick.figures[0]


def test_corrupt_results_are_kept_aside_and_the_run_goes_on(demo, tmp_path):
    reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/b-good"])
    (tmp_path / "results.json").write_text('{"claims": [')  # truncated
    unit = tmp_path / "units" / "demo__b-good" / "smoke" / "seed-00001.json"
    unit.write_bytes(b"\x00\x00")
    CALLS.clear()
    with pytest.warns(CorruptFileWarning) as caught:
        (result,) = reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/b-good"])
    messages = " ".join(str(w.message) for w in caught)
    assert "results.json" in messages and "seed-00001.json" in messages
    assert CALLS == [("demo/b-good", 1)] and result.holds is True
    assert list(tmp_path.glob("results.json.corrupt-*")) and list(unit.parent.glob("seed-00001.json.corrupt-*"))
    data = json.loads((tmp_path / "results.json").read_text())
    assert [c["id"] for c in data["claims"]] == ["demo/b-good"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reproduce(scale="smoke", out=tmp_path, progress=False, claims=["demo/b-good"])  # clean now


def test_pick_needs_only_the_current_scale():
    ctx = SeedContext(claim_id="demo/x", scale="quick", seed=0)
    assert ctx.pick(smoke=1, quick=2) == 2
    with pytest.raises(ValueError, match="no value for scale 'quick'"):
        ctx.pick(smoke=1, full=3)
    assert ctx.generator().initial_seed() == 0


def test_bad_arguments(demo, tmp_path):
    with pytest.raises(ValueError, match="scale must be one of"):
        reproduce(scale="huge", out=tmp_path)
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        reproduce(scale="smoke", seeds=0, out=tmp_path)
    with pytest.raises(ValueError, match="jobs must be"):
        reproduce(scale="smoke", jobs=0, out=tmp_path)


def test_the_old_single_function_form_is_refused(etude_registry):
    def register_claims(registry):
        registry.add_claim("old/one", "m:f", statement="s", source="T")

    module = types.SimpleNamespace(register_claims=etude.hookimpl(register_claims))
    record = etude_registry.add_plugin(module, "old", expect_failure=True)
    assert record.status == "failed" and "add_claim" in record.error


def test_cli_reproduce_json_and_exit_status(demo, tmp_path, capsys):
    from etude.cli import main

    code = main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--json"])
    assert code == 1  # a claim raised
    data = json.loads(capsys.readouterr().out)
    for row in data["claims"]:
        assert {"id", "plugin", "scale", "holds", "metrics", "seconds", "error"} <= set(row)
    code = main(["reproduce", "--scale", "smoke", "--out", str(tmp_path / "b"), "--claim", "demo/b-good", "--quiet"])
    assert code == 0
    capsys.readouterr()
    code = main(["reproduce", "--scale", "smoke", "--out", str(tmp_path / "b"), "--claim", "demo/b-good"])
    assert code == 0 and "skipped" in capsys.readouterr().out  # a rerun says what it skipped
