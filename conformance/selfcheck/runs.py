"""One bounded ``emap-conformance run`` of a bundled profile against the embedded sample EMA (or one of its
mutants), and what its results.json says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from conformance.plugin.embedded import MUTANT_ENV

DEFAULT_RUN_TIMEOUT_S = 900.0


@dataclass
class RunResult:
    """Verdicts of one run by test id, with each test's requirement ids; ``problem`` when it gave no results."""

    verdicts: dict[str, str] = field(default_factory=dict)
    requirements: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    fuzz: dict | None = None
    problem: str | None = None
    duration_s: float = 0.0


def run_command(profile: str, out_dir: Path, *, selection: str | None = None, seed: int = 0) -> list[str]:
    """The ``emap-conformance run`` command of one profile's run."""
    cmd = [sys.executable, "-m", "conformance.cli.main", "run", "--profile", profile,
           "--report-dir", str(out_dir), "--seed", str(seed)]
    return cmd + (["-k", selection] if selection else [])


def run_profile(profile: str, out_dir: Path, *, mutant: str | None = None, selection: str | None = None,
                seed: int = 0, timeout: float = DEFAULT_RUN_TIMEOUT_S) -> RunResult:
    """Run ``profile`` (optionally against ``mutant``, limited to the ``-k`` ``selection``) within ``timeout``."""
    import time

    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop(MUTANT_ENV, None)
    if mutant:
        env[MUTANT_ENV] = mutant
    started = time.monotonic()
    with open(out_dir / "run.log", "wb") as log:
        proc = subprocess.Popen(run_command(profile, out_dir, selection=selection, seed=seed), env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group: pytest and its sample EMA
            proc.wait()
            return RunResult(problem=f"no result within {timeout:g} s", duration_s=time.monotonic() - started)
    result = read_results(out_dir / "results.json")
    result.duration_s = time.monotonic() - started
    if result.problem is None and not result.verdicts:
        result.problem = f"no verdicts; exit status {code} (see {out_dir / 'run.log'})"
    return result


def read_results(path: Path) -> RunResult:
    """The verdicts in a single-run results.json; ``problem`` says why there are none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RunResult(problem=f"no readable {path.name}: {exc}")
    result = RunResult(fuzz=data.get("fuzz"))
    for test in data.get("tests", []):
        result.verdicts[test["id"]] = test["verdict"]
        result.requirements[test["id"]] = tuple(test.get("requirements", ()))
        result.reasons[test["id"]] = test.get("reason", "")
    if data.get("aborted"):
        result.problem = f"run aborted: {data['aborted']}"
    return result
