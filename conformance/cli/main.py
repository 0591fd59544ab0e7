"""``emap-conformance``: run the suite, list its plan, run the sample EMA, stimulate it, re-render reports.

Exit status (interfaces.md): 0 every applicable test passed or is waived; 1 a conformance failure (or a baseline
problem); 2 the run could not be judged (bad input, IUT unreachable, suite error, inconclusive, no tests).
"""

from __future__ import annotations

import importlib
import sys

from .errors import PROG, CliError, OneLineParser, number, report

DEFAULT_REPORT_DIR = "reports"


# Commands handed over whole to another part of the package: name -> (module, function(argv) -> int, help).
DELEGATES = {
    "ema": ("conformance.ema.main", "run", "run the sample EMA as a standalone program (see 'ema --help')"),
    "load": ("conformance.load.cli", "main",
             "simulate a building of lower EMAs against an upper-EMA IUT: load --iut URI --lower-emas N ..."),
    "stimulate": ("conformance.ema.stimulate", "main",
                  "ask a running sample EMA to act: stimulate --control URI ACTION [ARGS_JSON]"),
    "report": ("conformance.report", "main", "re-render the reports from a results file: report RESULTS_JSON [--out DIR]"),
}


def _delegate(name: str, argv: list[str]) -> int:
    module, function, _ = DELEGATES[name]
    return getattr(importlib.import_module(module), function)(argv)


def _add_selection(parser) -> None:
    parser.add_argument("--profile", action="append", metavar="FILE_OR_NAME",
                        help="profile (TOML file or bundled name); repeatable; default: every bundled profile")
    parser.add_argument("-k", metavar="EXPR", help="only the test cases matching this pytest -k expression")
    parser.add_argument("--cases", default="conformance.testcases", metavar="PACKAGE_OR_PATH",
                        help="test cases to run (default: the bundled conformance.testcases)")


def parser() -> OneLineParser:
    top = OneLineParser(prog=PROG, description="EMAP (ISO/IEC 15067-3-31, CoAP/JSON) conformance suite.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    run = sub.add_parser("run", help="run the suite against the IUT")
    run.add_argument("--iut", metavar="URI", help="the IUT's base URI (default: the profile's PIXIT iut)")
    _add_selection(run)
    run.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR",
                     help=f"where the reports go (default {DEFAULT_REPORT_DIR}/)")
    run.add_argument("--seed", type=number(int, 0), default=0, metavar="N", help="seed of randomised choices")
    run.add_argument("--baseline", metavar="FILE", help="waiver file of known deviations")
    run.add_argument("--strict", action="store_true",
                     help="failures of tests checking only should/may requirements fail the run too")
    run.add_argument("--fuzz-examples", type=number(int, 1), metavar="N", help="examples per property test")
    run.add_argument("--fuzz-seconds", type=number(float, 0), metavar="S", help="time budget per property test")
    run.add_argument("--replay", metavar="FILE",
                     help="re-run a failing fuzz case saved under <report-dir>/fuzz/ (its profile and test)")
    run.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS",
                     help="further pytest options after '--' (e.g. -- -x -v)")
    listing = sub.add_parser("list", help="print the test plan without sending anything")
    _add_selection(listing)
    listing.add_argument("--json", action="store_true", help="print the plan as JSON")
    for name, (_, _, text) in DELEGATES.items():
        sub.add_parser(name, help=text, add_help=False)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATES:
        return _delegate(argv[0], argv[1:])
    try:
        args = parser().parse_args(argv)
        if args.command == "run":
            from .run import run

            return run(args)
        if args.command == "list":
            from .listing import list_plan

            return list_plan(args)
        parser().print_help()
        return 2
    except CliError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
