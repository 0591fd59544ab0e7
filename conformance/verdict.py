"""Verdicts of a conformance test and their precedence (ttproto style: the worst verdict wins).

A test case ends with exactly one verdict. Test code signals non-pass verdicts by raising:

- ``Fail(reason)``: the IUT broke a requirement (computed from the captured trace).
- ``Inconclusive(reason)``: the test could not decide (no stimulus available, the IUT refused a precondition).
- ``NotApplicable(reason)``: the profile (PICS) excludes the test; raised before any traffic.
- any other exception: ``error`` (a fault of the suite or of its environment, never of the IUT).

``assert`` statements in test cases count as ``Fail`` too.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    """Outcome of one test case; ``precedence`` orders them for worst-wins merging."""

    NOT_APPLICABLE = "not-applicable"
    PASS = "pass"
    WAIVED = "waived"
    INCONCLUSIVE = "inconclusive"
    FAIL = "fail"
    ERROR = "error"

    @property
    def precedence(self) -> int:
        return _PRECEDENCE[self]

    def merge(self, other: Verdict) -> Verdict:
        """The worse of two verdicts (pass < inconclusive < fail < error)."""
        return self if self.precedence >= other.precedence else other

    @classmethod
    def worst(cls, verdicts) -> Verdict:
        result = cls.NOT_APPLICABLE
        for v in verdicts:
            result = result.merge(v)
        return result


_PRECEDENCE = {
    Verdict.NOT_APPLICABLE: 0,
    Verdict.PASS: 1,
    Verdict.WAIVED: 2,
    Verdict.INCONCLUSIVE: 3,
    Verdict.FAIL: 4,
    Verdict.ERROR: 5,
}


class VerdictSignal(Exception):
    """Base of the exceptions that end a test case with a verdict other than pass or error."""

    verdict: Verdict

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Fail(VerdictSignal, AssertionError):
    """The IUT broke the requirement under test."""

    verdict = Verdict.FAIL


class Inconclusive(VerdictSignal):
    """The test could not reach a decision (missing stimulus, precondition not met)."""

    verdict = Verdict.INCONCLUSIVE


class NotApplicable(VerdictSignal):
    """The profile excludes this test; raised before any traffic."""

    verdict = Verdict.NOT_APPLICABLE
