"""The ``etude`` command: a thin layer over the Python API.

Exit status: 0 success, 1 failure (a claim raised, a plugin failed in strict
mode), 2 bad usage (unknown command, kind, name or option).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


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
    rows = [[p["name"], p["distribution"] or "-", p["version"] or "-", p["status"], p["error"] or ""] for p in records]
    print(_table(rows, ["plugin", "distribution", "version", "status", "error"]))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    import etude  # noqa: PLC0415

    items = etude.list_components(args.kind, args.pattern)
    if args.json:
        _print_json(items)
        return EXIT_OK
    print(_table([[c["kind"], c["name"], c["plugin"], c["summary"]] for c in items], ["kind", "name", "plugin", "summary"]))
    return EXIT_OK


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


def cmd_reproduce(args: argparse.Namespace) -> int:
    from etude.claims import reproduce  # noqa: PLC0415

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
        on_result=None if args.json or args.quiet else _announce,
    )
    comparison = _compare(args.out, args.compare, quiet=args.json) if args.compare else None
    if args.json:
        _print_json({"claims": [r.as_dict() for r in results]})
    else:
        print(f"\n{len(results)} claims; results in {args.out}/results.json, report in {args.out}/report.md "
              f"and {args.out}/report.html")
    if comparison is not None and args.fail_on_regression and comparison.regressions:
        return EXIT_FAILURE
    return EXIT_FAILURE if any(r.error for r in results) else EXIT_OK


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
    parser = argparse.ArgumentParser(prog="etude", description="Compose and check the methods of research papers.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default; default 1)")
    p.add_argument("--rerun", action="store_true", help="rerun claims already completed in --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
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
    from etude.registry import ComponentNotFoundError, EtudeError  # noqa: PLC0415

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args.func(args)
    except (ComponentNotFoundError, ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"etude: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EtudeError as exc:
        print(f"etude: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
