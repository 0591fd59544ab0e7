"""``python -m conformance.selfcheck mutants|flake ...``: the mutation score and the flake check.

Exit status: 0 when the score reaches the thresholds (or the flake check passes), 1 when not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.ema.mutants.registry import PROFILES
from conformance.selfcheck.runs import DEFAULT_RUN_TIMEOUT_S

DETECTED_MIN_PCT = 95.0
RIGHT_REQUIREMENT_MIN_PCT = 90.0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance.selfcheck",
                                description="Self-validation of the suite against the sample EMA.")
    sub = p.add_subparsers(dest="command", required=True)
    zoo = sub.add_parser("mutants", help="run the mutant zoo and print the mutation score")
    zoo.add_argument("names", nargs="*", help="mutants to run (default: all)")
    zoo.add_argument("--fast", action="store_true",
                     help="the CI subset: one mutant per clause, each run with only the tests it must fail")
    zoo.add_argument("--jobs", type=int, default=1, help="mutant runs at a time (default 1)")
    flake = sub.add_parser("flake", help="repeat full runs and compare verdicts")
    flake.add_argument("--runs", type=int, default=5, help="runs per seed setting (default 5)")
    for command in (zoo, flake):
        command.add_argument("--profile", action="append", choices=PROFILES,
                             help="bundled profile(s) to use (repeatable; default: every one the mutants use, "
                                  "or all six for flake)")
        command.add_argument("--out", default="reports/selfcheck", help="output directory")
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--timeout", type=float, default=DEFAULT_RUN_TIMEOUT_S,
                             help=f"bound of one run in s (default {DEFAULT_RUN_TIMEOUT_S:g})")
    return p


def mutants(args) -> int:
    from conformance.selfcheck.zoo import report, run_zoo, score, select

    try:
        chosen = select(args.names, fast=args.fast, profiles=args.profile)
    except ValueError as exc:
        print(f"selfcheck: {exc}", file=sys.stderr)
        return 2
    if not chosen:
        print("selfcheck: no mutant matches", file=sys.stderr)
        return 2
    print(f"== {len(chosen)} mutants", flush=True)
    outcomes = run_zoo(chosen, Path(args.out), profiles=args.profile, jobs=args.jobs, seed=args.seed,
                       timeout=args.timeout, narrow=args.fast, progress=lambda line: print(line, flush=True))
    print(report(outcomes), flush=True)
    s = score(outcomes)
    return 0 if s["detected_pct"] >= DETECTED_MIN_PCT and s["right_requirement_pct"] >= RIGHT_REQUIREMENT_MIN_PCT \
        else 1


def flake(args) -> int:
    from conformance.selfcheck.flake import flake_check

    problems = []
    for profile in args.profile or PROFILES:
        problems += flake_check(profile, Path(args.out), runs=args.runs, seed=args.seed, timeout=args.timeout,
                                progress=lambda line: print(line, flush=True))
    print("flake check: " + ("passed" if not problems else f"{len(problems)} problem(s)"))
    for line in problems:
        print(f"  {line}")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1 or getattr(args, "runs", 1) < 1:
        print("selfcheck: --jobs and --runs must be >= 1", file=sys.stderr)
        return 2
    return mutants(args) if args.command == "mutants" else flake(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
