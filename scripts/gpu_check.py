"""The GPU verification run behind ``make gpu-check``.

One prepared command for the few minutes a GPU machine is lent: it runs every
``gpu``-marked test, then the CUDA benchmarks, then the ``full``-scale claims
of ``gpu-claims.txt`` in order until the wall-time budget is spent, and writes
everything into one folder:

- ``pytest-gpu.log`` and ``pytest-gpu.xml``: the ``pytest -m gpu`` run (per-test time-out);
- ``bench-<name>.log``: the CUDA benchmarks (compositional vs multi-head attention
  in bf16 at T = 256..4096, CKA at n = 100,000, one diffusion-sampler iteration);
- ``results.json``, ``report.md`` (and ``report.html`` when ``etude report`` exists):
  the claims, exactly as ``etude reproduce`` writes them;
- ``summary.md`` / ``summary.json``: device, versions, test counts, each claim's
  verdict or why it was skipped, the benchmark tables.

Without CUDA it says so and falls back to ``--device cpu``: the ``gpu`` tests
skip themselves, the benchmarks are skipped, and the claims are skipped because
their minutes are GPU minutes (``GPU_CLAIMS_ON_CPU=1`` runs the ones that fit anyway).

Environment: ``OUT`` (default ``runs/gpu-check``), ``GPU_BUDGET_S`` (default 480,
the whole run's wall-time budget), ``DEVICE`` (``auto`` | ``cuda`` | ``cpu``),
``GPU_TEST_TIMEOUT_S`` (per test, default 120), ``GPU_CLAIMS`` (the list file).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import attrs

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCHMARKS = {
    "compositional-attention": [
        "benchmarks/compositional-attention/bench_compositional_attention.py",
        "--device", "cuda", "--lengths", "256", "512", "1024", "2048", "4096",
    ],
    "cka": ["benchmarks/cka/bench_cka.py", "--n", "100000", "--dims", "512", "2048", "--repeats", "3"],
    "diffusion-samplers": ["benchmarks/diffusion-samplers/bench_diffusion_samplers.py", "--iters", "5"],
}
BENCH_LIMIT_S = 150  # each benchmark; they are sized to take well under a minute on an H100


@attrs.frozen
class ClaimEntry:
    """One line of ``gpu-claims.txt``."""

    claim: str
    minutes: float
    seeds: int | None = None
    why: str = ""


def parse_claims_file(text: str, *, source: str = "gpu-claims.txt") -> list[ClaimEntry]:
    """Entries of a claims list: ``<id> <minutes> [seeds=N] # why`` per line, ``#`` comments."""
    entries: list[ClaimEntry] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        body, _, why = raw.partition("#")
        words = body.split()
        if not words:
            continue
        where = f"{source}:{lineno}"
        if "/" not in words[0]:
            raise ValueError(f"{where}: the first word must be a claim id '<plugin>/<claim>', got {words[0]!r}")
        if len(words) < 2:
            raise ValueError(f"{where}: {words[0]} needs its minutes on a GPU, e.g. '{words[0]}  3.0'")
        try:
            minutes = float(words[1])
        except ValueError:
            raise ValueError(f"{where}: minutes must be a number, got {words[1]!r}") from None
        if not minutes > 0:
            raise ValueError(f"{where}: minutes must be > 0, got {minutes}")
        seeds = None
        for extra in words[2:]:
            key, _, value = extra.partition("=")
            if key != "seeds" or not value.isdigit() or int(value) < 1:
                raise ValueError(f"{where}: unknown option {extra!r}; the only option is seeds=N (N >= 1)")
            seeds = int(value)
        entries.append(ClaimEntry(words[0], minutes, seeds, why.strip()))
    return entries


def plan_claims(entries: Sequence[ClaimEntry], budget_s: float, *, on_gpu: bool, allow_cpu: bool = False) -> list[tuple[ClaimEntry, str | None]]:
    """Which entries run within ``budget_s`` (in order; a too-long one is skipped, later cheaper ones may still run).

    Returns ``(entry, None)`` for a claim to run, ``(entry, reason)`` for one skipped.
    """
    plan: list[tuple[ClaimEntry, str | None]] = []
    left = budget_s
    for entry in entries:
        need = entry.minutes * 60
        if not on_gpu and not allow_cpu:
            plan.append((entry, "skipped: no CUDA device (its minutes are GPU minutes; GPU_CLAIMS_ON_CPU=1 runs it on CPU)"))
        elif need > left:
            plan.append((entry, f"skipped: needs about {need:.0f} s, {max(left, 0):.0f} s of the budget left"))
        else:
            plan.append((entry, None))
            left -= need
    return plan


def junit_counts(path: pathlib.Path) -> dict[str, int]:
    """passed / failed / errors / skipped from a pytest JUnit XML file (zeros when it is missing)."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    if not path.exists():
        return counts
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            counts["failed"] += 1
        elif "error" in kinds:
            counts["errors"] += 1
        elif "skipped" in kinds:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def _run(cmd: Sequence[str], log: pathlib.Path, timeout: float) -> tuple[int, float]:
    """Run ``cmd`` from the repository root, output to ``log``; (exit code, seconds); 124 on time-out."""
    start = time.monotonic()
    with log.open("w") as fh:
        fh.write(f"$ {shlex.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            fh.write(f"\n[gpu-check] stopped after {timeout:.0f} s (budget)\n")
            code = 124
    return code, time.monotonic() - start


def _device(requested: str) -> tuple[str, str]:
    import torch  # noqa: PLC0415

    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        raise SystemExit("gpu-check: DEVICE=cuda but torch.cuda.is_available() is False (torch %s)" % torch.__version__)
    if requested == "cpu" or not has_cuda:
        note = "" if requested == "cpu" else "no CUDA device: falling back to --device cpu (gpu tests skip, benchmarks and full claims are skipped)"
        return "cpu", note
    return "cuda", f"CUDA device: {torch.cuda.get_device_name(0)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or "runs/gpu-check")
    parser.add_argument("--budget", type=float, default=float(os.environ.get("GPU_BUDGET_S", 480)))
    parser.add_argument("--device", default=os.environ.get("DEVICE", "auto"), choices=("auto", "cuda", "cpu"))
    parser.add_argument("--test-timeout", type=float, default=float(os.environ.get("GPU_TEST_TIMEOUT_S", 120)))
    parser.add_argument("--claims", default=os.environ.get("GPU_CLAIMS", str(ROOT / "gpu-claims.txt")))
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget / GPU_BUDGET_S must be > 0, got {args.budget}")
    start = time.monotonic()
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    entries = parse_claims_file(pathlib.Path(args.claims).read_text(), source=args.claims)
    device, note = _device(args.device)
    import torch  # noqa: PLC0415

    summary: dict = {"device": device, "note": note, "torch": torch.__version__, "python": platform.python_version(),
                     "budget_s": args.budget, "tests": {}, "benchmarks": {}, "claims": []}
    if note:
        print(f"[gpu-check] {note}", flush=True)
    if args.dry_run:
        for entry, reason in plan_claims(entries, args.budget, on_gpu=device == "cuda",
                                         allow_cpu=os.environ.get("GPU_CLAIMS_ON_CPU") == "1"):
            print(f"{entry.claim:45s} {entry.minutes:5.1f} min  {reason or 'runs'}")
        return 0

    def left() -> float:
        return args.budget - (time.monotonic() - start)

    # 1. gpu tests
    pytest_cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
                  f"--junitxml={out / 'pytest-gpu.xml'}", "tests", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("plugins/*/tests"))]
    try:
        import pytest_timeout  # noqa: F401, PLC0415

        pytest_cmd.append(f"--timeout={args.test_timeout:.0f}")
    except ImportError:
        print("[gpu-check] pytest-timeout is not installed: no per-test time-out, only the budget", flush=True)
    print(f"[gpu-check] gpu tests ({left():.0f} s of budget left)", flush=True)
    code, secs = _run(pytest_cmd, out / "pytest-gpu.log", timeout=left())
    summary["tests"] = {"exit_code": code, "seconds": round(secs, 1), **junit_counts(out / "pytest-gpu.xml")}
    print(f"[gpu-check] gpu tests: {summary['tests']}", flush=True)

    # 2. benchmarks (CUDA only)
    for name, bench in BENCHMARKS.items():
        if device != "cuda":
            summary["benchmarks"][name] = "skipped: no CUDA device"
            continue
        if left() < 60:
            summary["benchmarks"][name] = f"skipped: {left():.0f} s of the budget left"
            continue
        code, secs = _run([sys.executable, *bench], out / f"bench-{name}.log", timeout=min(BENCH_LIMIT_S, left() - 30))
        summary["benchmarks"][name] = f"exit {code} in {secs:.0f} s (bench-{name}.log)"

    # 3. full claims, in order, within what is left
    for entry, reason in plan_claims(entries, left(), on_gpu=device == "cuda",
                                     allow_cpu=os.environ.get("GPU_CLAIMS_ON_CPU") == "1"):
        row = {"claim": entry.claim, "minutes": entry.minutes, "why": entry.why}
        if reason is None and entry.minutes * 60 > left():
            reason = f"skipped: needs about {entry.minutes * 60:.0f} s, {max(left(), 0):.0f} s left"
        if reason is None:
            cmd = [sys.executable, "-m", "etude.cli", "reproduce", "--claim", entry.claim, "--scale", "full",
                   "--device", device, "--out", str(out), "--quiet"]
            if entry.seeds:
                cmd += ["--seeds", str(entry.seeds)]
            stem = entry.claim.replace("/", "__")
            code, secs = _run(cmd, out / f"claim-{stem}.log", timeout=left())
            row.update(exit_code=code, seconds=round(secs, 1))
            reason = "ran" if code in (0, 1) else f"exit {code}"
        row["status"] = reason
        summary["claims"].append(row)
        print(f"[gpu-check] {entry.claim}: {reason}", flush=True)
    verdicts = _verdicts(out / "results.json")
    for row in summary["claims"]:
        row["verdict"] = verdicts.get(row["claim"], "")

    # 4. HTML report, where the report command exists
    if (out / "results.json").exists():
        subprocess.run([sys.executable, "-m", "etude.cli", "report", str(out)], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    summary["seconds"] = round(time.monotonic() - start, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(_summary_markdown(summary))
    print((out / "summary.md").read_text(), flush=True)
    failed = summary["tests"].get("failed", 0) + summary["tests"].get("errors", 0)
    return 1 if failed or summary["tests"].get("exit_code") not in (0, 5) else 0


def _verdicts(path: pathlib.Path) -> dict[str, str]:
    if not path.exists():
        return {}
    from etude.claims.outcome import ClaimResult  # noqa: PLC0415

    data = json.loads(path.read_text())
    return {row["id"]: ClaimResult.from_dict(row).verdict for row in data.get("claims", []) if row.get("scale") == "full"}


def _summary_markdown(s: dict) -> str:
    lines = [f"# gpu-check: device {s['device']}, torch {s['torch']}, python {s['python']}, {s['seconds']} s of {s['budget_s']:.0f} s", ""]
    if s["note"]:
        lines += [s["note"], ""]
    t = s["tests"]
    lines += [f"gpu tests: {t.get('passed', 0)} passed, {t.get('failed', 0)} failed, {t.get('errors', 0)} errors, "
              f"{t.get('skipped', 0)} skipped (exit {t.get('exit_code')}, {t.get('seconds')} s)", "", "| benchmark | status |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in s["benchmarks"].items()]
    lines += ["", "| claim | minutes | status | verdict |", "|---|---|---|---|"]
    lines += [f"| {c['claim']} | {c['minutes']} | {c['status']} | {c.get('verdict', '')} |" for c in s["claims"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
