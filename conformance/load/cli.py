"""``emap-conformance load``: community load against an upper-EMA IUT (see docs/load.md).

Exit codes as for ``run``: 0 no violation under load, 1 at least one violation, 2 the run could not be judged
(bad option or profile, IUT unreachable, report could not be written).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from conformance.load.plan import MAX_DURATION_S, MAX_LOWER_EMAS, LoadPlan, Mix, PlanError
from conformance.load.results import results_of
from conformance.load.runner import IutUnreachable, run_load

PROG = "emap-conformance load"
DEFAULT_REPORT_DIR = "reports/load"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PlanError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Simulate a building of lower EMAs (pull and push) against an upper-EMA "
        "IUT and check every exchange against the binding. Loopback or private test networks only.",
    )
    p.add_argument(
        "--iut", required=True, metavar="URI", help="base URI of the upper-EMA IUT (coap://host:port/path)"
    )
    p.add_argument(
        "--lower-emas",
        type=int,
        default=100,
        metavar="N",
        help=f"simulated lower EMAs (1..{MAX_LOWER_EMAS}, default 100)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=30.0,
        metavar="S",
        help=f"measured time in s (at most {MAX_DURATION_S:g}, default 30)",
    )
    p.add_argument(
        "--mix",
        metavar="SPEC",
        help="pull/push shares and per-period activity chances, e.g. "
        "pull=0.8,push=0.2,opt=0.1,report=0.05,event=0.1 (the default)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument(
        "--profile",
        metavar="FILE_OR_NAME",
        help="profile whose timings the simulated lower EMAs use and whose stimulus creates events",
    )
    p.add_argument("--control", metavar="URI", help="value of {control} in the profile's stimulus command")
    p.add_argument(
        "--events-every",
        type=float,
        metavar="S",
        help="ask the IUT (stimulus) to create an event for a random lower EMA every S s",
    )
    p.add_argument(
        "--full-checks",
        type=int,
        metavar="K",
        help="lower EMAs whose exchanges get the full schema and rule checks (default 50)",
    )
    p.add_argument(
        "--ramp",
        type=float,
        metavar="S",
        help="spread of the start times (default N/50 s, at most half the duration)",
    )
    p.add_argument(
        "--max-inflight", type=int, default=256, metavar="N", help="exchanges in flight at most (default 256)"
    )
    p.add_argument(
        "--keep-registrations", action="store_true", help="do not cancel the registrations at the end"
    )
    p.add_argument(
        "--report-dir",
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help=f"where results.json and the reports go (default {DEFAULT_REPORT_DIR}/)",
    )
    p.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return p


def _profile(name: str | None, control: str | None):
    """(timing, stimulus adaptor or None, profile dict or None) from ``--profile``/``--control``."""
    from conformance.profiles import ProfileError, StimulusAdaptor, load_profile
    from conformance.profiles.model import Timing

    if name is None:
        return Timing(), None, None
    try:
        profile = load_profile(name)
    except ProfileError as exc:
        raise PlanError(f"--profile: {exc}") from None
    adaptor = StimulusAdaptor(profile, {"control": control} if control else {})
    return profile.timing, adaptor if adaptor.available else None, profile.as_dict()


def plan_of(ns) -> tuple[LoadPlan, object, dict | None]:
    timing, stimulus, profile = _profile(ns.profile, ns.control)
    if ns.events_every is not None and stimulus is None:
        raise PlanError("--events-every: needs --profile with a command stimulus")
    plan = LoadPlan(
        iut=ns.iut,
        lower_emas=ns.lower_emas,
        duration_s=ns.duration,
        mix=Mix.parse(ns.mix),
        seed=ns.seed,
        timing=timing,
        full_check_emas=ns.full_checks,
        ramp_s=ns.ramp,
        max_inflight=ns.max_inflight,
        events_every_s=ns.events_every,
        leave=not ns.keep_registrations,
    )
    return plan, stimulus, profile


def summary_lines(section: dict) -> list[str]:
    """What the command prints: throughput, latencies per resource, errors, violations."""
    lines = [
        f"load: {section['lower_emas']} lower EMAs ({section['push_emas']} push), "
        f"{section['registered']} registered; {section['exchanges'] - section['after_stop']} exchanges in "
        f"{section['duration_s']:g} s = {section['per_s']:g}/s (+{section['after_stop']} after the stop); "
        f"{section['failed']} failed, {section['retransmissions']} retransmissions"
    ]
    for resource, figures in section["resources"].items():
        latency = figures["latency_ms"]
        lines.append(
            f"  {resource:16} {figures['exchanges']:8d} ({figures['per_s']:g}/s)  p50 {latency['p50']} ms"
            f"  p90 {latency['p90']} ms  p99 {latency['p99']} ms  max {latency['max']} ms"
        )
    if section["errors_by_code"]:
        lines.append("  errors by code: " + json.dumps(section["errors_by_code"]))
    violations = section["violations"]
    lines.append(
        f"violations: {violations['total']} ({violations['full_checks']} fully checked messages)"
        + (": " + json.dumps(violations["by_requirement"]) if violations["total"] else "")
    )
    lines += [
        f"  {v['requirement']} {v['resource']} {v['message']}: {v['detail']}"
        for v in violations["examples"][:5]
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``emap-conformance load`` (argv without the word "load")."""
    try:
        ns = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        plan, stimulus, profile = plan_of(ns)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except PlanError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=ns.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    started = time.time()
    try:
        section = asyncio.run(
            run_load(plan, stimulus=stimulus, progress=lambda text: print(text, file=sys.stderr))
        )
    except (PlanError, IutUnreachable) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    results = results_of(section, started=started, finished=time.time(), profile=profile)
    try:
        from conformance.report import write_reports

        write_reports(results, Path(ns.report_dir))
    except Exception as exc:  # the report must not hide the measurement: print it, then fail the run
        print("\n".join(summary_lines(section)))
        print(
            f"{PROG}: cannot write the reports to {ns.report_dir}: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 2
    print("\n".join(summary_lines(section)))
    print(f"reports: {ns.report_dir}/results.json, conformance.html")
    return 1 if section["violations"]["total"] else 0


if __name__ == "__main__":
    sys.exit(main())
