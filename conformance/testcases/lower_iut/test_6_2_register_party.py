"""Lower-EMA IUT, clause 6.2 RegisterParty: registration content, bootstrap, cancel, reregistration, Table 6.2-2."""

from __future__ import annotations

from conformance.messages import build as B
from conformance.messages.rules import base_uri_problem, registration_rules
from conformance.peer.upper import DEFAULT
from conformance.testcases.marker import emap_test
from conformance.verdict import Inconclusive

from .support import (
    LOWER,
    PUSH,
    check_messages_valid,
    code_of,
    describe,
    event_responses,
    expect_answer,
    fail,
    iut_requests,
    next_poll_after,
    polls,
)

ALLOWED_AFTER_END = ("emapQueryRegistration", "emapCreatePartyRegistration")


def latest_create(trace, requirement: str):
    """The IUT's latest emapCreatePartyRegistration exchange in the trace; Fail if there is none."""
    found = iut_requests(trace, "emapCreatePartyRegistration")
    if not found:
        raise fail(requirement, "the IUT sent no emapCreatePartyRegistration")
    return found[-1]


@emap_test("TC-L-6.2.3-01", requirements=["EMAP-6.2.3-01", "EMAP-5-03", "EMAP-6.2.6-01"], applies=LOWER)
async def test_create_registration_members(link, trace, profile):
    """The IUT's emapCreatePartyRegistration carries every mandatory member, in a mode it declares."""
    await link.peer.wait_for(lambda: link.peer.registered, link.prompt)
    args = {"registrationID": link.peer.link.registration_id} if link.peer.registered else {}
    await link.act("create-registration", args)
    if await link.next_request("emapCreatePartyRegistration", link.prompt) is None:
        raise fail("EMAP-6.2.3-01", "no emapCreatePartyRegistration within T_PROMPT of the stimulus")
    body = latest_create(trace, "EMAP-6.2.3-01").request_message.body
    for violation in registration_rules(body):  # receiver-side ids (6.2.3-02, 8-10) are L's duty 6.2.3-01 here
        raise fail("EMAP-6.2.3-01", f"{violation.pointer}: {violation.text}")
    mode = "pull" if body["emapPullModel"] else "push"
    if mode not in profile.pics["lower_modes"]:
        raise fail("EMAP-5-03", f"registered in {mode} mode, which ICS-2 does not declare")
    if mode != profile.mode:
        raise fail("EMAP-5-03", f"registered in {mode} mode; the IUT is configured for {profile.mode} mode")
    if mode == "push" and (problem := base_uri_problem(body.get("emapTransportAddress", ""))):
        raise fail("EMAP-6.2.3-01", f"emapTransportAddress {body.get('emapTransportAddress')!r}: {problem}")
    check_messages_valid(trace, "EMAP-6.2.6-01", "RegisterParty")


@emap_test("TC-L-6.2.3-02", requirements=["EMAP-6.2.3-12", "EMAP-6.6-09"], applies=LOWER)
async def test_bootstrap_after_registration(link, trace, profile):
    """After a successful create registration the IUT registers its metadata, then requests events (then polls)."""
    await link.registered()
    await link.reregister()
    await link.settled()
    await link.observe(link.poll_period if link.pull else 0)
    create = latest_create(trace, "EMAP-6.2.3-12")
    registered_at = max(r.t for r in create.records)
    reports = [ex for ex in iut_requests(trace, "emapRegisterReport") if ex.request.seq > create.request.seq]
    if not reports:
        raise fail("EMAP-6.2.3-12", "no emapRegisterReport after the successful create registration")
    report = reports[0]
    if report.request.t - registered_at > link.prompt:
        raise fail("EMAP-6.2.3-12", f"emapRegisterReport sent {report.request.t - registered_at:.2f} s after "
                                    f"emapCreatedPartyRegistration (bound {link.prompt:g} s)")
    if report.request_message.body.get("reportRequestID") is not None:
        raise fail("EMAP-6.2.3-12", "the post-registration emapRegisterReport answers no METADATA request but "
                                    "carries reportRequestID")
    events = [ex for ex in iut_requests(trace, "emapRequestEvent") if ex.request.seq > report.request.seq]
    if not events:
        raise fail("EMAP-6.2.3-12", "no emapRequestEvent after the post-registration emapRegisterReport")
    if events[0].request.seq < max(r.seq for r in report.records):
        raise fail("EMAP-6.2.3-12", "emapRequestEvent sent before the emapRegisterReport exchange had ended")
    delay = events[0].request.t - max(r.t for r in report.records)
    if delay > link.prompt:
        raise fail("EMAP-6.2.3-12", f"emapRequestEvent sent {delay:.2f} s after the emapRegisterReport exchange "
                                    f"ended (bound {link.prompt:g} s)")
    if link.pull:
        last = events[0] if events[0].response is not None else report
        first_poll = next_poll_after(trace, max(r.seq for r in last.records))
        if first_poll is None or first_poll.request.t - max(r.t for r in last.records) > link.prompt:
            raise fail("EMAP-6.6-09", "no emapPoll within T_PROMPT of completing the post-registration exchanges")


@emap_test("TC-L-6.2.1-01", requirements=["EMAP-6.2.1-04", "EMAP-6.2.1-06"], applies=LOWER)
async def test_registration_effects_on_event_records(link, trace):
    """A re-registration keeps the IUT's event records (stale modificationNumber -> 454); a new one discards them."""
    await link.registered()
    event_id = link.peer.ids("ev")
    await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=3)))
    await link.reregister()
    await link.settled()
    kept = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=1)))
    answer = expect_answer(trace, kept, "EMAP-6.2.1-04", name="emapCreatedEvent")
    codes = [r["responseCode"] for r in event_responses(answer.message)]
    if codes != ["454"]:
        raise fail("EMAP-6.2.1-04", f"after a re-registration (records kept) an older modificationNumber got "
                                    f"{codes}, expected ['454'] (Table 6.3-4 row 3)")
    old_registration = link.peer.link.registration_id
    before = link.peer.registrations
    await link.act("create-registration", {})
    if not await link.peer.wait_for(lambda: link.peer.registrations > before, link.prompt + link.exchange_timeout):
        raise fail("EMAP-6.2.1-04", "the IUT did not send a create registration on the stimulus")
    create = latest_create(trace, "EMAP-6.2.1-04").request_message.body
    if create.get("registrationID") is not None:
        return  # the IUT re-registered instead of registering anew: nothing more to check here
    await link.settled()
    fresh = await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=2)))
    answer = expect_answer(trace, fresh, "EMAP-6.2.1-04", name="emapCreatedEvent")
    codes = [r["responseCode"] for r in event_responses(answer.message)]
    if codes != ["200"]:
        raise fail("EMAP-6.2.1-04", f"after a new registration (records discarded) the event got {codes}, "
                                    "expected ['200']")
    for _, message in trace.messages(direction="from-iut"):
        body = message.body.get("eiCreatedEvent", message.body)
        if message.name != "emapCreatePartyRegistration" and body.get("venID") not in (None, link.ven_id):
            raise fail("EMAP-6.2.1-06", f"{message.name} carries venID {body.get('venID')!r}, "
                                        f"the registration's is {link.ven_id!r}")
    if link.peer.link.registration_id == old_registration:
        raise RuntimeError("the peer kept the registrationID of a new registration")


@emap_test("TC-L-6.2.2-01", requirements=["EMAP-6.2.2-02", "EMAP-6.2.2-01", "EMAP-6.2.6-01"], applies=LOWER)
async def test_query_carries_ven_id(link, trace):
    """A registered IUT's emapQueryRegistration carries its venID."""
    await link.registered()
    await link.act("query-registration", {})
    if await link.next_request("emapQueryRegistration", link.prompt) is None:
        raise fail("EMAP-6.2.2-01", "no emapQueryRegistration within T_PROMPT of the stimulus")
    body = iut_requests(trace, "emapQueryRegistration")[-1].request_message.body
    if body.get("venID") != link.ven_id:
        raise fail("EMAP-6.2.2-02", f"emapQueryRegistration carries venID {body.get('venID')!r}, "
                                    f"the IUT is registered as {link.ven_id!r}")
    check_messages_valid(trace, "EMAP-6.2.6-01", "RegisterParty")


def check_silent_after(trace, seq: int, requirement: str) -> None:
    """After datagram ``seq`` the IUT sent only queries and create registrations (EMAP-6.2.4-06)."""
    for exchange in iut_requests(trace):
        message = exchange.request_message
        if exchange.request.seq > seq and (message is None or message.name not in ALLOWED_AFTER_END):
            shown = message.name if message is not None else "a non-EMAP payload"
            raise fail(requirement, f"after its registration ended the IUT sent {shown} to {exchange.path}")


@emap_test("TC-L-6.2.4-01", requirements=["EMAP-6.2.4-02", "EMAP-6.2.4-05", "EMAP-6.2.4-06", "EMAP-6.2.4-01"],
           applies=LOWER)
async def test_lower_initiated_cancel(link, trace):
    """The IUT cancels with the link's IDs, and after the 200 sends only queries and create registrations."""
    await link.registered()
    registration_id, ven_id = link.peer.link.registration_id, link.ven_id
    await link.act("cancel-registration", {})
    if await link.next_request("emapCancelPartyRegistration", link.prompt) is None:
        raise fail("EMAP-6.2.4-01", "no emapCancelPartyRegistration within T_PROMPT of the stimulus")
    cancel = iut_requests(trace, "emapCancelPartyRegistration")[-1]
    body = cancel.request_message.body
    if (body["registrationID"], body["venID"]) != (registration_id, ven_id):
        raise fail("EMAP-6.2.4-02", f"cancel carries registrationID/venID {body['registrationID']!r}/"
                                    f"{body['venID']!r}, the link's are {registration_id!r}/{ven_id!r}")
    await link.observe(link.poll_period + link.prompt)
    check_silent_after(trace, max(r.seq for r in cancel.records), "EMAP-6.2.4-05")
    check_messages_valid(trace, "EMAP-6.2.6-01", "RegisterParty")


@emap_test("TC-L-6.2.4-02", requirements=["EMAP-6.2.4-04", "EMAP-6.2.4-06", "EMAP-6.2.1-04"], applies=LOWER)
async def test_upper_initiated_cancel(link, trace):
    """The IUT answers the peer's valid cancel with 200 echoing the IDs, then stops polling and reporting."""
    await link.registered()
    registration_id, ven_id = link.peer.link.registration_id, link.ven_id
    sent = await link.deliver(B.cancel_party_registration(link.peer.ids("cp"), registration_id, ven_id))
    answer = expect_answer(trace, sent, "EMAP-6.2.4-04", name="emapCanceledPartyRegistration")
    body = answer.message.body
    if (body.get("registrationID"), body.get("venID")) != (registration_id, ven_id):
        raise fail("EMAP-6.2.4-04", f"emapCanceledPartyRegistration echoes {body.get('registrationID')!r}/"
                                    f"{body.get('venID')!r}, the cancel carried {registration_id!r}/{ven_id!r}")
    await link.observe(link.poll_period + link.prompt)
    end = max(r.seq for r in answer.exchange.records)
    check_silent_after(trace, end, "EMAP-6.2.4-06")


@emap_test("TC-L-6.2.4-03", requirements=["EMAP-6.2.4-03"], applies=LOWER)
async def test_cancel_with_wrong_ids(link, trace):
    """The IUT answers a cancel naming another registrationID with 452, and the registration continues."""
    await link.registered()
    wrong = link.peer.link.registration_id + "-other"
    sent = await link.deliver(B.cancel_party_registration(link.peer.ids("cp"), wrong, link.ven_id))
    expect_answer(trace, sent, "EMAP-6.2.4-03", name="emapCanceledPartyRegistration", code="452")
    event = link.event()
    probe = await link.deliver(link.distribute(event))
    expect_answer(trace, probe, "EMAP-6.2.4-03", name="emapCreatedEvent", code="200")


@emap_test("TC-L-6.2.5-01", requirements=["EMAP-6.2.5-02", "EMAP-6.2.5-03", "EMAP-6.6-04"], applies=LOWER)
async def test_reregistration_on_request(link, trace):
    """The IUT acknowledges emapRequestReregistration (200, requestID "") and re-registers within T_PROMPT."""
    await link.registered()
    registration_id, ven_id = link.peer.link.registration_id, link.ven_id
    before = link.peer.registrations
    sent = await link.deliver(B.request_reregistration(ven_id))
    await link.peer.wait_for(lambda: link.peer.registrations > before, link.prompt + link.exchange_timeout)
    await link.observe(link.poll_period if link.pull else 0)
    answer = expect_answer(trace, sent, "EMAP-6.2.5-02", name="emapResponse", echo="")
    if answer.message.body.get("venID") != ven_id:
        raise fail("EMAP-6.2.5-02", f"emapResponse carries venID {answer.message.body.get('venID')!r}")
    answered_at = max(r.t for r in answer.exchange.records)
    creates = [ex for ex in iut_requests(trace, "emapCreatePartyRegistration")
               if ex.request.seq > answer.exchange.request.seq]
    if not creates:
        raise fail("EMAP-6.2.5-03", "no emapCreatePartyRegistration after the 200 answer")
    create = creates[0]
    if create.request.t - answered_at > link.prompt:
        raise fail("EMAP-6.2.5-03", f"emapCreatePartyRegistration sent {create.request.t - answered_at:.2f} s "
                                    f"after the answer (bound {link.prompt:g} s)")
    body = create.request_message.body
    if (body.get("registrationID"), body.get("venID")) != (registration_id, ven_id):
        raise fail("EMAP-6.2.5-03", f"re-registration carries registrationID/venID {body.get('registrationID')!r}"
                                    f"/{body.get('venID')!r}, current are {registration_id!r}/{ven_id!r}")
    if link.pull:
        follow = next_poll_after(trace, answer.delivered.request.seq)
        if follow is not None and follow.request.seq < max(r.seq for r in create.records):
            raise fail("EMAP-6.2.5-03", "emapPoll sent before the re-registration exchange had ended")


@emap_test("TC-L-6.2.5-02", requirements=["EMAP-6.2.5-02"], applies=LOWER)
async def test_reregistration_foreign_ven_id(link, trace):
    """The IUT answers emapRequestReregistration naming another venID with 452 and does not re-register."""
    await link.registered()
    sent = await link.deliver(B.request_reregistration(link.ven_id + "-other"))
    await link.observe(link.prompt)
    answer = expect_answer(trace, sent, "EMAP-6.2.5-02", name="emapResponse", code="452", echo="")
    creates = [ex for ex in iut_requests(trace, "emapCreatePartyRegistration")
               if ex.request.seq > answer.exchange.request.seq]
    if creates:
        raise fail("EMAP-6.2.5-02", "the IUT re-registered after answering 452")


@emap_test("TC-L-6.2.1-02", requirements=["EMAP-6.2.1-03", "EMAP-6.1-08"], applies=PUSH)
async def test_unregistered_push_lower_answers_463(link, trace):
    """A push-mode IUT without registration answers the peer's requests with their response message and 463.

    463 (step 2 of Table 6.1-4) comes before 452 for a wrong vtnID (step 4)."""
    await link.registered()
    ven_id = link.ven_id
    sent = await link.deliver(B.cancel_party_registration(link.peer.ids("cp"), link.peer.link.registration_id,
                                                          ven_id))
    expect_answer(trace, sent, "EMAP-6.2.1-03", name="emapCanceledPartyRegistration")
    event = B.event(link.peer.ids("ev"), target={"venID": [ven_id]})
    for message, name in ((link.peer.distribute([event]), "emapCreatedEvent"),
                          (link.peer.distribute([event], vtn_id=link.peer.vtn_id + "-other"), "emapCreatedEvent"),
                          (B.register_report(link.peer.ids("rr"), ven_id), "emapRegisteredReport"),
                          (B.request_reregistration(ven_id), "emapResponse")):
        probe = await link.deliver(message)
        expect_answer(trace, probe, "EMAP-6.2.1-03", name=name, code="463",
                      echo="" if name == "emapResponse" else None)
    polled = polls(trace)
    if polled:
        raise fail("EMAP-6.6-10", f"a push-mode IUT sent emapPoll: {polled[0].path}")


@emap_test("TC-L-6.2.3-03", requirements=["EMAP-6.2.3-13", "EMAP-6.2.1-03"], applies=PUSH)
async def test_requests_held_during_create(link, trace):
    """A request arriving during the IUT's create registration is held, then processed (not answered 463).

    It is answered within T_PROMPT after the create exchange ends."""
    await link.registered()
    peer = link.peer
    sent = await link.deliver(B.cancel_party_registration(peer.ids("cp"), peer.link.registration_id, link.ven_id))
    expect_answer(trace, sent, "EMAP-6.2.1-03", name="emapCanceledPartyRegistration")
    hold = link.timing.ack_timeout_s
    pushed: list = []

    async def hold_create(resource, message):
        if message.name == "emapCreatePartyRegistration" and not pushed and not message.body["emapPullModel"]:
            await peer.aim(message.body["emapTransportAddress"])
            event = B.event(peer.ids("ev"), target={})
            envelope = peer.distribute([event])
            pushed.append(envelope)
            peer.spawn(peer.send(envelope, pull=False, timeout=2 * link.exchange_timeout + link.prompt))
            await link.observe(hold)
        return DEFAULT

    peer.responder = hold_create
    await link.act("create-registration", {})
    await peer.wait_for(lambda: peer.registered, link.prompt + link.exchange_timeout)
    await peer.wait_for(lambda: not peer.busy, 2 * link.exchange_timeout + link.prompt)
    peer.responder = None
    if not pushed:
        raise Inconclusive("precondition: the IUT did not register in push mode on the stimulus")
    create = latest_create(trace, "EMAP-6.2.3-13")
    held = next((ex for ex in trace.exchanges() if ex.direction == "to-iut"
                 and ex.request_message is not None and ex.request_message.name == "emapDistributeEvent"), None)
    if held is None or held.response_message is None:
        raise fail("EMAP-6.2.3-13", f"the request sent during the create exchange got no answer; "
                                    f"wire: {describe(held)}")
    if held.response_message.name != "emapCreatedEvent" or code_of(held.response_message) != "200":
        raise fail("EMAP-6.2.3-13", f"the held request was not processed after the registration; "
                                    f"wire: {describe(held)}")
    created_end = max(r.t for r in create.records)
    answered = held.response.t
    if answered > created_end + link.prompt:
        raise fail("EMAP-6.2.3-13", f"the held request was answered {answered - created_end:.2f} s after the "
                                    f"create exchange ended (bound {link.prompt:g} s)")
