"""Clause 6.6 Poll, upper-EMA IUT: the outbound queue, the eight poll replies, 451, no second delivery."""

from __future__ import annotations

import secrets

from conformance.messages import build as B
from conformance.messages import validate
from conformance.testcases.marker import emap_test
from conformance.testcases.upper_iut.support import (
    U_REPORTER,
    UPPER_ROLES,
    act,
    answer_of,
    describe,
    exchange_of,
    expect_answer,
    fail,
    let_iut_act,
    lower_status_request,
    poll_replies,
    telemetry_target,
)
from conformance.transport import codec
from conformance.verdict import Inconclusive


def _replies_after(trace, ven_id: str, t: float) -> list:
    return [(ex, m) for ex, m in poll_replies(trace, ven_id) if ex.request.t > t]


async def _delivered(peer, name: str):
    """Poll until ``name`` arrives. Whether U queued it in time is the business of the procedure's own tests:
    here a generous wait, and Inconclusive when it never comes."""
    message = await peer.receive(name, timeout=2 * peer.prompt, answer=False)
    if message is None:
        raise Inconclusive(f"no {name} was delivered within {2 * peer.prompt:.1f} s of the accepted stimulus")
    return message


@emap_test("TC-U-6.6-01", requirements=["EMAP-6.6-01", "EMAP-6.6-02"], applies=UPPER_ROLES)
async def test_queue_is_fifo_one_per_poll(lower, trace, stimulus):
    """Requests queued in the order R4 (registration), R3 (event), R2 (reregistration) are delivered one per poll
    in that order, then R0."""
    peer = await lower(pull=True, settle=False)
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
    await let_iut_act(peer, 2)  # twice the bound: the order must not depend on how late within T_PROMPT U queues
    await act(stimulus, "request-reregistration", {"venID": peer.ven_id})
    await let_iut_act(peer)
    start = trace.elapsed()
    await peer.drain(limit=6)
    got = [m.name for _, m in _replies_after(trace, peer.ven_id, start)]
    expected = ["emapRegisterReport", "emapDistributeEvent", "emapRequestReregistration", "emapResponse"]
    if got[:4] != expected:
        raise fail("EMAP-6.6-01", f"poll replies were {got}; queue order requires {expected}")


@emap_test("TC-U-6.6-02", requirements=["EMAP-6.6-02", "EMAP-6.1-02"], applies=UPPER_ROLES)
async def test_empty_queue_reply(lower, trace):
    """R0: with an empty queue a poll is answered emapResponse 200 with requestID "" and the poller's venID."""
    peer = await lower(pull=True)
    posted = await peer.poll()
    reply = expect_answer(trace, posted, "EMAP-6.6-02", name="emapResponse", code="200")
    if reply.request_id != "" or reply.body.get("venID") != peer.ven_id:
        raise fail("EMAP-6.6-02", f"R0 carries requestID {reply.request_id!r} and venID "
                                  f"{reply.body.get('venID')!r}; expected '' and {peer.ven_id!r}")


@emap_test("TC-U-6.6-03", requirements=["EMAP-6.6-02"], applies=UPPER_ROLES)
async def test_replies_r1_r2_r3(lower, trace, stimulus):
    """R1 (cancel registration), R2 (request reregistration) and R3 (distribute event) are each delivered as the
    single reply to a poll."""
    cases = (("request-reregistration", "emapRequestReregistration", {}),
             ("create-event", "emapDistributeEvent", {"eventID": None}),
             ("cancel-registration", "emapCancelPartyRegistration", {}))
    for action, name, extra in cases:
        peer = await lower(pull=True, name=name)
        args = {"venID": peer.ven_id, **{k: peer.ids("ev") for k in extra}}
        await act(stimulus, action, args)
        message = await _delivered(peer, name)
        await peer.step_two(message)


@emap_test("TC-U-6.6-04", requirements=["EMAP-6.6-02"], applies=UPPER_ROLES)
async def test_replies_r5_r7(lower, trace, stimulus):
    """R5 (report request) and R7 (report cancel) are each delivered as a poll reply."""
    peer = await lower(pull=True)
    if answer_of(trace, await peer.register_report(), "EMAP-6.6-02").response_code != "200":
        raise Inconclusive("precondition: the lower EMA's metadata was not accepted")
    await act(stimulus, "request-report", lower_status_request(peer))
    request = await _delivered(peer, "emapCreateReport")
    await peer.step_two(request)
    report_request_id = request.body["emapReportRequest"][0]["reportRequestID"]
    await act(stimulus, "cancel-report", {"venID": peer.ven_id, "reportRequestID": report_request_id})
    await peer.step_two(await _delivered(peer, "emapCancelReport"))


@emap_test("TC-U-6.6-07", requirements=["EMAP-6.6-02"], applies=U_REPORTER)
async def test_reply_r6(lower, trace):
    """R6 (a report from U, answering L's one-shot request) is delivered as a poll reply."""
    peer = await lower(pull=True)
    specifier, r_id, _ = telemetry_target(trace, peer.ven_id)
    posted = await peer.create_report([B.report_request(peer.ids("rq"), specifier, [r_id])])
    if answer_of(trace, posted, "EMAP-6.6-02").response_code != "200":
        raise Inconclusive(f"precondition: one-shot request on {specifier} was not accepted")
    await peer.step_two(await _delivered(peer, "emapUpdateReport"))


@emap_test("TC-U-6.6-05", requirements=["EMAP-6.6-03"], applies=UPPER_ROLES)
async def test_push_mode_poll_gets_451(lower, trace):
    """A poll from a lower EMA registered in push mode is answered emapResponse 451."""
    peer = await lower(pull=False)
    expect_answer(trace, await peer.poll(), "EMAP-6.6-03", name="emapResponse", code="451")


@emap_test("TC-U-6.6-06", requirements=["EMAP-6.6-12"], applies=UPPER_ROLES)
async def test_no_second_delivery(lower, trace, stimulus):
    """A delivered queue entry is never delivered again: a duplicate CON of its poll gets the identical answer,
    and the next poll does not return it."""
    peer = await lower(pull=True)
    await act(stimulus, "create-event", {"venID": peer.ven_id, "eventID": peer.ids("ev")})
    await let_iut_act(peer)
    datagram = peer.request_datagram("EmapPoll", B.poll(peer.ven_id), mid=secrets.randbelow(0x10000),
                                     token=secrets.token_bytes(4))
    first, second = await peer.send_raw([datagram, datagram])
    if first is None:
        raise fail("EMAP-6.6-12", "the crafted poll got no response")
    delivered = codec.decode(first).payload
    message = validate(delivered, posted=False)
    if message.name != "emapDistributeEvent":
        raise Inconclusive(f"the queued emapDistributeEvent was not the poll reply (got {message.name})")
    if second is None or codec.decode(second).payload != delivered:
        shown = "nothing" if second is None else codec.decode(second).summary()
        raise fail("EMAP-6.6-12", f"a duplicate CON of the delivering poll was answered with {shown}, not the "
                                  "identical response")
    await peer.step_two(message)
    posted = await peer.poll()
    reply = answer_of(trace, posted, "EMAP-6.6-12")
    if reply.name == message.name and (reply.request_id == message.request_id
                                       or _event_states(reply) == _event_states(message) != []):
        raise fail("EMAP-6.6-12", f"the delivered emapDistributeEvent {message.request_id!r} was delivered again: "
                                  f"{describe(exchange_of(trace, posted))}")


def _event_states(message) -> list[tuple]:
    """The (eventID, modificationNumber, eventStatus) of each event of an emapDistributeEvent: a second
    distribution with the same states (under any requestID) carries nothing new, so it is the delivered entry
    again (EMAP-6.6-12)."""
    return [(d["eventID"], d["modificationNumber"], d["eventStatus"])
            for d in (e["eiEvent"]["eventDescriptor"] for e in message.body.get("emapEvent", []))]
