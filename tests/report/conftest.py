"""Synthetic results files (every verdict, an error, not-run, NaN metrics, figures or none) and Chromium."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from etude.testing.browser import find_chromium


def _png(path: pathlib.Path, colour: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [0, 1, 0], color=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=50)
    plt.close(fig)
    return str(path)


def row(claim_id: str, holds, **fields):
    data = {"id": claim_id, "plugin": claim_id.split("/")[0], "scale": "quick", "holds": holds, "metrics": {},
            "paper": {}, "statement": f"statement of {claim_id}", "source": "Table 1", "seeds": [0, 1, 2],
            "seconds": 1.0, "error": None, "notes": "", "figures": [], "device": "cpu", "status": "completed"}
    data.update(fields)
    return data


def baseline_rows() -> list[dict]:
    return [
        row("alpha/holds", True, paper={"pilot_acc": 0.9, "gap": 0.05},
            metrics={"acc": 0.91, "gap": 0.04, "mean_diff": 0.04, "ci_low": 0.01, "ci_high": 0.07, "n": 3,
                     "per_seed_acc": [0.9, 0.91, 0.92]},
            figures=["figures/alpha__holds-curve.png"], notes="interval above 0"),
        row("alpha/fails", False, paper={"acc": 0.8}, metrics={"acc": 0.6, "loss": None},
            figures=["figures/alpha__fails-curve.png", "figures/alpha__fails-bars.png"]),
        row("beta/inconclusive", None, paper={"direction": "a < b"}, metrics={"ratio": float("nan"), "lo": None}),
        row("beta/error", None, status="error", error="RuntimeError: the experiment broke\nTraceback (most recent call last):\n  ..."),
        row("beta/not-run", None, status="not-run", notes="not run at this scale: this claim runs at full"),
        row("gamma/no-figures", True, paper={}, metrics={"value": 1.5, "nested": {"a": 1}, "curve": list(range(20))}),
    ]


def write_run(folder: pathlib.Path, rows: list[dict], header: dict | None = None) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    colours = iter(["tab:blue", "tab:red", "tab:green", "tab:orange"] * 4)
    for r in rows:
        for fig in r["figures"]:
            if not (folder / fig).exists():
                _png(folder / fig, next(colours))
    payload = {"etude_version": "0.1.0", **(header or {}), "claims": rows}
    # json.dumps writes NaN for float("nan"): results files from older runners may hold it
    (folder / "results.json").write_text(json.dumps(payload, indent=2))
    return folder


@pytest.fixture
def synthetic_run(tmp_path) -> pathlib.Path:
    """A run folder whose claims cover every verdict, an error, NaN metrics and a claim without figures."""
    return write_run(tmp_path / "run", baseline_rows(),
                     header={"git_commit": "0123456789abcdef", "host": "testhost", "date": "2026-12-01T00:00:00Z",
                             "torch": "2.13.0", "python": "3.11", "plugins": {"alpha": "1.0", "beta": "0.2"}})


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary: the one on PATH, else Debian's package installed now (root + apt-get), else skip."""
    found = find_chromium()
    if found:
        return found
    reason = "headless Chromium is not installed"
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        import fcntl

        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # pytest-xdist workers each run this fixture: one installs, the others wait for it
        with open(os.path.join(tempfile.gettempdir(), "etude-chromium-install.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not find_chromium():
                    subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=600, env=env)
                    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True,
                                   capture_output=True, timeout=900, env=env)
            except (subprocess.SubprocessError, OSError) as exc:
                stderr = getattr(exc, "stderr", b"") or b""
                reason += f" and `apt-get install -y chromium` failed: {exc} {stderr.decode(errors='replace')[-300:]}"
        found = find_chromium()
        if found:
            return found
    else:
        reason += " and it cannot be installed here (needs root and apt-get: `apt-get install -y chromium`)"
    pytest.skip(reason)


@pytest.fixture(name="write_run")
def _write_run_fixture():
    """``write_run(folder, rows, header=None)``: a run folder with results.json and its figures."""
    return write_run


@pytest.fixture(name="baseline_rows")
def _baseline_rows_fixture():
    """``baseline_rows()``: fresh rows of every kind (see :func:`baseline_rows`)."""
    return baseline_rows
