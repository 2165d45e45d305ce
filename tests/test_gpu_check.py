"""scripts/gpu_check.py: the claims list, the budget plan, and the CPU fall-back."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

import etude

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("gpu_check", None)


def test_every_listed_claim_exists_and_runs_at_full(gpu_check):
    entries = gpu_check.parse_claims_file((ROOT / "gpu-claims.txt").read_text())
    assert entries, "gpu-claims.txt lists no claim"
    claims = {c["id"]: c for c in etude.list_claims()}
    for entry in entries:
        assert entry.claim in claims, f"gpu-claims.txt names {entry.claim}, which no plugin registers"
        assert "full" in claims[entry.claim]["scales"], f"{entry.claim} has no full scale"
        assert entry.why, f"{entry.claim}: say why it is in the list"
    assert len({e.claim for e in entries}) == len(entries), "a claim is listed twice"


def test_parse_rejects_bad_lines_naming_the_line(gpu_check):
    with pytest.raises(ValueError, match=r"x\.txt:2: minutes must be a number"):
        gpu_check.parse_claims_file("# c\na/b fast\n", source="x.txt")
    with pytest.raises(ValueError, match="needs its minutes"):
        gpu_check.parse_claims_file("a/b\n")
    with pytest.raises(ValueError, match="seeds=N"):
        gpu_check.parse_claims_file("a/b 1.0 seed=3\n")
    with pytest.raises(ValueError, match="claim id"):
        gpu_check.parse_claims_file("nope 1.0\n")
    assert gpu_check.parse_claims_file("a/b 1.5 seeds=2  # why\n") == [gpu_check.ClaimEntry("a/b", 1.5, 2, "why")]


def test_plan_keeps_order_skips_what_does_not_fit_and_fills_the_rest(gpu_check):
    E = gpu_check.ClaimEntry
    entries = [E("p/a", 3.0), E("p/b", 5.0), E("p/c", 1.0), E("p/d", 1.5)]
    plan = gpu_check.plan_claims(entries, 300, on_gpu=True)
    assert [(e.claim, r is None) for e, r in plan] == [("p/a", True), ("p/b", False), ("p/c", True), ("p/d", False)]
    assert "120 s of the budget left" in plan[1][1]
    cpu = gpu_check.plan_claims(entries, 10_000, on_gpu=False)
    assert all(r and "no CUDA device" in r for _, r in cpu)
    assert [r is None for _, r in gpu_check.plan_claims(entries, 10_000, on_gpu=False, allow_cpu=True)] == [True] * 4


def test_junit_counts(gpu_check, tmp_path):
    xml = tmp_path / "j.xml"
    xml.write_text('<testsuites><testsuite><testcase name="a"/><testcase name="b"><failure/></testcase>'
                   '<testcase name="c"><skipped/></testcase><testcase name="d"><error/></testcase></testsuite></testsuites>')
    assert gpu_check.junit_counts(xml) == {"passed": 1, "failed": 1, "errors": 1, "skipped": 1}
    assert gpu_check.junit_counts(tmp_path / "missing.xml")["passed"] == 0


def test_dry_run_without_cuda_says_it_falls_back(gpu_check, capsys, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--dry-run", "--out", str(tmp_path), "--budget", "60"]) == 0
    out = capsys.readouterr().out
    assert "falling back to --device cpu" in out
    assert "skipped: no CUDA device" in out
