"""Lower-EMA IUT, Annex A opt change: asked for at registration, used only when allowed, and reflected in later
eventResponses."""

from __future__ import annotations

from datetime import timedelta

from conformance.messages.timefmt import utc_now
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import OPT_CHANGE, fail, iut_requests
from .test_6_3_event import judge_event

OTHER = {"optIn": "optOut", "optOut": "optIn"}


async def with_opt_change(link) -> None:
    """Precondition: a registration for which the peer accepted opt change (re-registration asking for it)."""
    await link.registered()
    if not link.peer.link.opt_change:
        before = link.peer.registrations
        await link.act("create-registration", {"registrationID": link.peer.link.registration_id,
                                               "optChange": True})
        await link.peer.wait_for(lambda: link.peer.registrations > before, link.prompt + link.exchange_timeout)
        await link.settled()
    if not link.peer.link or not link.peer.link.opt_change:
        raise Inconclusive("precondition: the IUT did not register asking for opt change (EMAP-A-01)")


async def decided_event(link, trace, **members) -> tuple[str, str, dict]:
    """Deliver one new event; (eventID, the optType the IUT gave, the EmapEvent)."""
    event = link.event(**members)
    event_id = event["eiEvent"]["eventDescriptor"]["eventID"]
    sent = await link.deliver(link.distribute(event))
    return event_id, judge_event(trace, sent, "EMAP-6.3.2-08", event_id, "200")["optType"], event


def changing_opts(trace) -> list:
    return [ex for ex in iut_requests(trace, "emapCreateOpt") if ex.request_message.body.get("emapOptChange")]


@emap_test("TC-L-A-01", requirements=["EMAP-A-04"], applies=OPT_CHANGE)
async def test_no_opt_change_when_not_allowed(link, trace):
    """For an event without emapOptChangeAllowed the IUT sends no emapCreateOpt with emapOptChange true."""
    await with_opt_change(link)
    event_id, given, _ = await decided_event(link, trace)
    await link.try_act("create-opt", {"eventID": event_id, "modificationNumber": 0, "optType": OTHER[given],
                                      "optChange": True})
    await link.observe(link.prompt)
    if changing_opts(trace):
        raise fail("EMAP-A-04", "emapCreateOpt with emapOptChange true for an event whose latest EmapEvent did not "
                                "allow opt change")


@emap_test("TC-L-A-02", requirements=["EMAP-A-04", "EMAP-A-09", "EMAP-A-01", "EMAP-6.3.2-09"], applies=OPT_CHANGE)
async def test_opt_change_changes_later_answers(link, trace):
    """An accepted opt change with eiTarget {} is sent in event form and changes the optType of later answers."""
    await with_opt_change(link)
    event_id, given, event = await decided_event(link, trace, opt_change_allowed=True,
                                                 opt_change_deadline=utc_now() + timedelta(hours=1))
    await link.act("create-opt", {"eventID": event_id, "modificationNumber": 0, "optType": OTHER[given],
                                  "optChange": True})
    inbound = await link.next_request("emapCreateOpt", link.prompt)
    if inbound is None:
        raise fail("EMAP-A-04", "no emapCreateOpt within T_PROMPT of an allowed opt-change stimulus")
    body = inbound.message.body
    if "qualifiedEventID" not in body or "vavailability" in body or body.get("emapOptChange") is not True:
        raise fail("EMAP-A-04", "an opt change is sent in event form with emapOptChange true")
    if body["eiTarget"] != {}:
        raise Inconclusive("the IUT's opt change names resources; this test needs eiTarget {}")
    again = await link.deliver(link.distribute(event))
    judge_event(trace, again, "EMAP-A-09", event_id, "200", (OTHER[given],))


@emap_test("TC-L-A-03", requirements=["EMAP-A-09"], applies=OPT_CHANGE)
async def test_partial_opt_change_keeps_answer(link, trace, profile):
    """After an accepted opt change naming resources, later answers keep the optType given before."""
    await with_opt_change(link)
    event_id, given, event = await decided_event(link, trace, opt_change_allowed=True)
    resources = list(profile.pixit.get("resource_ids") or ()) or ["resource-1"]
    await link.act("create-opt", {"eventID": event_id, "modificationNumber": 0, "optType": OTHER[given],
                                  "optChange": True, "resourceIDs": resources[:1]})
    inbound = await link.next_request("emapCreateOpt", link.prompt)
    if inbound is None:
        raise fail("EMAP-A-04", "no emapCreateOpt within T_PROMPT of an allowed opt-change stimulus")
    if inbound.message.body["eiTarget"] == {}:
        raise Inconclusive("the IUT's opt change names no resource; this test needs a non-empty eiTarget")
    again = await link.deliver(link.distribute(event))
    judge_event(trace, again, "EMAP-A-09", event_id, "200", (given,))


@emap_test("TC-L-A-04", requirements=["EMAP-A-04"], applies=OPT_CHANGE)
async def test_no_opt_change_when_refused_at_registration(link, trace):
    """When the upper EMA did not accept opt change for the registration, the IUT sends no opt change."""
    await link.registered()
    peer = link.peer
    peer.accept_opt_change = False
    try:
        before = peer.registrations
        await link.act("create-registration", {"registrationID": peer.link.registration_id, "optChange": True})
        if not await peer.wait_for(lambda: peer.registrations > before, link.prompt + link.exchange_timeout):
            raise Inconclusive("precondition: the IUT did not re-register on the create-registration stimulus")
        await link.settled()
        if peer.link.opt_change:
            raise RuntimeError("the peer accepted opt change although told not to")
        event_id, given, _ = await decided_event(link, trace, opt_change_allowed=True)
        await link.try_act("create-opt", {"eventID": event_id, "modificationNumber": 0, "optType": OTHER[given],
                                          "optChange": True})
        await link.observe(link.prompt)
        if changing_opts(trace):
            raise fail("EMAP-A-04", "emapCreateOpt with emapOptChange true although the upper EMA answered "
                                    "emapOptChange false at registration")
    finally:
        peer.accept_opt_change = True
