"""UpperPeer against the reference LowerPeer, in process: registration, outbound queue and poll replies, step twos,
deliberately wrong replies, push delivery, cancel, and per-test trace switching."""

from __future__ import annotations

import pytest

from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.peer.upper import UpperPeer
from conformance.profiles.model import Timing
from conformance.transport.trace import Trace

TIMING = Timing(t_prompt_s=1, ack_timeout_s=0.2, ack_random_factor=1.5, max_retransmit=1, backoff_initial_s=1,
                backoff_cap_s=2, tolerance_s=1)


@pytest.fixture
async def pair():
    """A listening UpperPeer and a LowerPeer aimed at it, both recording into one trace."""
    trace = Trace("peer-upper")
    upper = UpperPeer(trace=trace, timing=TIMING, poll_freq_s=1)
    await upper.serve_at(("127.0.0.1", 0))
    lower = LowerPeer(trace=trace, timing=TIMING, iut_uri=upper.base_uri, pull=True)
    yield upper, lower, trace
    await lower.stop()
    await upper.stop()


async def test_pull_registration_queues_register_report_first(pair):
    upper, lower, _ = pair
    posted = await lower.register()
    body = posted.message.body
    assert body["eiResponse"]["responseCode"] == "200"
    assert body["vtnID"] == upper.vtn_id and body["emapRequestedPollFreq"] == "PT1S"
    assert upper.link.ven_id == body["venID"] and upper.link.pull and upper.registrations == 1
    first = await lower.poll()
    assert first.message.name == "emapRegisterReport" and "reportRequestID" not in first.message.body
    empty = await lower.poll()
    assert empty.message.name == "emapResponse" and empty.message.request_id == ""


async def test_queued_request_and_step_two(pair):
    upper, lower, _ = pair
    await lower.register()
    await lower.poll()
    envelope = upper.distribute([B.event("ev-1", target={"venID": [upper.ven_id]})])
    entry = await upper.send(envelope)
    reply = await lower.poll()
    assert reply.message.envelope == envelope
    assert entry.delivered_at is not None
    accepted = await lower.step_two(reply.message)
    assert accepted.message.name == "emapResponse" and accepted.message.response_code == "200"
    again = await lower.step_two(reply.message)
    assert again.message.response_code == "450"


async def test_raw_reply_leaves_unchanged(pair):
    upper, lower, _ = pair
    await lower.register()
    await lower.poll()
    await upper.send(b'{"emapDistributeEvent": ')
    reply = await lower.poll()
    assert reply.response.payload == b'{"emapDistributeEvent": ' and reply.message is None


async def test_poll_refused_unregistered_and_push(pair):
    upper, lower, _ = pair
    refused = await lower.poll(ven_id="nobody")
    assert refused.message.response_code == "463"
    await lower.register(pull=False)
    assert upper.link.pull is False
    answer = await lower.poll()
    assert answer.message.response_code == "451"


async def test_push_delivery_posts_to_transport_address(pair):
    upper, lower, _ = pair
    await lower.register(pull=False)
    await lower.receive("emapRegisterReport", timeout=TIMING.t_prompt_s + 1)
    posted = await upper.send(upper.distribute([B.event("ev-2", target={"venID": [upper.ven_id]})]))
    assert posted.code == "2.04" and posted.message.name == "emapCreatedEvent"
    cancelled = await upper.send(B.cancel_party_registration("cp-1", upper.link.registration_id, upper.ven_id))
    assert cancelled.message.response_code == "200" and upper.link is None


async def test_lower_cancel_ends_link_and_traces_switch(pair):
    upper, lower, trace = pair
    await lower.register()
    fresh = Trace("next test")
    upper.use_trace(fresh)
    lower._client_tap.trace = fresh
    posted = await lower.cancel()
    assert posted.message.response_code == "200" and upper.link is None and not upper.queue
    assert any(record.emap is not None and record.emap.name == "emapCancelPartyRegistration"
               for record in fresh.records)
    assert not any(record.emap is not None and record.emap.name == "emapCancelPartyRegistration"
                   for record in trace.records)


async def test_registration_errors(pair):
    upper, lower, _ = pair
    await lower.register()
    wrong = await lower.post("EiRegisterParty", B.create_party_registration(
        "c-x", registration_id="reg-unknown", ven_id=upper.ven_id))
    assert wrong.message.response_code == "452" and "registrationID" not in wrong.message.body
    refused = await lower.post("EiRegisterParty", B.create_party_registration("c-y", pull=False))
    assert refused.message.response_code == "454" and "registrationID" not in refused.message.body
    assert upper.link is not None  # the refused request changed nothing
