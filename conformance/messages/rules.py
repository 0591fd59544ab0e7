"""Sender-binding rules that testers check but receivers do not reject for (B.6 rule 6), the 454-coded
message-only rules a receiver checks (Table 6.1-4 step 5), and the event status and order of Tables 6.3-1, 6.3-3.

Every check takes a message body (the envelope's value) and returns a list of `RuleViolation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from . import timefmt


class RuleViolation(NamedTuple):
    """A broken rule: the requirement id, the JSON pointer of the place, and what is wrong."""

    requirement_id: str
    pointer: str
    text: str


def _ei_event(event: dict) -> dict:
    return event.get("eiEvent", event)


def event_status(event: dict, now: datetime) -> str:
    """`eventStatus` per Table 6.3-1 at ``now`` of an `EmapEvent` or `EiEvent` (cancelled stays cancelled)."""
    ei_event = _ei_event(event)
    if ei_event["eventDescriptor"].get("eventStatus") == "cancelled":
        return "cancelled"
    properties = ei_event["eiActivePeriod"]["properties"]
    start = timefmt.parse_datetime(properties["dtstart"])
    duration = timefmt.parse_duration(properties["duration"])
    ramp_up = timefmt.parse_duration(properties.get("x-eiRampUp", "PT0S"))
    elapsed = (now - start).total_seconds()
    if elapsed < -ramp_up:
        return "far"
    if elapsed < 0:
        return "near"
    if duration == 0 or elapsed < duration:
        return "active"
    return "completed"


_GROUPS = {"active": 1, "near": 2, "far": 2, "completed": 3, "cancelled": 3}


def event_sort_key(event: dict) -> tuple:
    """Sort key of an `EmapEvent` per Table 6.3-3, from the `eventStatus` it carries."""
    descriptor = _ei_event(event)["eventDescriptor"]
    group = _GROUPS.get(descriptor["eventStatus"], 3)
    start = timefmt.parse_datetime(_ei_event(event)["eiActivePeriod"]["properties"]["dtstart"])
    priority = descriptor.get("priority") or 0
    rank = priority if priority > 0 else float("inf")
    if group == 1:
        return (group, rank, start, descriptor["eventID"])
    if group == 2:
        return (group, start, rank, descriptor["eventID"])
    return (group, start, 0, descriptor["eventID"])
