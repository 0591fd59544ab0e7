"""Fixtures of the fuzz test cases: the run's fuzz statistics, and (for a lower-EMA IUT) the session's reference
upper EMA and the test's link to it (shared with the lower-IUT test cases)."""

from __future__ import annotations

import json

import pytest

from conformance.fuzz.stats import FuzzStats
from conformance.testcases.lower_iut.fixtures import link, listening_peer, upper_peer  # noqa: F401


@pytest.fixture(scope="session")
def fuzz_stats(emap_run, fuzz):
    """The run's ``FuzzStats``; kept on the run as ``emap_run.fuzz_stats`` (results.json ``fuzz``) and written to
    ``<report-dir>/fuzz/stats.json`` at the end of the session."""
    stats = FuzzStats(fuzz.seed, fuzz.examples, fuzz.seconds)
    emap_run.fuzz_stats = stats
    yield stats
    folder = emap_run.settings.report_dir / "fuzz"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stats.json").write_text(json.dumps(stats.as_dict(), indent=1) + "\n", encoding="utf-8")
