"""The soak script runs against the sample lower EMA (push mode) and the sample upper EMA with a small budget: it
exits 0 (no finding), prints the ratio of cases/s to plain exchanges/s and writes its statistics; its draw-only
mode prints ms per drawn case."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_soak.py"
CASES = 200


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.mark.parametrize("role", ["lower", "upper"])
def test_soak_runs_and_prints_the_ratio(role, tmp_path):
    done = _run("--role", role, "--cases", str(CASES), "--batch", "100", "--plain", "100", "--out", str(tmp_path),
                timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"ratio cases/plain = \d+\.\d\d; findings: 0", done.stdout), done.stdout[-2000:]
    assert f"batch 1: {CASES} cases" in done.stdout
    stats = json.loads((tmp_path / f"soak-stats-{role}.json").read_text())
    assert stats["examples"] == CASES and stats["failures"] == 0


def test_draw_mode_prints_ms_per_case():
    done = _run("--role", "lower", "--draw", "50", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.fullmatch(r"lower mix: \d+\.\d\d ms per drawn case \(50 cases, seed 0\)\n", done.stdout)
