"""LowerPeer against a scripted upper EMA (a CoapServer handler): state, traces, push serving, step two."""

from __future__ import annotations

import asyncio

import pytest

from conformance.messages import build as B
from conformance.messages import encode, validate
from conformance.peer import LowerPeer, PeerError, parse_base_uri
from conformance.profiles.model import Timing
from conformance.transport import CoapClient, CoapReply, CoapServer, Trace, TransmissionParams

TIMING = Timing(t_prompt_s=1.0, ack_timeout_s=0.2, ack_random_factor=1.5, max_retransmit=1, tolerance_s=0.5)


class ScriptedUpper:
    """A minimal upper EMA: registers, queues its emapRegisterReport (pull) or pushes it (push), answers polls."""

    def __init__(self):
        self.queue: list[dict] = []
        self.received: list[tuple[str, dict]] = []
        self.pushed: list = []
        self.server = None
        self.tasks = []

    async def start(self):
        self.server = await CoapServer.start(self.handle, bind=("127.0.0.1", 0))
        return f"coap://127.0.0.1:{self.server.address[1]}/emap"

    async def handle(self, request):
        message = validate(request.payload)
        self.received.append((request.path[-1], message.envelope))
        body = message.body
        if message.name == "emapCreatePartyRegistration":
            metadata = B.register_report("u-rr-1", "ven-1")
            if body["emapPullModel"]:
                self.queue.append(metadata)
            else:
                # pushed while the create exchange is still open: the peer must hold it (EMAP-6.2.3-13)
                self.tasks.append(asyncio.ensure_future(self.push(body["emapTransportAddress"] + "/EiReport",
                                                                  metadata)))
            answer = B.created_party_registration(body["requestID"], "vtn-x", registration_id="reg-1",
                                                  ven_id="ven-1",
                                                  poll_freq="PT1S" if body["emapPullModel"] else None)
        elif message.name == "emapPoll":
            answer = self.queue.pop(0) if self.queue else B.response("", ven_id=body["venID"])
        elif message.name == "emapRegisteredReport":
            answer = B.response(message.request_id, ven_id="ven-1")
        elif message.name == "emapCancelPartyRegistration":
            answer = B.canceled_party_registration(body["requestID"], body["registrationID"], body["venID"])
        else:
            return CoapReply(code="4.00", payload=b"unexpected")
        return CoapReply(code="2.04", payload=encode(answer), content_format=50)

    async def push(self, uri, envelope):
        client = await CoapClient.create(TransmissionParams(ack_timeout=0.2, max_retransmit=1))
        try:
            self.pushed.append(await client.request(uri, payload=encode(envelope), timeout=2.0))
        finally:
            await client.close()

    async def stop(self):
        await asyncio.gather(*self.tasks)
        await self.server.stop()


@pytest.fixture
async def upper():
    scripted = ScriptedUpper()
    uri = await scripted.start()
    yield scripted, uri
    await scripted.stop()


async def test_pull_registration_adopts_state_and_drains(upper):
    scripted, uri = upper
    trace = Trace("peer-pull")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri=uri, pull=True) as peer:
        posted = await peer.register()
        assert posted.code == "2.04"
        assert (peer.registration_id, peer.ven_id, peer.vtn_id, peer.poll_freq) == ("reg-1", "ven-1", "vtn-x", 1.0)
        delivered = await peer.drain()
    assert [m.name for m in delivered] == ["emapRegisterReport"]
    assert scripted.received[-2][0] == "EiReport"  # step two went to the Report service resource
    assert scripted.received[-2][1]["emapRegisteredReport"]["eiResponse"]["requestID"] == "u-rr-1"
    names = [m.name for _, m in trace.messages(direction="to-iut")]
    assert names == ["emapCreatePartyRegistration", "emapPoll", "emapRegisteredReport", "emapPoll"]
    assert [m.name for _, m in trace.messages(direction="from-iut")][-1] == "emapResponse"
    assert all(ex.code == "2.04" for ex in trace.exchanges())


async def test_push_registration_serves_through_tap(upper):
    scripted, uri = upper
    trace = Trace("peer-push")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri=uri, pull=False) as peer:
        await peer.register()
        item = await peer.next_request("emapRegisterReport", timeout=2.0)
        assert item is not None and item.resource == "EiReport"
    announced = scripted.received[0][1]["emapCreatePartyRegistration"]["emapTransportAddress"]
    assert announced == peer.base_uri and announced.endswith("/emap")
    pushed = [ex for ex in trace.exchanges() if ex.direction == "from-iut"]
    assert len(pushed) == 1 and pushed[0].path == "/emap/EiReport" and pushed[0].code == "2.04"
    assert pushed[0].response_message is not None, pushed[0].response_message_error
    assert pushed[0].response_message.name == "emapRegisteredReport"
    assert pushed[0].response_message.request_id == "u-rr-1"


async def test_server_side_checks_path_format_and_resource(upper):
    _, uri = upper
    trace = Trace("peer-serve")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri=uri, pull=False) as peer:
        base = await peer.serve()
        client = await CoapClient.create(TransmissionParams(ack_timeout=0.2, max_retransmit=1))
        try:
            missing = await client.request(base + "/EmapPoll", payload=b"{}", timeout=2.0)
            bad_format = await client.request(base + "/EiEvent", payload=b"{}", content_format=0, timeout=2.0)
            not_json = await client.request(base + "/EiEvent", payload=b"{", timeout=2.0)
            wrong = await client.request(base + "/EiEvent", payload=encode(B.register_report("r-1", "v")),
                                         timeout=2.0)
        finally:
            await client.close()
    assert (missing.code, bad_format.code, not_json.code) == ("4.04", "4.15", "4.00")
    assert wrong.code == "2.04" and wrong.message.response_code == "459"
    assert len([r for r in trace.requests(direction="from-iut")]) == 4


async def test_plain_polls_record_every_datagram_and_agree_with_the_trace(upper):
    """The hot path (tap fast path, lazy trace and response decoding) loses nothing a verdict reads."""
    _, uri = upper
    trace = Trace("peer-polls")
    async with LowerPeer(trace=trace, timing=TIMING, iut_uri=uri) as peer:
        polls = [await peer.poll("ven-1") for _ in range(3)]
    assert trace.notes == [] and len(trace.records) == 6
    assert [r.direction for r in trace.records] == ["to-iut", "from-iut"] * 3
    exchanges = trace.exchanges()
    assert [ex.code for ex in exchanges] == [p.code for p in polls] == ["2.04"] * 3
    for posted, ex in zip(polls, exchanges, strict=True):
        assert ex.request.raw.endswith(posted.payload) and ex.response_payload == posted.response.payload
        assert posted.message.envelope == ex.response_message.envelope
        assert ex.request_message.name == "emapPoll" and ex.request.src == exchanges[0].request.src


async def test_silent_iut_is_a_peer_error_or_none():
    trace = Trace("peer-silent")
    server = await CoapServer.start(_never_answers, bind=("127.0.0.1", 0))
    try:
        uri = f"coap://127.0.0.1:{server.address[1]}/emap"
        async with LowerPeer(trace=trace, timing=TIMING, iut_uri=uri) as peer:
            posted = await peer.post("EiRegisterParty", B.query_registration("q-1"), timeout=0.3,
                                     expect_answer=False)
            assert posted.response is None
            with pytest.raises(PeerError, match="no answer"):
                await peer.post("EiRegisterParty", B.query_registration("q-2"), timeout=0.3)
    finally:
        await server.stop()


async def _never_answers(request):
    await asyncio.sleep(5)
    return CoapReply()


def test_parse_base_uri_rejects_bad_uris():
    assert parse_base_uri("coap://127.0.0.1:5700/emap/x") == ("127.0.0.1", 5700, ("emap", "x"))
    for bad in ("http://h/emap", "coap://h", "coap:///emap"):
        with pytest.raises(PeerError, match="IUT base URI"):
            parse_base_uri(bad)
