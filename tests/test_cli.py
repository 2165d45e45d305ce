"""The etude command: subcommands, --json contracts, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from etude.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plugins_json_contract(capsys):
    code, out, _ = run(capsys, "plugins", "--json")
    assert code == 0
    rows = json.loads(out)
    builtin = next(r for r in rows if r["name"] == "builtin")
    assert {"name", "distribution", "version", "status", "error"} <= set(builtin)
    assert builtin["status"] == "loaded" and builtin["distribution"] == "etude"


def test_list_json_contract(capsys):
    code, out, _ = run(capsys, "list", "neuron", "--json")
    rows = json.loads(out)
    assert code == 0 and {"kind", "name", "plugin"} <= set(rows[0])
    assert {"relu", "tanh"} <= {r["name"] for r in rows}


def test_describe(capsys):
    code, out, _ = run(capsys, "describe", "attention", "multihead")
    assert code == 0 and "embed_dim" in out and "scaled_dot_product_attention" in out
    code, out, _ = run(capsys, "describe", "attention", "multihead", "--json")
    assert json.loads(out)["config"][0]["name"] == "embed_dim"


def test_claims_lists(capsys):
    code, out, _ = run(capsys, "claims", "--json")
    assert code == 0 and isinstance(json.loads(out), list)


@pytest.mark.parametrize(
    "argv",
    [["describe", "attention", "multihed"], ["list", "neurons"], ["frobnicate"], ["reproduce", "--scale", "huge"],
     ["claims", "no-such-plugin"]],
)
def test_bad_usage_exits_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err


def test_unknown_name_message(capsys):
    _, _, err = run(capsys, "describe", "attention", "multihed")
    assert "Did you mean 'multihead'?" in err


@pytest.mark.parametrize("argv", [[], ["plugins"], ["list"], ["describe"], ["claims"], ["reproduce"]])
def test_help_everywhere(argv):
    proc = subprocess.run([sys.executable, "-m", "etude.cli", *argv, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage: etude" in proc.stdout


def test_listing_imports_no_torch_nor_plugin_implementations():
    probe = (
        "import sys, etude.cli; etude.cli.main(['list', '--json']); etude.cli.main(['plugins', '--json']);"
        "heavy = [m for m in sys.modules if m == 'torch' or (m.startswith('etude_') and not m.endswith('.plugin') and m.count('.'))];"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY []"


def test_import_etude_is_light():
    probe = "import sys, etude; print(sorted(m for m in ('torch', 'pyro', 'cattrs', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    probe = "import sys, etude; print([m for m in sys.modules if m.startswith('etude_')])"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"
