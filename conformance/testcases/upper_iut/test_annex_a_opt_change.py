"""Annex A opt change, upper-EMA IUT (ICS-10): negotiation, per-event permission, 454/451/450 and acceptance."""

from __future__ import annotations

import asyncio

from conformance.messages import build as B
from conformance.messages.rules import event_rules
from conformance.messages.timefmt import parse_datetime, utc_now
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    OPT_CHANGE,
    act,
    answer_of,
    expect_answer,
    fail,
    generated_at,
    messages_to,
    rule_violations,
)
from conformance.verdict import Inconclusive

DISTRIBUTE = "emapDistributeEvent"


async def _opt_change_peer(lower, *, name: str = "L", accepted: bool = True):
    """A registered lower EMA that asked for opt change (``accepted``) or did not."""
    peer = await lower(name=name, opt_change=True if accepted else None)
    if accepted and peer.opt_change is not True:
        raise Inconclusive(f"precondition: opt change was not accepted for {name} (emapOptChange "
                           f"{peer.opt_change!r})")
    return peer


async def _event(peer, stimulus, *, decide: bool = True, **args) -> tuple[str, dict]:
    """Create an event for ``peer`` and fetch its distribution (answered with optIn when ``decide``);
    returns the eventID and the ``EmapEvent`` as delivered."""
    event_id = peer.ids("ev")
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": event_id, "responseRequired": "always",
                                         **args})
    message = await peer.receive(DISTRIBUTE, timeout=peer.prompt, answer=decide)
    event = None if message is None else next(
        (e for e in message.body["emapEvent"] if e["eiEvent"]["eventDescriptor"]["eventID"] == event_id), None)
    if event is None:
        raise Inconclusive(f"event {event_id!r} was not delivered after the accepted create-event")
    return event_id, event


def _number(event: dict) -> int:
    return event["eiEvent"]["eventDescriptor"]["modificationNumber"]


async def _change(peer, event_id: str, number: int, **kwargs):
    """POST an event-form opt-change opt (eiTarget {}) for the event."""
    return await peer.post("EiOpt", B.create_opt(peer.ids("co"), peer.ven_id, peer.ids("opt"), "optOut",
                                                 reason="overrideStatus", event_id=event_id,
                                                 modification_number=number, opt_change=True, target={},
                                                 **kwargs))


@emap_test("TC-U-A-01", requirements=["EMAP-A-02"], applies=OPT_CHANGE)
async def test_opt_change_answer(lower, trace):
    """A successful create that carried emapOptChange is answered with emapOptChange (true or false)."""
    for asked in (True, False):
        await lower(name=f"asked-{asked}", opt_change=asked)
        reply = next(ex.response_message for ex in reversed(trace.exchanges())
                     if ex.request_message is not None and ex.request_message.name == "emapCreatePartyRegistration"
                     and ex.request_message.body.get("emapOptChange") is asked)
        if not isinstance(reply.body.get("emapOptChange"), bool):
            raise fail("EMAP-A-02", f"a create carrying emapOptChange {asked} got a reply without emapOptChange")


@emap_test("TC-U-A-02", requirements=["EMAP-A-03"], applies=OPT_CHANGE)
async def test_opt_change_members_only_when_accepted(lower, trace, stimulus, timing):
    """emapOptChangeAllowed/Deadline go only to lower EMAs with opt change accepted; the deadline only with
    allowed true and not after the end of the event."""
    plain = await lower(name="plain")
    await _event(plain, stimulus, optChangeAllowed=True, optChangeDeadline_s=600)
    for _, message in messages_to(trace, plain, DISTRIBUTE):
        for event in message.body["emapEvent"]:
            if "emapOptChangeAllowed" in event or "emapOptChangeDeadline" in event:
                raise fail("EMAP-A-03", f"emapDistributeEvent {message.request_id!r} to a lower EMA without opt "
                                        "change carries emapOptChangeAllowed/Deadline")
    changer = await _opt_change_peer(lower, name="changer")
    await _event(changer, stimulus, optChangeAllowed=True, optChangeDeadline_s=600)
    await _event(changer, stimulus, optChangeAllowed=False)
    await changer.request_event()
    for record, message in messages_to(trace, changer, DISTRIBUTE):
        found = rule_violations(event_rules(message.body, generated_at(record), tolerance=timing.tolerance_s),
                                "EMAP-A-03")
        if found:
            raise fail("EMAP-A-03", f"emapDistributeEvent {message.request_id!r} at {found[0].pointer}: "
                                    f"{found[0].text}")


@emap_test("TC-U-A-03", requirements=["EMAP-A-05"], applies=OPT_CHANGE)
async def test_schedule_form_opt_change_454(lower, trace):
    """A schedule-form opt with emapOptChange true is answered 454."""
    peer = await _opt_change_peer(lower)
    posted = await peer.create_opt(opt_change=True)
    expect_answer(trace, posted, "EMAP-A-05", name="emapCreatedOpt", code="454")


@emap_test("TC-U-A-04", requirements=["EMAP-A-06"], applies=OPT_CHANGE)
async def test_opt_change_not_allowed_451(lower, trace, stimulus):
    """Opt change is answered 451 without acceptance at registration, for an event without
    emapOptChangeAllowed, after the deadline, and for a cancelled event."""
    plain = await lower(name="plain")
    event_id, event = await _event(plain, stimulus, optChangeAllowed=True)
    expect_answer(trace, await _change(plain, event_id, _number(event)), "EMAP-A-06", name="emapCreatedOpt",
                  code="451")
    peer = await _opt_change_peer(lower)
    event_id, event = await _event(peer, stimulus, optChangeAllowed=False)
    expect_answer(trace, await _change(peer, event_id, _number(event)), "EMAP-A-06", name="emapCreatedOpt",
                  code="451")
    event_id, event = await _event(peer, stimulus, optChangeAllowed=True, optChangeDeadline_s=1)
    deadline = event.get("emapOptChangeDeadline")
    if deadline is None:
        raise Inconclusive("the event created with a deadline carries no emapOptChangeDeadline")
    remaining = (parse_datetime(deadline) - utc_now()).total_seconds() + peer.timing.tolerance_s
    await asyncio.sleep(max(0.0, remaining))
    expect_answer(trace, await _change(peer, event_id, _number(event)), "EMAP-A-06", name="emapCreatedOpt",
                  code="451")
    event_id, event = await _event(peer, stimulus, optChangeAllowed=True)
    await act(stimulus, "cancel-event", {"eventID": event_id})
    cancelled = await peer.receive(DISTRIBUTE, timeout=peer.prompt)
    number = next((_number(e) for e in (cancelled.body["emapEvent"] if cancelled else [])
                   if e["eiEvent"]["eventDescriptor"]["eventID"] == event_id), _number(event) + 1)
    expect_answer(trace, await _change(peer, event_id, number), "EMAP-A-06", name="emapCreatedOpt", code="451")


@emap_test("TC-U-A-05", requirements=["EMAP-A-07"], applies=OPT_CHANGE)
async def test_opt_change_without_decision_450(lower, trace, stimulus):
    """Opt change for an event on which L has given no decision is answered 450; after L's eventResponse it
    is not."""
    peer = await _opt_change_peer(lower)
    event_id, event = await _event(peer, stimulus, decide=False, optChangeAllowed=True)
    expect_answer(trace, await _change(peer, event_id, _number(event)), "EMAP-A-07", name="emapCreatedOpt",
                  code="450")
    distribution = next(m for _, m in reversed(messages_to(trace, peer, DISTRIBUTE)))
    await peer.step_two(distribution)
    reply = answer_of(trace, await _change(peer, event_id, _number(event)), "EMAP-A-07")
    if reply.response_code == "450":
        raise fail("EMAP-A-07", "opt change after L's eventResponse (a recorded decision) was still answered 450")


@emap_test("TC-U-A-06", requirements=["EMAP-A-08"], applies=OPT_CHANGE)
async def test_opt_change_accepted(lower, trace, stimulus):
    """A permitted opt change (accepted registration, allowed event, decision given, before the deadline) is
    answered 200."""
    peer = await _opt_change_peer(lower)
    event_id, event = await _event(peer, stimulus, optChangeAllowed=True, optChangeDeadline_s=600)
    expect_answer(trace, await _change(peer, event_id, _number(event)), "EMAP-A-08", name="emapCreatedOpt",
                  code="200")
