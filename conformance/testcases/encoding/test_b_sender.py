"""Annex B, sender side: every message the IUT sent in a varied session, judged rule by rule (EMAP-B-01,
B-03, B-04/B-06, B-08 to B-13). Each test fails only for its own rule; findings of other Annex B rules are left
to their tests."""

from __future__ import annotations

from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .sent import annex_b_findings, judge, overall_findings

ANY_ROLE = 'role in ("upper", "lower", "intermediate")'


def _judge(trace, requirements: tuple[str, ...], collect=annex_b_findings) -> None:
    if judge(trace, requirements, collect) == 0:
        raise Inconclusive("the IUT sent no EMAP message in the session")


@emap_test("TC-B-01", requirements=["EMAP-B-01"], applies=ANY_ROLE)
async def test_messages_conform(iut_sent, trace):
    """Every message the IUT sends validates against its B.6 schema and breaks no sender-binding message rule."""
    _judge(trace, ("EMAP-B-01",), lambda sent: overall_findings(sent, iut_sent))


@emap_test("TC-B-03", requirements=["EMAP-B-03"], applies=ANY_ROLE)
async def test_single_envelope(iut_sent, trace):
    """Every message is one envelope member named by Table B-1 whose value is the body object."""
    _judge(trace, ("EMAP-B-03",))


@emap_test("TC-B-04", requirements=["EMAP-B-04", "EMAP-B-06"], applies=ANY_ROLE)
async def test_only_field_table_members(iut_sent, trace):
    """No member outside the field table of its enclosing object, at any depth (names as Table B-2 maps them)."""
    _judge(trace, ("EMAP-B-04",))


@emap_test("TC-B-08", requirements=["EMAP-B-08"], applies=ANY_ROLE)
async def test_arrays_where_typed(iut_sent, trace):
    """Members typed [T] are arrays even with one item, others are not; empty only where the table allows."""
    _judge(trace, ("EMAP-B-08",))


@emap_test("TC-B-09", requirements=["EMAP-B-09"], applies=ANY_ROLE)
async def test_flattened_xcal(iut_sent, trace):
    """dtstart, duration, uid, granularity and the other xCal members are plain strings, not wrapper objects."""
    _judge(trace, ("EMAP-B-09",))


@emap_test("TC-B-10", requirements=["EMAP-B-10"], applies=ANY_ROLE)
async def test_time_formats(iut_sent, trace):
    """dateTime values are RFC 3339 UTC with Z and durations are of the Table B-3 subset."""
    _judge(trace, ("EMAP-B-10",))


@emap_test("TC-B-11", requirements=["EMAP-B-11"], applies=ANY_ROLE)
async def test_native_scalars(iut_sent, trace):
    """responseCode is a three-digit string; integer, number and boolean members are native JSON values."""
    _judge(trace, ("EMAP-B-11",))


@emap_test("TC-B-12", requirements=["EMAP-B-12"], applies=ANY_ROLE)
async def test_item_base(iut_sent, trace):
    """Every itemBase has the type, members and fixed values of Table B-11 for its kind."""
    _judge(trace, ("EMAP-B-12",))


@emap_test("TC-B-13", requirements=["EMAP-B-13"], applies=ANY_ROLE)
async def test_enumeration_values(iut_sent, trace):
    """Enumeration members take listed values only (open enumerations also x- tokens), case as listed."""
    _judge(trace, ("EMAP-B-13",))
