"""Lower-EMA IUT, clause 6.3 Event: answers per Table 6.3-4, emapCreatedEvent content, request event, pull step two."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages.rules import created_event_rules
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import (
    LOWER,
    PULL,
    check_messages_valid,
    check_step_two,
    event_responses,
    expect_answer,
    fail,
    iut_requests,
)

#: (signalName, signalType, itemBase kind) of Table 6.3-2 a lower EMA may lack (EMAP-6.3.2 row 4 candidates).
OPTIONAL_SIGNALS = (("ENERGY_PRICE", "price", "currencyPerThm"), ("DEMAND_CHARGE", "price", "currencyPerKW"),
                    ("BID_PRICE", "price", "currency"), ("BID_LOAD", "setpoint", "powerReal"),
                    ("ELECTRICITY_PRICE", "price", "currencyPerKWh"))


def responses_by_event(message) -> dict[str, dict]:
    return {r["qualifiedEventID"]["eventID"]: r for r in event_responses(message)}


def judge_event(trace, sent, requirement: str, event_id: str, code: str, opt_types=("optIn", "optOut"),
                modification_number: int | None = None) -> dict:
    """The eventResponse for ``event_id`` in the IUT's emapCreatedEvent: ``code``, an allowed optType, the
    distribution's requestID and the qualifiedEventID as sent (EMAP-6.3.2-08)."""
    answer = expect_answer(trace, sent, requirement, name="emapCreatedEvent")
    response = responses_by_event(answer.message).get(event_id)
    if response is None:
        raise fail("EMAP-6.3.2-07", f"emapCreatedEvent has no eventResponse for the 'always' event {event_id!r}")
    if response["requestID"] != sent.request_id:
        raise fail("EMAP-6.3.2-08", f"eventResponse.requestID {response['requestID']!r} is not the "
                                    f"emapDistributeEvent's {sent.request_id!r}")
    if modification_number is not None and response["qualifiedEventID"]["modificationNumber"] \
            != modification_number:
        raise fail("EMAP-6.3.2-08", f"qualifiedEventID.modificationNumber "
                                    f"{response['qualifiedEventID']['modificationNumber']} is not the one "
                                    f"received ({modification_number})")
    if response["responseCode"] != code or response["optType"] not in opt_types:
        raise fail(requirement, f"event {event_id!r} answered {response['responseCode']}/{response['optType']}, "
                                f"expected {code}/{' or '.join(opt_types)} (Table 6.3-4)")
    return response


@emap_test("TC-L-6.3.2-01", requirements=["EMAP-6.3.2-07", "EMAP-6.3.2-08", "EMAP-6.3.4-01", "EMAP-6.1-01"],
           applies=LOWER)
async def test_one_event_response_per_always_event(link, trace):
    """One emapCreatedEvent with exactly one eventResponse per 'always' event and none for 'never' events."""
    await link.registered()
    always, never = link.event(), link.event(response_required="never")
    sent = await link.deliver(link.distribute(always, never))
    answer = expect_answer(trace, sent, "EMAP-6.3.2-07", name="emapCreatedEvent")
    ids = [r["qualifiedEventID"]["eventID"] for r in event_responses(answer.message)]
    always_id = always["eiEvent"]["eventDescriptor"]["eventID"]
    if ids != [always_id]:
        raise fail("EMAP-6.3.2-07", f"eventResponses name {ids}, expected exactly [{always_id!r}]")
    judge_event(trace, sent, "EMAP-6.3.2-08", always_id, "200", modification_number=0)
    for violation in created_event_rules(answer.message.body, next(iter(link.distribute(always).values()))):
        if violation.requirement_id != "EMAP-6.3.2-07":
            raise fail(violation.requirement_id, f"{violation.pointer}: {violation.text}")
    if answer.message.body["eiCreatedEvent"]["venID"] != link.ven_id:
        raise fail("EMAP-6.2.1-06", f"emapCreatedEvent carries venID "
                                    f"{answer.message.body['eiCreatedEvent']['venID']!r}")
    check_messages_valid(trace, "EMAP-6.3.4-01", "Event")


@emap_test("TC-L-6.3.2-02", requirements=["EMAP-6.3.2-07", "EMAP-6.1-01"], applies=LOWER)
async def test_never_only_answered_with_response(link, trace):
    """A distribution whose events are all 'never' is answered with emapResponse 200 echoing its requestID."""
    await link.registered()
    sent = await link.deliver(link.distribute(link.event(response_required="never")))
    answer = expect_answer(trace, sent, "EMAP-6.3.2-07", name="emapResponse")
    if answer.message.body.get("venID") != link.ven_id:
        raise fail("EMAP-6.3.2-07", f"emapResponse carries venID {answer.message.body.get('venID')!r}")


@emap_test("TC-L-6.3.2-03", requirements=["EMAP-6.3.2-06", "EMAP-6.1-08", "EMAP-6.1-09"], applies=LOWER)
async def test_wrong_vtn_id_rejected(link, trace):
    """A distribution with another vtnID gets 452 without eventResponses, and none of its events is processed."""
    await link.registered()
    event_id = link.peer.ids("ev")
    sent = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=5),
                                              vtn_id=link.peer.vtn_id + "-other"))
    answer = expect_answer(trace, sent, "EMAP-6.3.2-06", name="emapCreatedEvent", code="452")
    if event_responses(answer.message):
        raise fail("EMAP-6.3.2-06", "the 452 emapCreatedEvent carries eventResponses")
    if answer.message.body["eiCreatedEvent"].get("venID") != link.ven_id:
        raise fail("EMAP-6.1-09", "the 452 emapCreatedEvent does not carry the link's venID")
    probe = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=1)))
    judge_event(trace, probe, "EMAP-6.1-08", event_id, "200")


@emap_test("TC-L-6.3.2-04", requirements=["EMAP-6.3.2-08"], applies=LOWER)
async def test_lower_modification_number_454(link, trace):
    """An event whose modificationNumber is lower than one already received is answered 454 optOut."""
    await link.registered()
    event_id = link.peer.ids("ev")
    first = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=2)))
    judge_event(trace, first, "EMAP-6.3.2-08", event_id, "200")
    stale = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=1)))
    judge_event(trace, stale, "EMAP-6.3.2-08", event_id, "454", ("optOut",), modification_number=1)


@emap_test("TC-L-6.3.2-05", requirements=["EMAP-6.3.2-08"], applies=LOWER)
async def test_unsupported_signal_460(link, trace, profile):
    """An event with a signalName the IUT does not declare (ICS-7) is answered 460 optOut."""
    await link.registered()
    supported = set(profile.pics["signals"]) | {"SIMPLE"}
    candidates = [c for c in OPTIONAL_SIGNALS if c[0] not in supported]
    if not candidates:
        raise Inconclusive("the IUT declares every signalName this test can send (ICS-7)")
    name, signal_type, kind = candidates[0]
    signal = B.signal([("PT1H", 0.25)], name=name, signal_type=signal_type, item_base=B.item_base(kind))
    event = link.event(signals=[signal])
    sent = await link.deliver(link.distribute(event))
    judge_event(trace, sent, "EMAP-6.3.2-08", event["eiEvent"]["eventDescriptor"]["eventID"], "460", ("optOut",))


@emap_test("TC-L-6.3.2-06", requirements=["EMAP-6.3.2-08"], applies=LOWER)
async def test_not_addressed_462(link, trace, profile):
    """An event whose eiTarget does not address the IUT is answered 462 optOut."""
    await link.registered()
    declared = set(profile.pixit.get("resource_ids") or ())
    stranger = next(f"resource-not-declared-{n}" for n in range(100) if f"resource-not-declared-{n}" not in declared)
    event = link.event(target={"resourceID": [stranger]})
    sent = await link.deliver(link.distribute(event))
    judge_event(trace, sent, "EMAP-6.3.2-08", event["eiEvent"]["eventDescriptor"]["eventID"], "462", ("optOut",))


@emap_test("TC-L-6.3.2-07", requirements=["EMAP-6.3.2-08"], applies=LOWER)
async def test_cancelled_events(link, trace):
    """A cancelled unknown event gets 200 optIn; a cancelled known event gets 200 with the last optType given."""
    await link.registered()
    unknown = link.event(status="cancelled", modification_number=1)
    sent = await link.deliver(link.distribute(unknown))
    judge_event(trace, sent, "EMAP-6.3.2-08", unknown["eiEvent"]["eventDescriptor"]["eventID"], "200", ("optIn",))
    event_id = link.peer.ids("ev")
    first = await link.deliver(link.distribute(link.event(event_id=event_id)))
    given = judge_event(trace, first, "EMAP-6.3.2-08", event_id, "200")["optType"]
    cancel = await link.deliver(link.distribute(link.event(event_id=event_id, status="cancelled",
                                                           modification_number=1)))
    judge_event(trace, cancel, "EMAP-6.3.2-08", event_id, "200", (given,))


@emap_test("TC-L-6.3.2-08", requirements=["EMAP-6.3.2-09"], applies=LOWER)
async def test_repeated_event_same_opt_type(link, trace):
    """An event received again with the same modificationNumber gets the same optType as before."""
    await link.registered()
    event = link.event()
    event_id = event["eiEvent"]["eventDescriptor"]["eventID"]
    first = await link.deliver(link.distribute(event))
    given = judge_event(trace, first, "EMAP-6.3.2-09", event_id, "200")["optType"]
    again = await link.deliver(link.distribute(event))
    judge_event(trace, again, "EMAP-6.3.2-09", event_id, "200", (given,))


@emap_test("TC-L-6.3.2-09", requirements=["EMAP-6.3.2-10"], applies=LOWER)
async def test_unknown_modified_event_accepted(link, trace):
    """A previously unknown event with modificationNumber > 0 is accepted like a new event (200)."""
    await link.registered()
    event = link.event(modification_number=4)
    sent = await link.deliver(link.distribute(event))
    judge_event(trace, sent, "EMAP-6.3.2-10", event["eiEvent"]["eventDescriptor"]["eventID"], "200",
                modification_number=4)


@emap_test("TC-L-6.3.2-10", requirements=["EMAP-6.3.2-11"], applies=f"{LOWER} and market_contexts")
async def test_foreign_market_context_opt_out(link, trace, profile):
    """An event of a market context the IUT does not declare (ICS-6) is answered 200 optOut (advisory)."""
    await link.registered()
    declared = set(profile.pixit["market_contexts"])
    foreign = next(f"http://example.com/programs/foreign-{n}" for n in range(100)
                   if f"http://example.com/programs/foreign-{n}" not in declared)
    event = link.event(market_context=foreign)
    sent = await link.deliver(link.distribute(event))
    judge_event(trace, sent, "EMAP-6.3.2-11", event["eiEvent"]["eventDescriptor"]["eventID"], "200", ("optOut",))


@emap_test("TC-L-6.3.3-01", requirements=["EMAP-6.3.3-01", "EMAP-6.6-04", "EMAP-6.1-05"], applies=PULL)
async def test_pull_distribution_step_two(link, trace):
    """A distribution received as a poll reply is answered by a POST to EiEvent before the next poll."""
    await link.registered()
    sent = await link.deliver(link.distribute(link.event()))
    await link.next_poll()
    check_step_two(trace, sent, link.prompt)


@emap_test("TC-L-6.3.3-02", requirements=["EMAP-6.3.3-05", "EMAP-6.3.3-02", "EMAP-6.3.4-01"], applies=LOWER)
async def test_requested_distribution_answered(link, trace):
    """The IUT answers the 'always' events of a requested distribution with a prompt emapCreatedEvent.

    A reply to emapRequestEvent with only 'never' events is answered by nothing."""
    await link.registered()
    for required, expect in (("always", True), ("never", False)):
        link.peer.events.clear()
        event = link.event(response_required=required)
        link.peer.hold(event)
        await link.act("request-event", {})
        if await link.next_request("emapRequestEvent", link.prompt) is None:
            raise fail("EMAP-6.3.3-02", "no emapRequestEvent within T_PROMPT of the stimulus")
        request = iut_requests(trace, "emapRequestEvent")[-1]
        reply = request.response_message
        if reply is None or reply.name != "emapDistributeEvent":
            raise RuntimeError("the peer did not answer emapRequestEvent with emapDistributeEvent")
        follow = await link.next_request(("emapCreatedEvent", "emapResponse"), link.prompt)
        event_id = event["eiEvent"]["eventDescriptor"]["eventID"]
        if expect:
            if follow is None or follow.message.name != "emapCreatedEvent":
                raise fail("EMAP-6.3.3-05", "no emapCreatedEvent POSTed within T_PROMPT for the 'always' event of "
                                            "the emapDistributeEvent answering emapRequestEvent")
            posted = iut_requests(trace, "emapCreatedEvent")[-1]
            if not posted.path.endswith("/EiEvent"):
                raise fail("EMAP-6.3.3-05", f"emapCreatedEvent POSTed to {posted.path}, not EiEvent")
            created = posted.request_message.body["eiCreatedEvent"]
            if created["eiResponse"]["requestID"] != reply.body["requestID"]:
                raise fail("EMAP-6.1-02", "follow-up emapCreatedEvent does not echo the emapDistributeEvent's "
                                          "requestID")
            if [r["qualifiedEventID"]["eventID"] for r in created.get("eventResponses", {}).get("eventResponse",
                                                                                               [])] != [event_id]:
                raise fail("EMAP-6.3.2-07", "follow-up emapCreatedEvent does not answer exactly the 'always' event")
        elif follow is not None:
            raise fail("EMAP-6.3.3-05", f"the IUT POSTed {follow.message.name} after a requested distribution "
                                        "with only 'never' events")
    link.peer.events.clear()
    check_messages_valid(trace, "EMAP-6.3.4-01", "Event")
