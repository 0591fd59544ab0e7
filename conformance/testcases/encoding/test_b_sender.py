"""Annex B, sender side: every message the IUT sent in a varied session, judged rule by rule (EMAP-B-01,
B-03, B-04/B-06, B-08 to B-13). Each test fails only for its own rule."""

from __future__ import annotations

import pytest

from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .sent import annex_b_findings, judge, overall_findings

ANY_ROLE = 'role in ("upper", "lower", "intermediate")'


def _judge(trace, requirements: tuple[str, ...], collect) -> None:
    if judge(trace, requirements, collect) == 0:
        raise Inconclusive("the IUT sent no EMAP message in the session")


@emap_test("TC-B-01", requirements=["EMAP-B-01"], applies=ANY_ROLE)
async def test_messages_conform(iut_sent, trace):
    """Every message the IUT sends validates against its B.6 schema and breaks no sender-binding message rule."""
    _judge(trace, ("EMAP-B-01",), lambda sent: overall_findings(sent, iut_sent))


CASES = {
    "TC-B-03": (("EMAP-B-03",), "Every message is one envelope member named by Table B-1 with an object body."),
    "TC-B-04": (("EMAP-B-04", "EMAP-B-06"),
                "No member outside the field table of its enclosing object, at any depth (names as in Table B-2)."),
    "TC-B-08": (("EMAP-B-08",), "Members typed [T] are arrays, others are not; empty only where allowed."),
    "TC-B-09": (("EMAP-B-09",), "dtstart, duration, uid and the other xCal members are plain strings."),
    "TC-B-10": (("EMAP-B-10",), "dateTime and duration values have the formats of Table B-3."),
    "TC-B-11": (("EMAP-B-11",), "responseCode is a three-digit string; integers, numbers, booleans are native."),
    "TC-B-12": (("EMAP-B-12",), "Every itemBase has the members and fixed values of Table B-11 for its type."),
    "TC-B-13": (("EMAP-B-13",), "Enumeration members carry listed values (open ones also x- tokens)."),
}


def _case(case_id: str):
    requirements, purpose = CASES[case_id]

    @emap_test(case_id, requirements=list(requirements), applies=ANY_ROLE)
    async def test(iut_sent, trace):
        _judge(trace, requirements, annex_b_findings)

    test.__doc__ = purpose
    test.__name__ = f"test_{case_id.lower().replace('-', '_')}"
    return test


for _id in CASES:
    globals()[f"test_{_id.lower().replace('-', '_')}"] = _case(_id)
del _id
_ = pytest
