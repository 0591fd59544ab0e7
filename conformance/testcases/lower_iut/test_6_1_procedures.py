"""Lower-EMA IUT, clause 6.1 two-step procedures: response type and echo for every U-initiated request, carriage
(push: in the 2.04; pull: step two), fresh requestIDs, response codes and reasons."""

from __future__ import annotations

from collections import defaultdict

import pytest

from conformance.messages import build as B
from conformance.messages.rules import check
from conformance.testcases.marker import emap_test

from .support import (
    LOWER,
    LOWER_REQUESTS,
    LOWER_RESPONSES,
    check_response_codes,
    check_step_two,
    code_of,
    echo_of,
    expect_answer,
    fail,
    is_response_type,
    iut_requests,
    sent_by_iut,
)

#: U-initiated requests (Table 6.6-1 R1-R7) with the answer a conformant lower EMA gives: (message, code).
REQUESTS = {
    "R2-reregistration": ("emapResponse", "200"),
    "R3-distribute-event": ("emapCreatedEvent", "200"),
    "R4-register-report": ("emapRegisteredReport", "200"),
    "R5-create-report": ("emapCreatedReport", "200"),
    "R6-update-report": ("emapUpdatedReport", "452"),
    "R7-cancel-report": ("emapCanceledReport", "452"),
    "R1-cancel-registration": ("emapCanceledPartyRegistration", "200"),
}


def request_of(link, case: str) -> dict:
    peer, ven_id = link.peer, link.ven_id
    if case == "R1-cancel-registration":
        return B.cancel_party_registration(peer.ids("cp"), peer.link.registration_id, ven_id)
    if case == "R2-reregistration":
        return B.request_reregistration(ven_id)
    if case == "R3-distribute-event":
        return link.distribute(link.event())
    if case == "R4-register-report":
        return B.register_report(peer.ids("rr"), ven_id)
    if case == "R5-create-report":
        status = next(r for r in peer.lower_metadata if r["reportName"] == "METADATA_TELEMETRY_STATUS")
        return B.create_report(peer.ids("cr"), ven_id, [B.report_request(
            peer.ids("rq"), status["reportSpecifierID"], [status["emapReportDescription"][0]["rID"]])])
    if case == "R6-update-report":
        interval = B.data_interval("2024-05-01T10:00:00Z", "PT0S", [B.report_payload("peer-x", value=1.0)])
        return B.update_report(peer.ids("ur"), ven_id, [B.data_report(peer.ids("rq"), "rs-peer", "TELEMETRY_USAGE",
                                                                       [interval])])
    return B.cancel_report(peer.ids("xr"), ven_id, [peer.ids("rq")])


@pytest.mark.parametrize("case", list(REQUESTS))
@emap_test("TC-L-6.1-01", requirements=["EMAP-6.1-01", "EMAP-6.1-02", "EMAP-6.1-04", "EMAP-6.1-05", "EMAP-6.1-09"],
           applies=LOWER)
async def test_response_to_each_request(link, trace, case):
    """Each U-initiated request gets its Table 6.1-1 response message echoing its requestID.

    Push: in the 2.04 response. Pull: as a step two POSTed to U's resource of the service before the next poll."""
    await link.registered()
    name, code = REQUESTS[case]
    ven_id = link.ven_id
    sent = await link.deliver(request_of(link, case))
    if sent.pull:
        await link.next_poll()
        check_step_two(trace, sent, link.prompt)
    answer = expect_answer(trace, sent, "EMAP-6.1-01", name=name, code=code)
    for violation in check(answer.message, sender="L"):
        raise fail(violation.requirement_id, f"{answer.message.name}: {violation.pointer}: {violation.text}")
    body = answer.message.body.get("eiCreatedEvent", answer.message.body)
    if body.get("venID", ven_id) != ven_id:
        raise fail("EMAP-6.2.1-06", f"{answer.message.name} carries venID {body.get('venID')!r}, the link's is "
                                    f"{ven_id!r}")


@emap_test("TC-L-6.1-02", requirements=["EMAP-6.1-03"], applies=LOWER)
async def test_fresh_request_ids(link, trace):
    """Every request message the IUT sends carries a requestID it has not used before (re-sends excepted)."""
    await link.registered()
    await link.reregister()
    await link.settled()
    await link.act("query-registration", {})
    await link.next_request("emapQueryRegistration", link.prompt)
    await link.act("request-event", {})
    await link.next_request("emapRequestEvent", link.prompt)
    seen: dict[str, set[bytes]] = defaultdict(set)
    for exchange in iut_requests(trace):
        message = exchange.request_message
        if message is None or is_response_type(message.name) or not message.request_id:
            continue
        seen[message.request_id].add(exchange.request_payload)
    reused = {rid: len(payloads) for rid, payloads in seen.items() if len(payloads) > 1}
    if reused:
        raise fail("EMAP-6.1-03", f"requestID(s) used by different request messages: {sorted(reused)}")


async def provoke_errors(link, trace) -> None:
    """Deliver requests a conformant lower EMA rejects: wrong vtnID (452), unknown cancel (452), stale event (454)."""
    await link.registered()
    await link.deliver(link.distribute(link.event(), vtn_id=link.peer.vtn_id + "-other"))
    await link.deliver(B.cancel_report(link.peer.ids("xr"), link.ven_id, [link.peer.ids("rq")]))
    event_id = link.peer.ids("ev")
    await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=1)))
    await link.deliver(link.distribute(link.event(event_id=event_id, modification_number=0)))


@emap_test("TC-L-6.1-03", requirements=["EMAP-6.1-10"], applies=LOWER)
async def test_only_listed_response_codes(link, trace):
    """Every responseCode the IUT sends, also in errors and eventResponses, is one of Table 6.1-3."""
    await provoke_errors(link, trace)
    check_response_codes(trace)


@emap_test("TC-L-6.1-04", requirements=["EMAP-6.1-11"], applies=LOWER)
async def test_reason_with_error_codes(link, trace):
    """Every response with a responseCode other than 200 gives a responseDescription (advisory)."""
    await provoke_errors(link, trace)
    for _, message in sent_by_iut(trace):
        if not is_response_type(message.name) or code_of(message) in (None, "200"):
            continue
        body = message.body.get("eiCreatedEvent", message.body)
        if not body["eiResponse"].get("responseDescription"):
            raise fail("EMAP-6.1-11", f"{message.name} with responseCode {code_of(message)} has no "
                                      "responseDescription")


@emap_test("TC-L-6.1-05", requirements=["EMAP-6.1-12", "EMAP-5-01"], applies=LOWER)
async def test_responses_only_to_requests(link, trace):
    """The IUT sends only Table 5-2 lower-EMA messages, and response-type messages only to answer requests."""
    await link.registered()
    await link.reregister()
    await link.settled()
    await link.deliver(link.distribute(link.event()))
    await link.deliver(B.register_report(link.peer.ids("rr"), link.ven_id))
    delivered = link.peer.sent_request_ids  # this test's requests and those of earlier tests, whose answers
    for exchange in trace.exchanges():      # may cross into this trace
        sent = exchange.request_message if exchange.direction == "from-iut" else exchange.response_message
        if sent is None:
            continue
        as_request = exchange.direction == "from-iut"
        allowed = LOWER_REQUESTS | LOWER_RESPONSES if as_request else LOWER_RESPONSES
        if sent.name not in allowed:
            raise fail("EMAP-5-01", f"a lower EMA sent {sent.name} "
                                    f"{'as a request' if as_request else 'as a response'}")
        if as_request and is_response_type(sent.name) and echo_of(sent) not in delivered:
            raise fail("EMAP-6.1-12", f"the IUT POSTed {sent.name} echoing {echo_of(sent)!r}, which answers no "
                                      "request it received")
