"""Build ``results.json`` (interfaces.md section 2) from the test outcomes, and the run's exit status.

Requirement verdicts roll up from the tests that name a requirement: the worst of their verdicts, ``not-tested``
when no test names it. A test whose requirements are all should/may-level is *advisory* unless ``--strict``: its
fail or inconclusive verdict is reported as such but does not decide the exit status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from conformance.verdict import Verdict

ADVISORY_LEVELS = frozenset({"should", "may"})
NOT_TESTED = "not-tested"

EXIT_OK, EXIT_FAIL, EXIT_UNJUDGED = 0, 1, 2


def rfc3339(moment: datetime) -> str:
    """``moment`` as an RFC 3339 UTC timestamp with seconds precision."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Outcome:
    """How one test case ended: its verdict, reason, duration of its body and the path of its trace."""

    verdict: Verdict
    reason: str = ""
    duration_s: float = 0.0
    trace: str | None = None

    def worsen(self, verdict: Verdict, reason: str) -> None:
        """Keep the worse of the current verdict and ``verdict`` (with its reason)."""
        if verdict.precedence > self.verdict.precedence:
            self.verdict, self.reason = verdict, reason


def entry_of(case, outcome: Outcome, levels: dict[str, str], strict: bool) -> dict:
    """The ``tests[]`` entry of one test case."""
    verdict = outcome.verdict.value
    advisory = (
        not strict
        and verdict in ("fail", "inconclusive")
        and all(levels.get(req) in ADVISORY_LEVELS for req in case.requirements)
    )
    entry = {
        "id": case.id,
        "requirements": list(case.requirements),
        "clause": case.clause,
        "purpose": case.purpose,
        "verdict": verdict,
        "reason": outcome.reason,
        "advisory": advisory,
        "duration_s": round(outcome.duration_s, 3),
        "trace": outcome.trace,
    }
    if advisory:
        entry["advisories"] = ["only should/may-level requirements: this verdict does not fail the run "
                               "(--strict makes it count)"]
    return entry


def summarise(tests: Iterable[dict]) -> dict[str, int]:
    """Count of tests per verdict (every verdict present, 0 when unused)."""
    counts = {v.value: 0 for v in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.ERROR,
                                   Verdict.NOT_APPLICABLE, Verdict.WAIVED)}
    for test in tests:
        counts[test["verdict"]] += 1
    return counts


def requirement_verdicts(tests: list[dict], catalogue) -> list[dict]:
    """One entry per catalogue requirement, in binding order: the worst verdict of the tests naming it."""
    named: dict[str, list[dict]] = {}
    for test in tests:
        for req in test["requirements"]:
            named.setdefault(req, []).append(test)
    entries = []
    for req in catalogue:
        naming = named.get(req.id, [])
        verdict = Verdict.worst(Verdict(t["verdict"]) for t in naming).value if naming else NOT_TESTED
        entries.append({"id": req.id, "level": req.level, "verdict": verdict, "tests": [t["id"] for t in naming]})
    return entries


def refresh(results: dict, catalogue) -> None:
    """Recompute ``summary`` and ``requirements`` after the tests' verdicts changed (baseline waivers)."""
    results["summary"] = summarise(results["tests"])
    results["requirements"] = requirement_verdicts(results["tests"], catalogue)


def exit_status(results: dict) -> int:
    """0 every counted test passed or is waived; 1 a conformance failure or baseline problem; 2 not judged.

    A suite error or an aborted run gives 2 whatever else happened; otherwise a failure gives 1; otherwise an
    inconclusive test (the run could not judge it) gives 2. Advisory tests count only when they end in error.
    """
    tests = results["tests"]
    if results.get("aborted") or any(t["verdict"] == "error" for t in tests):
        return EXIT_UNJUDGED
    counted = {t["verdict"] for t in tests if not t["advisory"]}
    if "fail" in counted or results.get("baseline_problems"):
        return EXIT_FAIL
    if "inconclusive" in counted:
        return EXIT_UNJUDGED
    return EXIT_OK
