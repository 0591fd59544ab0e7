"""``emap-conformance report RESULTS_JSON [--out DIR]``: re-render every report from a results file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.report.results import ResultsError, load_results
from conformance.report.writer import write_reports

PROG = "emap-conformance report"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Re-render conformance.html, junit.xml and trace.pcapng from a results.json without "
        "re-running the suite. Traces (trace/*.jsonl) are read next to the results file.",
    )
    parser.add_argument("results", type=Path, metavar="RESULTS_JSON", help="results file written by a run")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="directory to write the reports into (default: the results file's directory)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the reports were written, 2 on a bad results file or an output that cannot be written."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        results = load_results(args.results)
        write_reports(results, args.out or args.results.parent, trace_dir=args.results.parent)
    except ResultsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: error: cannot write the reports: {exc}", file=sys.stderr)
        return 2
    return 0
