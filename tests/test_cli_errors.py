"""Issue 14, items 6-9: exact exit statuses, one-line usage errors, JSON errors, --fail-on."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import attrs
import pytest

import etude
from etude.cli import EXIT_FAILURE, EXIT_INCONCLUSIVE, EXIT_NOT_HOLDS, EXIT_OK, EXIT_USAGE, exit_code, main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- item 6: bad usage is exit 2 with one line naming the argument -----------
@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("x")
    return path


@pytest.mark.parametrize(
    ("argv", "argument"),
    [
        (["--out", "{file}"], "--out"),
        (["--out", "{file}/sub"], "--out"),
        (["--out", ""], "--out"),
        (["--threads", "-1"], "--threads"),
        (["--seeds", "99999999999999999999"], "--seeds"),
        (["--seeds", "0"], "--seeds"),
        (["--seeds", "two"], "--seeds"),
        (["--scale", "huge"], "--scale"),
        (["--fail-on", "never"], "--fail-on"),
    ],
)
def test_bad_reproduce_usage_is_one_line_naming_the_argument(capsys, a_file, argv, argument):
    argv = [a.replace("{file}", str(a_file)) for a in argv]
    code, out, err = run(capsys, "reproduce", "cka", *argv)
    assert code == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and argument in err and "Traceback" not in err
    code, out, err = run(capsys, "reproduce", "cka", *argv, "--json")
    assert code == EXIT_USAGE
    error = json.loads(out)["error"]
    assert error["exit_code"] == EXIT_USAGE and error["argument"] == argument and argument in error["message"]


def test_cuda_without_cuda_is_usage(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    code, _, err = run(capsys, "reproduce", "cka", "--device", "cuda", "--out", "unused")
    assert code == EXIT_USAGE and "--device" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["describe", "attention", "multihed"], ["list", "neurons"], ["frobnicate"]])
def test_every_error_is_json_under_json(capsys, argv):
    code, out, _ = run(capsys, *argv, "--json")
    assert code == EXIT_USAGE and json.loads(out)["error"]["exit_code"] == EXIT_USAGE


# -- item 7: selecting nothing is exit 2 with the close matches --------------
def test_claim_selecting_nothing_names_close_matches(capsys, tmp_path):
    code, _, err = run(capsys, "reproduce", "--claim", "cka/outlier-sensitivty", "--out", str(tmp_path))
    assert code == EXIT_USAGE and "cka/outlier-sensitivity" in err
    assert not (tmp_path / "results.json").exists()


def test_allow_list_selecting_nothing_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "etude.cli", "reproduce", "--out", str(tmp_path), "--scale", "smoke"],
        capture_output=True, text=True, env={**__import__("os").environ, "ETUDE_PLUGINS": "ckaa"},
    )
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "'ckaa'" in proc.stderr and "Did you mean 'cka'?" in proc.stderr


def _plugin(**hooks):
    module = types.ModuleType("tmp_plugin")
    for name, fn in hooks.items():
        setattr(module, name, etude.hookimpl(fn))
    return module


def test_reproduce_of_a_failed_plugin_says_why(etude_registry, capsys, tmp_path):
    def register_claims(registry):
        raise ImportError("No module named 'ot'")

    etude_registry.add_plugin(_plugin(register_claims=register_claims), "broken", expect_failure=True)
    code, _, err = run(capsys, "reproduce", "broken", "--out", str(tmp_path))
    assert code == EXIT_USAGE and "failed to load" in err and "No module named 'ot'" in err


# -- item 8: --fail-on -------------------------------------------------------
@attrs.define
class R:
    holds: bool | None = True
    error: str | None = None
    status: str = "completed"


HOLDS, NOT_HOLDS, INCONCLUSIVE, NOT_RUN, ERROR = R(True), R(False), R(None), R(None, status="not-run"), R(None, "boom", "error")


@pytest.mark.parametrize(
    ("results", "fail_on", "code"),
    [
        ([HOLDS, NOT_RUN], "error", EXIT_OK),
        ([HOLDS, NOT_RUN], "inconclusive", EXIT_OK),
        ([NOT_HOLDS, INCONCLUSIVE], "error", EXIT_OK),
        ([NOT_HOLDS], "not-holds", EXIT_NOT_HOLDS),
        ([INCONCLUSIVE], "not-holds", EXIT_OK),
        ([INCONCLUSIVE, HOLDS], "inconclusive", EXIT_INCONCLUSIVE),
        ([INCONCLUSIVE, NOT_HOLDS], "inconclusive", EXIT_NOT_HOLDS),
        ([ERROR, NOT_HOLDS], "inconclusive", EXIT_FAILURE),
        ([ERROR], "error", EXIT_FAILURE),
        ([], "inconclusive", EXIT_OK),
    ],
)
def test_exit_code_rule(results, fail_on, code):
    assert exit_code(results, fail_on) == code


# -- item 9: strict mode prints the traceback; etude list mentions failed plugins --
def test_list_mentions_failed_plugins_components_on_stderr(etude_registry, capsys):
    def register_components(registry):
        registry.add("model", "lost", "json:dumps")
        raise RuntimeError("kaboom")

    etude_registry.add_plugin(_plugin(register_components=register_components), "broken", expect_failure=True)
    code, out, err = run(capsys, "list")
    assert code == 0 and "lost" not in out
    assert "'broken' failed" in err and "kaboom" in err and "model/lost" in err


def test_strict_mode_prints_the_full_traceback(tmp_path):
    pkg = tmp_path / "etude_strict_probe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "plugin.py").write_text(
        "import etude\n\n@etude.hookimpl\ndef register_components(registry):\n    raise RuntimeError('deep failure')\n"
    )
    dist = tmp_path / "etude_strict_probe-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: etude-strict-probe\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[etude.plugins]\nstrict-probe = etude_strict_probe.plugin\n")
    env = {**__import__("os").environ, "ETUDE_STRICT_PLUGINS": "1", "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "etude.cli", "list"], capture_output=True, text=True, env=env)
    assert proc.returncode == EXIT_FAILURE
    assert "Traceback (most recent call last)" in proc.stderr and "plugin.py" in proc.stderr
    assert "deep failure" in proc.stderr
