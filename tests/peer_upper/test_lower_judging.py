"""The lower-IUT judging helpers on real traces: a reference LowerPeer plays a pull-mode IUT (conformant, then
wrong in one way each) against the UpperPeer, and the helpers must pass or fail with the right requirement id."""

from __future__ import annotations

import pytest

from conformance.messages import build as B
from conformance.messages import encode
from conformance.peer import LowerPeer
from conformance.peer.upper import UpperPeer
from conformance.profiles.model import Timing
from conformance.testcases.lower_iut.support import Sent, check_step_two, expect_answer
from conformance.transport.trace import Trace
from conformance.verdict import Fail

TIMING = Timing(t_prompt_s=1, ack_timeout_s=0.2, ack_random_factor=1.5, max_retransmit=1, backoff_initial_s=1,
                backoff_cap_s=2, tolerance_s=1)
PROMPT = TIMING.t_prompt_s + TIMING.tolerance_s


@pytest.fixture
async def delivered():
    """(trace, upper, iut, sent, reply): an emapDistributeEvent queued by the peer and fetched by the fake IUT."""
    trace = Trace("judging")
    upper = UpperPeer(trace=trace, timing=TIMING, poll_freq_s=1)
    await upper.serve_at(("127.0.0.1", 0))
    iut = LowerPeer(trace=Trace("iut side"), timing=TIMING, iut_uri=upper.base_uri, pull=True)
    await iut.register()
    first = await iut.poll()
    await iut.step_two(first.message)
    envelope = upper.distribute([B.event("ev-1", target={"venID": [upper.ven_id]})])
    await upper.send(envelope)
    reply = await iut.poll()
    sent = Sent(encode(envelope), "emapDistributeEvent", envelope["emapDistributeEvent"]["requestID"], True)
    yield trace, upper, iut, sent, reply.message
    await iut.stop()
    await upper.stop()


async def test_conformant_step_two_passes(delivered):
    trace, _, iut, sent, reply = delivered
    await iut.step_two(reply)
    await iut.poll()
    answer = check_step_two(trace, sent, PROMPT)
    assert answer.message.name == "emapCreatedEvent"
    expect_answer(trace, sent, "EMAP-6.1-01", name="emapCreatedEvent")


async def test_wrong_echo_fails_6_1_02(delivered):
    trace, upper, iut, sent, reply = delivered
    wrong = B.created_event("de-other", upper.ven_id, [B.event_response("de-other", "ev-1", 0)])
    await iut.step_two(reply, wrong)
    with pytest.raises(Fail, match="EMAP-6.1-02"):
        expect_answer(trace, sent, "EMAP-6.1-01", name="emapCreatedEvent")


async def test_poll_before_step_two_fails_6_6_04(delivered):
    trace, _, iut, sent, reply = delivered
    await iut.poll()
    await iut.step_two(reply)
    with pytest.raises(Fail, match="EMAP-6.6-04"):
        check_step_two(trace, sent, PROMPT)


async def test_wrong_resource_fails_6_1_05(delivered):
    trace, upper, iut, sent, reply = delivered
    await iut.post("EiReport", iut.answer_for(reply))
    with pytest.raises(Fail, match="EMAP-6.1-05"):
        check_step_two(trace, sent, PROMPT)


async def test_missing_step_two_fails(delivered):
    trace, _, iut, sent, _ = delivered
    await iut.poll()
    with pytest.raises(Fail, match="no step two"):
        expect_answer(trace, sent, "EMAP-6.3.3-01")


async def test_wrong_code_fails(delivered):
    trace, _, iut, sent, reply = delivered
    await iut.step_two(reply)
    with pytest.raises(Fail, match="responseCode 200, expected 452"):
        expect_answer(trace, sent, "EMAP-6.3.2-06", name="emapCreatedEvent", code="452")
