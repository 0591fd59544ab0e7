"""Lower-EMA IUT, clause 6.6 Poll: draining the queue, step twos before the next poll, poll spacing, invalid
replies, and no polls in push mode."""

from __future__ import annotations

import pytest

from conformance.messages import build as B
from conformance.messages import encode
from conformance.testcases.marker import emap_test

from .support import (
    PULL,
    PUSH,
    Sent,
    check_step_two,
    delivery_poll,
    end_seq,
    end_time,
    fail,
    is_response_type,
    iut_requests,
    next_poll_after,
    polls,
)


@emap_test("TC-L-6.6-01", requirements=["EMAP-6.6-04", "EMAP-6.6-05"], applies=PULL)
async def test_drain_queue_promptly(link, trace):
    """With three queued requests the IUT answers each before its next poll and polls again within T_PROMPT."""
    await link.registered()
    async with link.granting(link.prompt + 2 * link.timing.tolerance_s):
        await drain_three(link, trace)


async def drain_three(link, trace) -> None:
    peer = link.peer
    messages = [B.register_report(peer.ids("rr"), link.ven_id), link.distribute(link.event()),
                B.cancel_report(peer.ids("xr"), link.ven_id, [peer.ids("rq")])]
    sent = []
    for message in messages:
        await peer.send(message)
        name = next(iter(message))
        sent.append(Sent(encode(message), name, message[name]["requestID"], True))
    await peer.wait_for(lambda: not peer.queue, 2 * link.poll_period + 3 * link.prompt)
    await link.next_poll()
    for item in sent:
        answer = check_step_two(trace, item, link.prompt)
        follow = next_poll_after(trace, end_seq(answer.exchange))
        if follow is None:
            raise fail("EMAP-6.6-05", f"no emapPoll after the step two of {item.name}")
        delay = follow.request.t - end_time(answer.exchange)
        if delay > link.prompt:
            raise fail("EMAP-6.6-05", f"next emapPoll {delay:.2f} s after completing the step two of {item.name} "
                                      f"(bound T_PROMPT + tolerance = {link.prompt:g} s)")


def idle_gaps(trace) -> list[tuple[float, float]]:
    """(seconds, time of the earlier poll) between consecutive polls where the earlier got R0 and no registration came between."""
    found = []
    creates = [ex.request.seq for ex in iut_requests(trace, "emapCreatePartyRegistration")]
    polled = [ex for ex in polls(trace) if ex.response_message is not None]
    for earlier, later in zip(polled, polled[1:], strict=False):
        if _empty(earlier.response_message) and not any(earlier.request.seq < seq < later.request.seq for seq in creates):
            found.append((later.request.t - earlier.request.t, earlier.request.t))
    return found


def _empty(reply) -> bool:
    """An R0 poll reply: nothing was queued."""
    return reply is not None and reply.name == "emapResponse" and reply.request_id == ""


def idle_grant(link) -> float:
    """The emapRequestedPollFreq under which poll spacing is judged: well above the 1 s tolerance."""
    return max(link.profile.pixit["poll_freq_s"], 3 * link.timing.tolerance_s)


async def observe_idle(link) -> tuple[list[float], float]:
    """Gaps between idle polls over three poll periods under ``idle_grant``, and the trace time the observation
    started."""
    await link.registered()
    async with link.granting(idle_grant(link)):
        start = link.trace.elapsed()
        await link.observe(3 * link.poll_period)
        return [gap for gap, seq_t in idle_gaps(link.trace) if seq_t > start], start


@emap_test("TC-L-6.6-02", requirements=["EMAP-6.6-06", "EMAP-6.6-07"], applies=PULL)
async def test_poll_spacing(link, trace):
    """With nothing queued, polls are spaced at least emapRequestedPollFreq and at most the poll period.

    The poll period is the longer of ICS-13 and emapRequestedPollFreq."""
    gaps, _ = await observe_idle(link)
    if len(gaps) < 2:
        raise fail("EMAP-6.6-07", f"only {len(gaps) + 1} polls in three poll periods of idle observation")
    tolerance = link.timing.tolerance_s
    longest = link.profile.pixit.get("longest_poll_period_s") or 0
    period = max(longest, idle_grant(link)) + tolerance
    for gap in gaps:
        if gap < idle_grant(link) - tolerance:
            raise fail("EMAP-6.6-06", f"two polls {gap:.2f} s apart after an empty reply; emapRequestedPollFreq "
                                      f"is {idle_grant(link):g} s")
        if gap > period:
            raise fail("EMAP-6.6-07", f"two polls {gap:.2f} s apart; bound {period:g} s")


@emap_test("TC-L-6.6-03", requirements=["EMAP-6.6-08"], applies=PULL)
async def test_poll_at_granted_frequency(link, trace):
    """With nothing queued, the IUT polls once per emapRequestedPollFreq (advisory): between idle polls (the gap
    into the observation included), and from the last idle poll to the end of the observation."""
    _, start = await observe_idle(link)
    bound = idle_grant(link) + link.timing.tolerance_s
    for gap, t in idle_gaps(link.trace):
        if t + gap > start and gap > bound:
            raise fail("EMAP-6.6-08", f"two polls {gap:.2f} s apart; emapRequestedPollFreq is "
                                      f"{idle_grant(link):g} s")
    idle = [ex.request.t for ex in polls(link.trace) if _empty(ex.response_message)]
    silent = link.trace.elapsed() - idle[-1] if idle else 0.0
    if silent > bound:
        raise fail("EMAP-6.6-08", f"no poll in the {silent:.2f} s after an empty poll reply; "
                                  f"emapRequestedPollFreq is {idle_grant(link):g} s")


@emap_test("TC-L-6.6-04", requirements=["EMAP-6.6-10"], applies=PUSH)
async def test_push_lower_never_polls(link, trace):
    """A push-mode IUT sends no emapPoll."""
    await link.registered()
    await link.deliver(link.distribute(link.event()))
    await link.observe(link.poll_period + link.prompt)
    if polls(trace):
        raise fail("EMAP-6.6-10", f"a push-mode IUT sent emapPoll ({polls(trace)[0].path})")


def _invalid_reply(link, case: str) -> bytes:
    if case == "not-json":
        return b'{"emapDistributeEvent": '
    if case == "not-a-poll-reply":
        return encode(B.created_opt(link.peer.ids("co"), link.peer.ids("opt")))
    distribution = link.distribute(link.event())
    del distribution["emapDistributeEvent"]["vtnID"]
    return encode(distribution)


@pytest.mark.parametrize("case", ["not-json", "not-a-poll-reply", "schema"])
@emap_test("TC-L-6.6-05", requirements=["EMAP-6.6-11"], applies=PULL)
async def test_invalid_poll_reply_discarded(link, trace, case):
    """A poll reply that is not a valid Table 6.6-1 message gets no step two, and the IUT keeps polling."""
    await link.registered()
    payload = _invalid_reply(link, case)
    await link.deliver(payload, step_two=False)
    await link.next_poll()
    await link.observe(link.prompt)
    poll = delivery_poll(trace, payload)
    if poll is None:
        raise fail("EMAP-6.6-11", "the invalid reply was never fetched by an emapPoll")
    follow = next_poll_after(trace, poll.request.seq)
    if follow is None or follow.request.t - end_time(poll) > link.poll_period:
        raise fail("EMAP-6.6-11", f"the IUT did not poll again within {link.poll_period:g} s of the invalid reply")
    answered = [ex for ex in iut_requests(trace) if ex.request.seq > end_seq(poll)
                and ex.request_message is not None and is_response_type(ex.request_message.name)]
    if answered:
        raise fail("EMAP-6.6-11", f"the IUT POSTed {answered[0].request_message.name} after an invalid poll reply")
