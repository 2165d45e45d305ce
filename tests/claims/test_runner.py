"""The reproduce runner: isolation of failing claims, resumable reruns, the documented schema."""

from __future__ import annotations

import json
import types

import jsonschema
import pytest

import etude
from etude.claims import ClaimContext, Outcome, reproduce, results_schema

CALLS: list[str] = []


def good(ctx: ClaimContext) -> Outcome:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CALLS.append(ctx.claim_id)
    fig, ax = plt.subplots()
    ax.plot(ctx.seeds)
    ctx.save_figure(fig, "seeds")
    return Outcome(holds=True, metrics={"value": 0.5, "n_seeds": len(ctx.seeds)})


def failing(ctx: ClaimContext) -> Outcome:
    CALLS.append(ctx.claim_id)
    raise RuntimeError("the experiment broke")


def wrong_type(ctx: ClaimContext):
    return {"holds": True}


def _plugin():
    module = types.ModuleType("claims_plugin")

    @etude.hookimpl
    def register_claims(registry):
        registry.add_claim("demo/a-fails", failing, statement="fails", source="Table 1", paper={"value": 1})
        registry.add_claim("demo/b-good", good, statement="works", source="Fig. 2", paper={"value": 0.5},
                           seeds={"smoke": 2})
        registry.add_claim("demo/c-full-only", good, statement="big", source="Table 3", scales=("full",))
        registry.add_claim("demo/d-wrong-type", wrong_type, statement="bad return", source="-")

    module.register_claims = register_claims
    return module


@pytest.fixture
def demo(etude_registry):
    etude_registry.add_plugin(_plugin(), "demo")
    CALLS.clear()
    return etude_registry


def test_failing_claim_is_recorded_and_run_continues(demo, tmp_path):
    results = {r.id: r for r in reproduce(scale="smoke", out=tmp_path, progress=False)}
    assert results["demo/a-fails"].error.startswith("RuntimeError: the experiment broke")
    assert results["demo/a-fails"].holds is None and results["demo/a-fails"].status == "error"
    assert results["demo/b-good"].holds is True and results["demo/b-good"].seeds == [0, 1]
    assert results["demo/c-full-only"].status == "not-run" and "not run at this scale" in results["demo/c-full-only"].notes
    assert "Outcome" in results["demo/d-wrong-type"].error
    assert (tmp_path / results["demo/b-good"].figures[0]).exists()


def test_results_json_matches_schema_and_report(demo, tmp_path):
    reproduce(scale="smoke", out=tmp_path, progress=False)
    data = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(data, results_schema())
    assert {c["id"] for c in data["claims"]} == {"demo/a-fails", "demo/b-good", "demo/c-full-only", "demo/d-wrong-type"}
    report = (tmp_path / "report.md").read_text()
    assert "## demo" in report and "- ✓ **holds** `demo/b-good` [smoke]: value: paper 0.5, ours 0.5" in report
    assert "**error**" in report and "**not run**" in report
    assert 'data-verdict="holds"' in (tmp_path / "report.html").read_text()


def test_rerun_skips_completed_claims(demo, tmp_path):
    reproduce(scale="smoke", out=tmp_path, progress=False)
    assert CALLS == ["demo/a-fails", "demo/b-good"]
    CALLS.clear()
    reproduce(scale="smoke", out=tmp_path, progress=False)
    assert CALLS == ["demo/a-fails"]  # only the errored claim runs again
    CALLS.clear()
    reproduce(scale="smoke", out=tmp_path, progress=False, seeds=3)
    assert CALLS == ["demo/a-fails", "demo/b-good"]  # a different seed count is a different run
    CALLS.clear()
    reproduce(scale="smoke", out=tmp_path, progress=False, seeds=3, rerun=True, claims=["demo/b-*"])
    assert CALLS == ["demo/b-good"]


def test_bad_arguments(demo, tmp_path):
    with pytest.raises(ValueError, match="scale must be one of"):
        reproduce(scale="huge", out=tmp_path)
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        reproduce(scale="smoke", seeds=0, out=tmp_path)


def test_cli_reproduce_json_and_exit_status(demo, tmp_path, capsys):
    from etude.cli import main

    code = main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--json"])
    assert code == 1  # a claim raised
    data = json.loads(capsys.readouterr().out)
    for row in data["claims"]:
        assert {"id", "plugin", "scale", "holds", "metrics", "seconds", "error"} <= set(row)
    code = main(["reproduce", "--scale", "smoke", "--out", str(tmp_path / "b"), "--claim", "demo/b-good", "--quiet"])
    assert code == 0
