"""Lower-EMA IUT, clause 6.5 Opt: opts created and cancelled on stimulus, each in exactly one form."""

from __future__ import annotations

from conformance.messages.timefmt import format_datetime, utc_now
from conformance.testcases.marker import emap_test

from .support import LOWER, check_messages_valid, fail, iut_requests
from .test_6_3_event import judge_event


def check_one_form(body: dict) -> None:
    """EMAP-6.5.2-02: schedule form (vavailability, no qualifiedEventID) or event form (qualifiedEventID, no
    vavailability, no marketContext)."""
    schedule, event = "vavailability" in body, "qualifiedEventID" in body
    if schedule == event:
        raise fail("EMAP-6.5.2-02", "emapCreateOpt has both or neither of vavailability and qualifiedEventID")
    if event and "marketContext" in body:
        raise fail("EMAP-6.5.2-02", "an event-form emapCreateOpt carries marketContext")


async def created_opt(link, trace, args: dict) -> dict:
    """Stimulate create-opt and return the body of the emapCreateOpt the IUT sent (Fail if none)."""
    await link.act("create-opt", args)
    if await link.next_request("emapCreateOpt", link.prompt) is None:
        raise fail("EMAP-6.5.2-01", "no emapCreateOpt within T_PROMPT of the create-opt stimulus")
    return iut_requests(trace, "emapCreateOpt")[-1].request_message.body


@emap_test("TC-L-6.5.2-01", requirements=["EMAP-6.5.2-02", "EMAP-6.5.2-01", "EMAP-6.5.4-01"], applies=LOWER)
async def test_schedule_form_opt(link, trace):
    """An opt with availability windows is sent in schedule form with the link's venID."""
    await link.registered()
    start = format_datetime(utc_now())
    body = await created_opt(link, trace, {"optType": "optOut", "availability": [{"dtstart": start,
                                                                                  "duration": "PT1H"}]})
    check_one_form(body)
    if "vavailability" not in body:
        raise fail("EMAP-6.5.2-02", "an opt asked for with availability windows is not in schedule form")
    if body["venID"] != link.ven_id:
        raise fail("EMAP-6.2.1-06", f"emapCreateOpt carries venID {body['venID']!r}")
    check_messages_valid(trace, "EMAP-6.5.4-01", "Opt")


@emap_test("TC-L-6.5.2-02", requirements=["EMAP-6.5.2-02", "EMAP-6.5.4-01"], applies=LOWER)
async def test_event_form_opt(link, trace):
    """An opt on an event is sent in event form: qualifiedEventID as received, no vavailability or marketContext."""
    await link.registered()
    event = link.event(modification_number=2)
    event_id = event["eiEvent"]["eventDescriptor"]["eventID"]
    sent = await link.deliver(link.distribute(event))
    judge_event(trace, sent, "EMAP-6.3.2-08", event_id, "200")
    body = await created_opt(link, trace, {"optType": "optOut", "eventID": event_id, "modificationNumber": 2})
    check_one_form(body)
    if body.get("qualifiedEventID") != {"eventID": event_id, "modificationNumber": 2}:
        raise fail("EMAP-6.5.2-02", f"event-form opt names {body.get('qualifiedEventID')}, expected {event_id!r}/2")
    check_messages_valid(trace, "EMAP-6.5.4-01", "Opt")


@emap_test("TC-L-6.5.2-03", requirements=["EMAP-6.5.2-02"], applies=LOWER)
async def test_opt_never_in_both_forms(link, trace):
    """Asked for an opt with both an event and windows, the IUT refuses or sends an opt of one form only."""
    await link.registered()
    start = format_datetime(utc_now())
    await link.try_act("create-opt", {"optType": "optOut", "eventID": link.peer.ids("ev"),
                                      "availability": [{"dtstart": start, "duration": "PT1H"}]})
    await link.observe(link.prompt)
    for exchange in iut_requests(trace, "emapCreateOpt"):
        check_one_form(exchange.request_message.body)


@emap_test("TC-L-6.5.3-01", requirements=["EMAP-6.5.4-01", "EMAP-6.5.2-01"], applies=LOWER)
async def test_cancel_opt(link, trace):
    """The IUT cancels an opt it created with emapCancelOpt naming that optID and its venID."""
    await link.registered()
    opt_id = link.peer.ids("opt")
    start = format_datetime(utc_now())
    await created_opt(link, trace, {"optType": "optIn", "optID": opt_id,
                                    "availability": [{"dtstart": start, "duration": "PT1H"}]})
    await link.act("cancel-opt", {"optID": opt_id})
    inbound = await link.next_request("emapCancelOpt", link.prompt)
    if inbound is None:
        raise fail("EMAP-6.5.2-01", "no emapCancelOpt within T_PROMPT of the cancel-opt stimulus")
    body = inbound.message.body
    if (body["optID"], body["venID"]) != (opt_id, link.ven_id):
        raise fail("EMAP-6.5.4-01", f"emapCancelOpt names optID/venID {body['optID']!r}/{body['venID']!r}")
    check_messages_valid(trace, "EMAP-6.5.4-01", "Opt")
