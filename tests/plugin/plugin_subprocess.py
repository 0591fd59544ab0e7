"""Run the conformance plugin (through pytest or the emap-conformance CLI) in a subprocess over the fake suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.cli.pytest_args import base_command

FAKE_SUITE = Path(__file__).with_name("fake_suite")
VERDICTS = FAKE_SUITE / "plugin_fake_verdicts.py"
NEEDS_IUT = FAKE_SUITE / "plugin_fake_iut.py"
BAD_CASES = FAKE_SUITE / "plugin_fake_bad_cases.py"
RUN_TIMEOUT_S = 120
FAST = ("-p", "no:hypothesispytest")  # the fake suite needs no hypothesis; its plugin costs a second per run


def _env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAP_")}
    env.update(extra or {})
    return env


def run_pytest(target: Path, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``pytest <target> <args>`` with the suite's pytest settings, as ``emap-conformance run`` starts it."""
    return subprocess.run(base_command(str(target)) + list(args) + list(FAST), capture_output=True, text=True, cwd=cwd,
                          env=_env(env), timeout=RUN_TIMEOUT_S, check=False)


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``emap-conformance <args>`` (a ``run`` gets the fast pytest options after ``--``)."""
    tail = ["--", *FAST] if args[0] == "run" else []
    return subprocess.run([sys.executable, "-m", "conformance.cli.main", *args, *tail], capture_output=True, text=True,
                          cwd=cwd, env=_env(env), timeout=RUN_TIMEOUT_S, check=False)


def results_of(report_dir: Path) -> dict:
    return json.loads((report_dir / "results.json").read_text(encoding="utf-8"))


def verdicts_of(results: dict) -> dict[str, str]:
    return {test["id"]: test["verdict"] for test in results["tests"]}
