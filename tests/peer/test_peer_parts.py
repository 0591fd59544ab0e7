"""Parts of the reference peer: IDs, inbox, conformant answers, raw duplicates through the tap, answered()."""

from __future__ import annotations

import asyncio

import pytest

from conformance.messages import SERVICE_RESOURCE, encode, validate
from conformance.messages import build as B
from conformance.peer import IdSource, LowerPeer
from conformance.peer.base import Inbound, Inbox
from conformance.profiles.model import Timing
from conformance.transport import CoapClient, CoapReply, CoapServer, Trace, TransmissionParams, codec

TIMING = Timing(t_prompt_s=1.0, ack_timeout_s=0.2, ack_random_factor=1.5, max_retransmit=1, tolerance_s=0.5)


def test_ids_are_unique_and_tagged():
    one, two = IdSource(), IdSource()
    ids = {one("r") for _ in range(50)} | {two("r") for _ in range(50)}
    assert len(ids) == 100 and all(i.startswith("r-") for i in ids)
    assert IdSource("abc")("ev") == "ev-abc-1"


async def test_inbox_take_waits_and_times_out():
    inbox = Inbox()
    item = Inbound("EiEvent", validate(B.poll("v")), None, "remote", 0.0)
    assert await inbox.take(lambda i: True, timeout=0.05) is None
    asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(inbox.put(item)))
    assert await inbox.take(lambda i: True, timeout=1.0) is item
    assert await inbox.take(lambda i: True, timeout=0.01) is None  # taken once only


def _peer() -> LowerPeer:
    peer = LowerPeer(trace=Trace("parts"), timing=TIMING, iut_uri="coap://127.0.0.1:9/emap")
    peer.ven_id, peer.registration_id = "ven-1", "reg-1"
    return peer


@pytest.mark.parametrize("request_envelope, answer_name, resource", [
    (B.cancel_party_registration("x-1", "reg-1", "ven-1"), "emapCanceledPartyRegistration", "EiRegisterParty"),
    (B.request_reregistration("ven-1"), "emapResponse", "EiRegisterParty"),
    (B.distribute_event("d-1", "vtn", [B.event("ev-1")]), "emapCreatedEvent", "EiEvent"),
    (B.distribute_event("d-2", "vtn", [B.event("ev-1", response_required="never")]), "emapResponse", "EiEvent"),
    (B.register_report("rr-1", "ven-1"), "emapRegisteredReport", "EiReport"),
    (B.create_report("cr-1", "ven-1", [B.report_request("rq-1", "METADATA")]), "emapCreatedReport", "EiReport"),
    (B.cancel_report("xr-1", "ven-1", ["rq-1"]), "emapCanceledReport", "EiReport"),
])
def test_answer_for_gives_the_response_of_table_6_1_1(request_envelope, answer_name, resource):
    peer = _peer()
    request = validate(request_envelope)
    answer = validate(peer.answer_for(request), posted=True)
    assert answer.name == answer_name
    expected_echo = "" if request.name == "emapRequestReregistration" else request.request_id
    assert answer.request_id == expected_echo
    assert SERVICE_RESOURCE[request.name] == resource


def test_answer_for_tracks_served_report_requests():
    peer = _peer()
    created = peer.answer_for(validate(B.create_report("cr-1", "ven-1", [B.report_request("rq-9", "METADATA")])))
    assert created["emapCreatedReport"]["emapPendingReports"]["reportRequestID"] == ["rq-9"]
    canceled = peer.answer_for(validate(B.cancel_report("xr-1", "ven-1", ["rq-9"])))
    assert canceled["emapCanceledReport"]["emapPendingReports"]["reportRequestID"] == []


async def test_send_raw_duplicate_reaches_server_as_one_endpoint():
    """Two copies of one CON from one socket through the tap: the server deduplicates (same endpoint, MID)."""
    calls = []

    async def handler(request):
        calls.append(request)
        return CoapReply(code="2.04", payload=encode(B.response("", ven_id="v")), content_format=50)

    server = await CoapServer.start(handler, bind=("127.0.0.1", 0))
    trace = Trace("raw")
    try:
        peer = LowerPeer(trace=trace, timing=TIMING, iut_uri=f"coap://127.0.0.1:{server.address[1]}/emap")
        async with peer:
            datagram = peer.request_datagram("EmapPoll", B.poll("v"), mid=0x1234, token=b"\x01\x02")
            first, second = await peer.send_raw([datagram, datagram], timeout=1.0)
    finally:
        await server.stop()
    assert len(calls) == 1
    assert codec.decode(first).payload == codec.decode(second).payload
    assert len([r for r in trace.records if r.direction == "to-iut"]) == 2


async def test_answered_sees_the_reply_leave():
    trace = Trace("answered")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri="coap://127.0.0.1:9/emap", pull=False) as peer:
        peer.ven_id = "ven-1"
        base = await peer.serve()
        client = await CoapClient.create(TransmissionParams(ack_timeout=0.2, max_retransmit=1))
        try:
            await client.request(base + "/EiReport", payload=encode(B.register_report("rr-1", "ven-1")),
                                 timeout=2.0)
        finally:
            await client.close()
        item = await peer.next_request("emapRegisterReport", timeout=1.0)
        assert item is not None and await peer.answered(item, timeout=1.0)
