"""The coverage gate: every shall requirement of the catalogue is named by a test case of the bundled suite."""

from __future__ import annotations

import json
import subprocess
import sys

from conformance.catalogue import load_catalogue


def test_every_shall_requirement_has_a_test():
    plan = subprocess.run(
        [sys.executable, "-m", "conformance.cli.main", "list", "--json"],
        capture_output=True, text=True, timeout=120, check=True, stdin=subprocess.DEVNULL,
    )
    named = {req for profile in json.loads(plan.stdout) for test in profile["tests"] for req in test["requirements"]}
    untested = [r.id for r in load_catalogue() if r.level == "shall" and r.id not in named]
    assert not untested, f"shall requirements without a test case: {', '.join(untested)}"
