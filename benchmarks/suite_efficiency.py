"""Benchmark 2: suite efficiency. Wall time of the default ``emap-conformance run`` (every bundled profile
against the embedded sample EMA) against the time the suite must wait: the time its event loop is blocked
waiting for protocol timers, observation windows (T_PROMPT, poll periods, back-off) and the IUT's answers,
measured by the ``idle_meter`` pytest plugin in every profile's pytest process. Target: wall / waits <= 1.5.

The rest of the wall time is the suite's own work: interpreter and plugin start-up, starting the sample EMA,
building, validating and judging messages, writing the reports.

    python benchmarks/suite_efficiency.py [--profile NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import HERE, emit, verdict


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--profile", action="append", help="bundled profile or file (default: every bundled profile)"
    )
    ns = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        meter = Path(tmp) / "idle.jsonl"
        env = {
            **os.environ,
            "EMAP_IDLE_METER_OUT": str(meter),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        }
        cmd = [
            sys.executable,
            "-m",
            "conformance.cli.main",
            "run",
            "--report-dir",
            str(Path(tmp) / "reports"),
        ]
        for profile in ns.profile or []:
            cmd += ["--profile", profile]
        cmd += ["--", "-p", "idle_meter", "-q", "--no-header"]
        started = time.monotonic()
        code = subprocess.call(cmd, env=env, stdout=subprocess.DEVNULL, cwd=tmp)
        wall = time.monotonic() - started
        sessions = [json.loads(line) for line in meter.read_text().splitlines()] if meter.exists() else []
    if not sessions:
        print(f"suite_efficiency: the run (exit {code}) reported no session", file=sys.stderr)
        return 2
    waits = sum(s["idle_s"] for s in sessions)
    in_sessions = sum(s["session_s"] for s in sessions)
    ratio = wall / waits if waits else float("inf")
    emit(
        "suite-efficiency",
        {
            "run_exit": code,
            "profiles": len(sessions),
            "tests": sum(s["tests"] for s in sessions),
            "wall_s": round(wall, 1),
            "waits_s": round(waits, 1),
            "sessions_s": round(in_sessions, 1),
            "outside_sessions_s": round(wall - in_sessions, 1),
            "busy_in_sessions_s": round(in_sessions - waits, 1),
            "per_profile": [
                {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()} for s in sessions
            ],
            "ratio": f"{ratio:.2f} ({verdict(ratio, 1.5, at_least=False)})",
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
