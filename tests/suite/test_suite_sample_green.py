"""The README's first command: the whole suite over every bundled profile against the sample EMA is green."""

from __future__ import annotations

import json
import subprocess
import sys

from conformance.profiles import bundled_profiles

ACCEPTED = {"pass", "not-applicable"}


def test_whole_suite_passes_against_the_sample_ema(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "conformance.cli.main", "run", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=2400, stdin=subprocess.DEVNULL,
    )
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    others = [
        f"{run_['profile']['name']}: {test['id']} {test['verdict']}: {test['reason']}"
        for run_ in results["runs"] for test in run_["tests"] if test["verdict"] not in ACCEPTED
    ]
    assert not others, "\n".join(others)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert {r["profile"]["name"] for r in results["runs"]} == set(bundled_profiles())
    html = (tmp_path / "conformance.html").read_text(encoding="utf-8")
    assert "TC-U-6.2.2-01" in html and "TC-L-" in html
