"""The ``etude`` command: a thin layer over the Python API.

Exit status (every command):

- 0: success;
- 1: failure: a claim raised, a component's module could not be imported,
  a plugin failed in strict mode (``ETUDE_STRICT_PLUGINS=1``, which also
  prints the full traceback);
- 2: bad usage, reported as one line naming the argument: unknown command,
  kind, name, plugin or option; a bad value (``--out`` that is a file or not
  writable, ``--device cuda`` without CUDA, ``--threads -1``, ...); a
  selection that selects nothing (with the close matches);
- 3: ``etude reproduce --fail-on not-holds|inconclusive``: a claim that ran
  does not hold;
- 4: ``etude reproduce --fail-on inconclusive``: a claim that ran is
  inconclusive (neither holds nor does not hold).

``--fail-on`` levels are cumulative: ``error`` (the default) fails only on
errors, ``not-holds`` also on claims that do not hold, ``inconclusive`` also
on inconclusive claims, so that with it the exit status is 0 only when every
claim that ran holds or was not run at this scale. The most severe outcome
decides the code (1, then 3, then 4). With ``--json`` every error is also
printed on stdout as ``{"error": {"type", "message", "argument", "exit_code"}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_NOT_HOLDS, EXIT_INCONCLUSIVE = 0, 1, 2, 3, 4
FAIL_ON = ("error", "not-holds", "inconclusive")
MAX_SEEDS = 10_000


class UsageError(Exception):
    """Bad command-line usage: exit 2 with one line naming ``argument``."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        self.argument = argument
        super().__init__(message)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` (one line, no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        argument = None
        if message.startswith("argument "):
            argument = message[len("argument ") :].split(":", 1)[0]
        raise UsageError(f"{self.prog}: error: {message}", argument)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*(str(c) for c in r)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def cmd_plugins(args: argparse.Namespace) -> int:
    import etude  # noqa: PLC0415

    records = etude.plugins()
    if args.json:
        _print_json(records)
        return EXIT_OK
    rows = [
        [p["name"], p["distribution"] or "-", p["version"] or "-", p["status"], p["error"] or ""]
        for p in records
    ]
    print(_table(rows, ["plugin", "distribution", "version", "status", "error"]))
    conflicts = [(p["name"], c) for p in records for c in p.get("conflicts") or ()]
    if conflicts:
        print("\nname conflicts (the short name is ambiguous; use the qualified plugin:name):")
        for name, text in conflicts:
            print(f"  {name}: {text}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    import etude  # noqa: PLC0415

    items = etude.list_components(args.kind, args.pattern)
    _mention_failed_plugins()
    if args.json:
        _print_json(items)
        return EXIT_OK
    print(_table([[c["kind"], c["name"], c["plugin"], c["summary"]] for c in items], ["kind", "name", "plugin", "summary"]))
    return EXIT_OK


def _mention_failed_plugins() -> None:
    """On stderr: each failed plugin, why, and the components it would have added (when known)."""
    import etude  # noqa: PLC0415

    for record in etude.get_registry().plugins():
        if record.status != "failed":
            continue
        staged = f" Its components are not listed: {', '.join(record.components)}." if record.components else ""
        print(f"etude: plugin {record.name!r} failed to load: {record.error}.{staged} "
              "See `etude plugins`.", file=sys.stderr)


def cmd_describe(args: argparse.Namespace) -> int:
    import etude  # noqa: PLC0415

    info = etude.describe(args.kind, args.name)
    if args.json:
        _print_json(info)
        return EXIT_OK
    print(f"{info['kind']}/{info['name']}  (plugin {info['plugin']}, factory {info['factory']})")
    if info["paper"]:
        p = info["paper"]
        print(f"paper: {p.get('authors', '')}, {p.get('title', '')}, {p.get('venue', '')} {p.get('year', '')}"
              f"{', arXiv:' + p['arxiv'] if p.get('arxiv') else ''}")
    print()
    print(info["doc"] or info["summary"])
    if info["config"]:
        print("\nconfig:")
        rows = [[f["name"], f["type"], "(required)" if f["required"] else repr(f["default"]), f["doc"]] for f in info["config"]]
        print(_table(rows, ["field", "type", "default", "doc"]))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    import etude  # noqa: PLC0415

    items = etude.list_claims(args.plugin)
    if args.json:
        _print_json(items)
        return EXIT_OK
    for c in items:
        print(f"{c['id']}  [{', '.join(c['scales'])}]  ({c['source']})\n    {c['statement']}")
    if not items:
        print("no claims registered")
    return EXIT_OK


def _executor_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.executor_config:
        from etude.claims.slurm import load_executor_config  # noqa: PLC0415

        options.update(load_executor_config(args.executor_config))
    for key in ("partition", "gpus_per_unit", "cpus_per_unit", "mem", "time", "array_parallelism"):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    return options


def cmd_status(out: str, as_json: bool) -> int:
    from etude.claims.slurm import status  # noqa: PLC0415

    table = status(out)
    if as_json:
        _print_json(table)
        return EXIT_OK
    rows = [[claim, *(" ".join(map(str, seeds)) or "-" for seeds in (e["done"], e["failed"], e["running"], e["pending"]))]
            for claim, e in table.items()]
    print(_table(rows, ["claim [scale]", "done", "failed", "running", "pending"]) if rows else f"no units in {out}")
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from etude.claims import reproduce  # noqa: PLC0415

    if args.status:
        return cmd_status(args.status, args.json)
    check_reproduce_args(args)
    check_selection(args.plugins, args.claim)
    options = _executor_options(args)
    if options and args.executor == "local":
        raise UsageError("--partition, --gpus-per-unit, ... and --executor-config need --executor slurm", "--executor")
    if args.compare:  # fail now, not after the run, when an earlier run has no results
        from etude.report.runs import read_results  # noqa: PLC0415

        for earlier in args.compare:
            read_results(earlier)
    results = reproduce(
        args.plugins or None,
        claims=args.claim or None,
        scale=args.scale,
        seeds=args.seeds,
        device=args.device,
        out=args.out,
        progress=not args.json and not args.quiet and sys.stderr.isatty(),
        threads=None if args.threads == 0 else args.threads,
        rerun=args.rerun,
        jobs=args.jobs,
        executor=args.executor,
        executor_options=options,
        on_result=None if args.json or args.quiet else _announce,
    )
    code = exit_code(results, args.fail_on)
    comparison = _compare(args.out, args.compare, quiet=args.json) if args.compare else None
    if args.json:
        _print_json({"claims": [r.as_dict() for r in results], "exit_code": code})
    else:
        print(f"\n{len(results)} claims; results in {args.out}/results.json, report in {args.out}/report.md "
              f"and {args.out}/report.html")
    if code == EXIT_OK and comparison is not None and args.fail_on_regression and comparison.regressions:
        return EXIT_FAILURE
    return code


def exit_code(results: Sequence[Any], fail_on: str = "error") -> int:
    """The exit status of ``etude reproduce`` for ``results`` (see the module docstring).

    ``results`` are :class:`etude.claims.ClaimResult`-like objects with
    ``error``, ``status`` and ``holds``. A claim not run at this scale never
    fails the run.
    """
    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    level = FAIL_ON.index(fail_on)
    ran = [r for r in results if getattr(r, "status", "completed") != "not-run" or getattr(r, "error", None)]
    if any(getattr(r, "error", None) or getattr(r, "status", None) == "error" for r in ran):
        return EXIT_FAILURE
    if level >= 1 and any(r.holds is False for r in ran):
        return EXIT_NOT_HOLDS
    if level >= 2 and any(r.holds is None for r in ran):
        return EXIT_INCONCLUSIVE
    return EXIT_OK


def check_reproduce_args(args: argparse.Namespace) -> None:
    """Reject bad ``reproduce`` options before any work, naming the argument (exit 2)."""
    import os  # noqa: PLC0415
    import pathlib  # noqa: PLC0415

    if args.seeds is not None and not 1 <= args.seeds <= MAX_SEEDS:
        raise UsageError(f"argument --seeds: must be between 1 and {MAX_SEEDS}, got {args.seeds}", "--seeds")
    if args.threads < 0:
        raise UsageError(f"argument --threads: must be >= 0 (0: torch's default), got {args.threads}", "--threads")
    if not args.out or not args.out.strip():
        raise UsageError("argument --out: must be a folder path, got an empty string", "--out")
    out = pathlib.Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"argument --out: {args.out!r} exists and is not a folder", "--out")
    existing = next((p for p in (out, *out.parents) if p.exists()), pathlib.Path("."))
    if not existing.is_dir():
        raise UsageError(f"argument --out: {str(existing)!r} is a file, so {args.out!r} cannot be a folder", "--out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"argument --out: {str(existing)!r} is not writable", "--out")
    if args.device == "cuda":
        import torch  # noqa: PLC0415

        if not torch.cuda.is_available():
            raise UsageError(
                "argument --device: cuda was asked for but torch.cuda.is_available() is False "
                "(no GPU or a CPU-only torch build); use --device cpu",
                "--device",
            )


def check_selection(plugins: Sequence[str] | None, patterns: Sequence[str] | None) -> None:
    """Raise :class:`UsageError` when the plugins or ``--claim`` patterns select no claim.

    Names the plugin or pattern, the close matches, plugins that failed to
    load (with why) and an ``ETUDE_PLUGINS`` allow-list that matched nothing.
    """
    import fnmatch  # noqa: PLC0415

    from etude.registry import get_registry  # noqa: PLC0415
    from etude.registry.errors import close_matches, did_you_mean  # noqa: PLC0415

    registry = get_registry()
    records = {p.name: p for p in registry.plugins()}
    for name in plugins or ():
        record = records.get(name)
        if record is not None and record.status == "failed":
            raise UsageError(f"plugin {name!r} failed to load, so it has no claims to run: {record.error}", "plugins")
        if record is None:
            raise UsageError(f"no plugin named {name!r}.{did_you_mean(name, records)}{_allow_list_hint()}", "plugins")
    chosen = [c for name in (plugins or [None]) for c in registry.claims(name)]
    ids = [c.id for c in chosen]
    for pattern in patterns or ():
        if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
            hint = close_matches(pattern, ids)
            prefix = pattern.split("/", 1)[0]
            same_plugin = [i for i in ids if i.split("/", 1)[0] == prefix]
            if not hint and same_plugin:
                hint = same_plugin[:8]
            raise UsageError(
                f"--claim {pattern!r} selects no claim"
                + (f" of {', '.join(plugins)}" if plugins else "")
                + (f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else f". Claims: {', '.join(ids[:8])}.")
                + _allow_list_hint(),
                "--claim",
            )
    if not ids:
        failed = [f"{p.name} ({p.error})" for p in records.values() if p.status == "failed"]
        message = "no claims to run: no loaded plugin registers a claim."
        if failed:
            message += " Failed plugins: " + "; ".join(failed) + "."
        raise UsageError(message + _allow_list_hint(), "plugins")


def _allow_list_hint() -> str:
    """A hint naming ETUDE_PLUGINS entries that match no installed plugin."""
    import os  # noqa: PLC0415
    from importlib.metadata import entry_points  # noqa: PLC0415

    from etude.registry import GROUP  # noqa: PLC0415
    from etude.registry.errors import did_you_mean  # noqa: PLC0415

    value = os.environ.get("ETUDE_PLUGINS", "").strip()
    if not value:
        return ""
    installed = sorted({ep.name for ep in entry_points(group=GROUP)})
    unknown = [p.strip() for p in value.split(",") if p.strip() and p.strip() not in installed]
    if not unknown:
        return f" (ETUDE_PLUGINS={value} limits loading to these plugins)"
    return "".join(
        f" ETUDE_PLUGINS names {u!r}, which is not installed.{did_you_mean(u, installed)}" for u in unknown
    ) + f" Installed plugins: {', '.join(installed)}."


def _compare(out: str, earlier: Sequence[str], *, quiet: bool = False, path: str | None = None) -> Any:
    """Rewrite ``out``'s report.html compared with the earlier runs; print what changed."""
    from etude.report import HTML, compare_runs, comparison_text, load_run, render_html  # noqa: PLC0415
    from etude.runtime.atomic import atomic_write_text  # noqa: PLC0415

    runs = [load_run(p) for p in [*earlier, out]]
    comparison = compare_runs(runs)
    target = path or f"{out}/{HTML}"
    atomic_write_text(target, render_html(runs[-1], comparison=comparison))
    if not quiet:
        print(comparison_text(comparison))
        print(f"comparison: {target}")
    return comparison


def cmd_report(args: argparse.Namespace) -> int:
    from etude.claims.runner import REPORT  # noqa: PLC0415
    from etude.report import HTML, load_run, render_markdown, write_html_report  # noqa: PLC0415
    from etude.runtime.atomic import atomic_write_text  # noqa: PLC0415

    *earlier, out = args.runs
    if earlier:
        comparison = _compare(out, earlier, path=args.output)
        return EXIT_FAILURE if args.fail_on_regression and comparison.regressions else EXIT_OK
    path = write_html_report(out, path=args.output)
    if args.markdown:
        atomic_write_text(f"{out}/{REPORT}", render_markdown(load_run(out, rules=False, embed=False)))
    print(path if args.output else f"{out}/{HTML}")
    return EXIT_OK


def _announce(result: Any) -> None:
    if getattr(result, "reused", False):
        print(f"{'skipped':>22}  {result.id}  (already in the results store: {result.verdict}; --rerun to run it again)",
              flush=True)
        return
    print(f"{result.verdict:>22}  {result.id}  ({result.seconds:.1f} s)", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="etude", description="Compose and check the methods of research papers.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("plugins", help="installed plugins and their status")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("list", help="registered components")
    p.add_argument("kind", nargs="?", help="only this kind (augmenter, attention, ...)")
    p.add_argument("--pattern", default="*", help="fnmatch pattern on names (default: *)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("describe", help="a component's paper, docs and config fields")
    p.add_argument("kind")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("claims", help="the papers' claims")
    p.add_argument("plugin", nargs="?", help="only this plugin's claims")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("reproduce", help="run claims and report paper vs measured")
    p.add_argument("plugins", nargs="*", help="plugins to run (default: all)")
    p.add_argument("--claim", action="append", help="claim id or fnmatch pattern (repeatable)")
    p.add_argument("--scale", choices=["smoke", "quick", "full"], default="quick")
    p.add_argument("--seeds", type=int, help="number of seeds (default: each claim's own)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads per process running units (0: torch's default; default 1)")
    p.add_argument("--jobs", "-j", type=int, default=1,
                   help="worker processes running units side by side (default 1: in this process)")
    p.add_argument("--rerun", action="store_true", help="rerun claims already completed in --out")
    p.add_argument("--executor", choices=["local", "slurm", "submitit-local", "submitit-debug"], default="local",
                   help="where units run: local processes (default), a SLURM job array through submitit, "
                        "or submitit's local/debug executors (the cluster path on this machine)")
    p.add_argument("--executor-config", metavar="YAML", help="executor options from a YAML file (see the docs)")
    p.add_argument("--partition", help="SLURM partition")
    p.add_argument("--gpus-per-unit", type=int, help="GPUs per unit (array task)")
    p.add_argument("--cpus-per-unit", type=int, help="CPUs per unit (array task)")
    p.add_argument("--mem", help="memory per unit, e.g. 16G")
    p.add_argument("--time", help="time limit per unit: minutes or [D-]HH:MM:SS")
    p.add_argument("--array-parallelism", type=int, help="units of the array running at once")
    p.add_argument("--status", metavar="OUT", help="show what is done, failed, running and pending in OUT, and exit")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit non-zero on: error (default; exit 1), not-holds (also exit 3 when a claim does not hold), "
        "inconclusive (also exit 4 when a claim is inconclusive)",
    )
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--compare", action="append", metavar="OUT",
                   help="an earlier run folder: report.html shows both verdicts and the metric deltas (repeatable)")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="with --compare: exit 1 when a claim that held in the earlier run no longer holds")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("report", help="report.html of a run folder, or a comparison of several")
    p.add_argument("runs", nargs="+", metavar="OUT",
                   help="run folders (with results.json); with several, the last is compared with the earlier ones "
                        "(the first is the baseline)")
    p.add_argument("-o", "--output", help="where to write the HTML (default: OUT/report.html of the last folder)")
    p.add_argument("--markdown", action="store_true", help="also rewrite OUT/report.md (one folder only)")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when a claim that held in the baseline no longer holds in the last run")
    p.set_defaults(func=cmd_report)
    return parser


def _version() -> str:
    from etude._version import __version__  # noqa: PLC0415

    return f"etude {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    from etude.config import ConfigError  # noqa: PLC0415
    from etude.registry import ComponentNotFoundError, EtudeError, PluginLoadError  # noqa: PLC0415
    from etude.registry.loader import strict_mode  # noqa: PLC0415

    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else EXIT_USAGE
    except UsageError as exc:
        return _error(exc, EXIT_USAGE, as_json, argument=exc.argument)
    except (ComponentNotFoundError, ConfigError, ValueError) as exc:
        return _error(exc, EXIT_USAGE, as_json, argument=getattr(exc, "field", None))
    except EtudeError as exc:
        return _error(exc, EXIT_FAILURE, as_json, traceback=strict_mode() or isinstance(exc, PluginLoadError))


def _error(exc: BaseException, code: int, as_json: bool, *, argument: str | None = None, traceback: bool = False) -> int:
    """Report ``exc`` as one line on stderr (the full traceback when asked), and as JSON on stdout under --json."""
    import traceback as tb  # noqa: PLC0415

    message = str(exc)
    if not message.startswith("etude"):
        message = f"etude: error: {message}"
    if traceback:
        sys.stderr.write("".join(tb.format_exception(exc)))
    print(message, file=sys.stderr)
    if as_json:
        _print_json(
            {"error": {"type": type(exc).__name__, "message": str(exc), "argument": argument, "exit_code": code}}
        )
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
