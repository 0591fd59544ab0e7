"""Running fuzz cases against a lower-EMA IUT through the reference upper peer (``UpperPeer``), and its liveness
oracle.

Push mode: a case is POSTed to the IUT's resource under its ``emapTransportAddress`` (valid messages through
``UpperPeer.send``, so the peer's link follows a cancel; broken bytes raw) and the 2.04 answer is judged
(``oracle.lower_application``; 4.00 for broken payloads, EMAP-7.1.4-06). CoAP cases go through a ``RawChannel``
to the peer's client tap. Pull mode: a case is queued as the reply to the IUT's next ``emapPoll``; a valid request
must get its step two (response type, code, echo, at U's resource of the service, before the next poll:
EMAP-6.1-05, EMAP-6.6-04), anything else none (EMAP-6.6-11).

After every case ``probe()`` delivers a known-good ``emapDistributeEvent`` (the peer's own events and vtnID) and
requires its 200 answer (EMAP-6.3.2-07); in pull mode its delivery also proves the IUT kept polling (EMAP-6.6-07)
and no step two came for a discarded reply in between. The peer answers the probe's step two only once the next
case is queued (at most ``LowerBounds.hold`` later), so the poll the IUT sends right after it (EMAP-6.6-05) fetches
that case instead of an empty-queue reply that would idle the IUT for a poll period. A case that ended the registration (a valid cancel) is
followed by ``reregister()`` (the test's stimulus), one that requested a re-registration waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.messages import MESSAGES, SERVICE_RESOURCE, encode
from conformance.messages import build as B
from conformance.peer.base import parse_base_uri
from conformance.peer.transport_faults import server_tap
from conformance.peer.upper import DEFAULT, UpperPeer
from conformance.transport import TO_IUT, codec

from . import oracle, pollcoap
from .cases import FuzzCase, resolve
from .channel import RawChannel, require_usable
from .coapcases import coap_datagram
from .mutations import payload_of
from .oracle import Answer, Expectation
from .pollcoap import ACCEPT, DISCARD, POLL_RESOURCE, ReplyRewrite
from .strategies import expected_state_code
from .target import HISTORY, FuzzTarget, Outcome, answer_of, raw_answer, unique

PROBE_NAMES = frozenset({"emapCreatedEvent", "emapResponse"})


@dataclass(frozen=True)
class LowerBounds:
    """Waits derived from the profile: ``poll`` (longest poll gap + T_PROMPT), ``answer`` (T_PROMPT + one
    exchange), ``exchange`` (one exchange), ``silence`` (for an answer that must not come) and ``hold`` (the
    longest delay of the answer to a probe's step two, well within one exchange)."""

    poll: float
    answer: float
    exchange: float
    silence: float
    hold: float


class LowerTarget(FuzzTarget):
    """Drives a registered lower-EMA IUT from ``peer``; ``reregister()`` makes the IUT register again (raises
    when it cannot: the test is then not judgeable)."""

    def __init__(self, peer: UpperPeer, *, reregister: Callable[[], Awaitable[None]], bounds: LowerBounds,
                 max_payload: int):
        self.peer = peer
        self.reregister = reregister
        self.bounds = bounds
        self.max_payload = max_payload
        self.pull = bool(peer.pull)
        self._serial = itertools.count(1)
        self._channel: RawChannel | None = None
        self._mark: int | None = None  # inbox position after a discarded poll reply: no step two may follow
        self._discarded: str | None = None  # requestID of that reply when it was a valid message
        self._why = "EMAP-6.6-11"  # the requirement that made it one to discard
        self._earliest: tuple[float, int] | None = None  # (trace time, Max-Age) of a 5.03 poll reply
        self._slack = 0.0  # extra time the next poll may take (the IUT may wait for a separate response)
        self._late: bytes | None = None  # the poll reply the peer answers late (empty ACK, separate response)
        self._held: str | None = None  # requestID of the probe whose step-two answer waits for the next case
        self._queued = asyncio.Event()  # set when a case or probe is queued for a poll
        self.history: deque[FuzzCase] = deque(maxlen=HISTORY)

    async def start(self) -> None:
        if self.pull:
            self.peer.responder = self._hold_probe_answer
        else:
            tap = urlsplit(self.peer.resource_uri("EiEvent"))
            self._channel = await RawChannel.open((tap.hostname, tap.port))
        await require_usable(self.probe, self._channel)

    async def stop(self) -> None:
        """End the report requests cases made (their reports would outlast the test), close the raw channel."""
        try:
            await self._end_requests()
        finally:
            await self._close_channel()
            self._held = None
            if self.peer.responder == self._hold_probe_answer:
                self.peer.responder = None

    async def _end_requests(self) -> str | None:
        """Cancel the report requests that cases made, whose periodic reports would otherwise pile up over a long
        run; a problem line when the IUT does not answer with emapCanceledReport 200 echoing the requestID (or
        452: a request may have ended at the IUT already, EMAP-6.4.5-02)."""
        if not (self.peer.registered and self.peer.requests.active):
            return None
        request_id = self.peer.ids("fz-end")
        envelope = B.cancel_report(request_id, self.peer.ven_id, list(self.peer.requests.active))
        expect = Expectation("app", "EMAP-6.4.5-03", frozenset({"emapCanceledReport"}), frozenset({"200", "452"}),
                             request_id)
        answer = await self._deliver(envelope, expect)
        return answer if isinstance(answer, str) else oracle.judge(expect, answer)

    async def _close_channel(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _hold_probe_answer(self, _resource: str, message) -> object:
        if message.name == "emapPoll" and self._late is not None and self.peer.queue \
                and self.peer.queue[0].payload == self._late:  # longer than the server's empty-ACK delay
            await asyncio.sleep(self.bounds.hold)
            return DEFAULT
        if message.request_id is None or message.request_id != self._held:
            return DEFAULT
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.bounds.hold):
                while not self.peer.queue:
                    self._queued.clear()
                    await self._queued.wait()
        return DEFAULT

    @property
    def ids(self) -> dict[str, str | None]:
        link = self.peer.link
        return {"venID": link and link.ven_id, "registrationID": link and link.registration_id,
                "vtnID": self.peer.vtn_id, "transportAddress": link and link.transport_address}

    # -- liveness ----------------------------------------------------------------------------------------------
    async def probe(self) -> str | None:
        """The liveness oracle: a known-good emapDistributeEvent is answered 200 (and, pull, fetched in time)."""
        if not self.peer.registered:
            await self.reregister()
        envelope = self.peer.distribute(request_id=self.peer.ids("fz-live"))
        request_id = envelope["emapDistributeEvent"]["requestID"]
        self._held = request_id
        expect = Expectation("app", "EMAP-6.3.2-07", PROBE_NAMES, frozenset({"200"}), request_id)
        answer = await self._deliver(envelope, expect)
        if isinstance(answer, str):
            return f"liveness: {answer}"
        problem = oracle.judge(expect, answer)
        return f"liveness: the known-good emapDistributeEvent: {problem}" if problem else None

    async def _deliver(self, envelope: dict, expect: Expectation | None = None) -> Answer | str:
        """Send ``envelope`` through the peer: its answer (push) or step two (pull); a problem line when a pull-mode
        IUT did not fetch it in time or answered a discarded reply in between."""
        if not self.pull:
            return answer_of((await self.peer.send(envelope, timeout=self.bounds.exchange)).response)
        return await self._poll_reply(envelope, encode(envelope), expect)

    # -- cases -------------------------------------------------------------------------------------------------
    async def run(self, case: FuzzCase) -> Outcome:
        self.history.append(case)
        if case.kind == "coap":
            return await (self._run_poll_coap(case) if self.pull else self._run_coap(case))
        envelope = unique(resolve(case.envelope, self.ids), self.peer.ids("f"))  # never a cached repeat
        payload = payload_of(envelope, case.mutation)
        message, _ = oracle.classify(payload)
        expect = self._expect(case, message)
        registrations = self.peer.registrations
        sent = json.loads(payload) if message is not None else None  # the exact JSON value, tracked by the peer
        if self.pull:
            answer = await self._poll_reply(sent, payload, expect)
        elif sent is not None:
            answer = answer_of((await self.peer.send(sent, resource=case.resource,
                                                     timeout=self.bounds.exchange)).response)
        else:
            answer = answer_of((await self.peer.post(case.resource, payload, timeout=self.bounds.exchange,
                                                     expect_answer=False)).response)
        if isinstance(answer, str):
            return Outcome(case, payload, expect, Answer(None), f"liveness: {answer}")
        problem = oracle.judge(expect, answer)
        if problem is None and message is not None and message.name == "emapRequestReregistration" \
                and expect.codes == {"200"}:  # EMAP-6.2.5-03: the IUT re-registers within T_PROMPT
            if not await self.peer.wait_for(lambda: self.peer.registrations > registrations, self.bounds.answer):
                problem = "EMAP-6.2.5-03: no emapCreatePartyRegistration within T_PROMPT after answering 200"
        if problem is None:  # a report request the case made ends with it
            ended = await self._end_requests()
            problem = ended and f"ending the report requests the case made: {ended}"
        return Outcome(case, payload, expect, answer, problem)

    def _expect(self, case: FuzzCase, message) -> Expectation:
        if message is None:
            return Expectation("discard", "EMAP-6.6-11") if self.pull else oracle.invalid_payload()
        expect = oracle.lower_application(message, case.resource, self.ids, registered=self.peer.registered,
                                          poll_reply=self.pull)
        if case.kind == "state" and expect.kind == "app" and expect.codes != {"459"}:
            return Expectation("app", expect.requirement, expect.names,
                               frozenset({expected_state_code(case, "L")}), expect.echo)
        return expect

    async def _poll_reply(self, envelope: dict | None, payload: bytes, expect: Expectation | None) -> Answer | str:
        """Queue ``payload`` as a poll reply (tracked by the peer when it is a valid ``envelope``), wait until a poll
        fetched it; the step two when ``expect`` wants one, else Answer(None). A problem line when no poll came
        in time, or when a step two answered a discarded reply before this one was fetched."""
        fetched = await self._fetched(envelope, payload)
        if isinstance(fetched, str):
            return fetched
        if expect is None or expect.kind != "app":
            self._discard(fetched, _request_id_of(envelope))
            return Answer(None)
        since = self.peer.inbox.items[fetched].t
        step = await self.peer.inbox.take(lambda item: _is_response(item) and item.t >= since, self.bounds.answer)
        if step is None:
            return Answer(None)
        return self._step_two(SERVICE_RESOURCE[next(iter(envelope))], fetched, step)

    async def _fetched(self, envelope: dict | None, payload: bytes) -> int | str:
        """Queue the poll reply, wait until a poll fetched it: that poll's inbox index. A problem line when no poll
        came in time, when the first poll after a 5.03 came before its Max-Age (EMAP-7.1.5-08), or when a step
        two answered a discarded reply (EMAP-6.6-11)."""
        queued = await self.peer.send(envelope if envelope is not None else payload, pull=True)
        self._queued.set()
        wait, self._slack = self.bounds.poll + self._slack, 0.0
        if not await self.peer.wait_for(lambda: queued.delivered_at is not None, wait):
            return f"EMAP-6.6-07: no emapPoll fetched the queued reply within {wait:g} s"
        items = self.peer.inbox.items
        fetched = _last_poll(items)
        if self._mark is None:
            return fetched
        mark, earliest, self._mark, self._earliest = self._mark, self._earliest, None, None
        stray = next((item for item in items[mark:fetched] if self._answers_discarded(item)), None)
        if stray is not None:
            return f"{self._why}: {stray.message.name} POSTed for a poll reply that must be discarded"
        first = next((item for item in items[mark:fetched + 1] if _is_poll(item)), None)
        if earliest is not None and first is not None \
                and first.t - earliest[0] < earliest[1] - self.peer.timing.tolerance_s:
            return (f"EMAP-7.1.5-08: emapPoll {first.t - earliest[0]:.2f} s after a 5.03 poll reply with Max-Age "
                    f"{earliest[1]} (+- {self.peer.timing.tolerance_s:g} s)")
        return fetched

    def _discard(self, fetched: int, request_id: str | None, why: str = "EMAP-6.6-11") -> None:
        """The reply fetched by poll ``fetched`` must get no step two (requirement ``why``): checked when the next
        reply is fetched."""
        self._mark, self._discarded, self._why = fetched + 1, request_id, why

    def _step_two(self, home: str, fetched: int, step) -> Answer | str:
        """The step two ``step`` as an answer; a problem line when a poll came before it or it did not go to the
        resource ``home``."""
        later = self.peer.inbox.items.index(step)
        if any(_is_poll(item) for item in self.peer.inbox.items[fetched + 1:later]):
            return f"EMAP-6.6-04: emapPoll before the step two ({step.message.name})"
        if step.resource != home:
            return f"EMAP-6.1-05: step two {step.message.name} POSTed to {step.resource}, not {home}"
        return Answer("2.04", encode(step.message.envelope), oracle.JSON_FORMAT)

    def _answers_discarded(self, item) -> bool:
        """A response-type message that answers the discarded reply: it echoes that reply's requestID, or one
        the peer never gave the IUT (follow-ups to the peer's own requests, EMAP-6.3.3-05, echo those)."""
        if not _is_response(item):
            return False
        echo = item.message.request_id
        return echo == self._discarded or echo not in self.peer.sent_request_ids

    async def _run_coap(self, case: FuzzCase) -> Outcome:
        serial = next(self._serial)
        request_id = self.peer.ids("fz-cq")
        envelope = self.peer.distribute(request_id=request_id)
        mid, token = serial % 65536, serial.to_bytes(4, "big")
        good = Expectation("app", "EMAP-6.3.2-07", PROBE_NAMES, frozenset({"200"}), request_id)
        data, expect = coap_datagram(case.coap, envelope, "EiEvent", parse_base_uri(self.peer.target)[2], good=good,
                                     expect_payload=self._expect_bytes, mid=mid, token=token,
                                     max_payload=self.max_payload)
        wait = self.bounds.silence if expect.kind in ("silence", "rst") else self.bounds.exchange
        answer = raw_answer(await self._channel.exchange(data, mid=mid, token=token, wait=wait))
        return Outcome(case, data, expect, answer, oracle.judge(expect, answer))

    async def _run_poll_coap(self, case: FuzzCase) -> Outcome:
        """A known-good emapDistributeEvent as the next poll reply, its response datagram changed in the wire tap
        (``pollcoap.reply_plan``); the IUT's next move must be one the plan allows."""
        request_id = self.peer.ids("fz-pc")
        envelope = self.peer.distribute(request_id=request_id)
        payload = encode(envelope)
        rewrite = ReplyRewrite(case.coap, payload, expect_payload=self._expect_reply)
        tap = server_tap(self.peer)
        if tap is None:
            raise RuntimeError("CoAP-level poll-reply cases need a NoSec link (the tester changes plain datagrams)")
        tap.faults, self._held = rewrite, request_id
        self._late = payload if rewrite.late else None
        try:
            fetched = await self._fetched(envelope, payload)
            if isinstance(fetched, str):
                return Outcome(case, payload, Expectation("discard", "EMAP-6.6-07"), Answer(None), f"liveness: {fetched}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.bounds.exchange):
                    await rewrite.fired.wait()
            if rewrite.plan is None:
                raise RuntimeError("the tap saw no response carrying the queued poll reply")
            return await self._judge_poll_coap(case, rewrite, fetched, request_id)
        finally:
            tap.faults, self._late = None, None

    async def _judge_poll_coap(self, case: FuzzCase, rewrite: ReplyRewrite, fetched: int,
                               request_id: str) -> Outcome:
        """ACCEPT: the step two (as for any poll reply; also after the IUT re-sent its poll, which a late answer
        under load may cause); RETRY: it only after the reply reached the IUT unchanged; DISCARD: none, checked
        when the next reply is fetched (then also a 5.03's Max-Age, ``_fetched``)."""
        plan, original = rewrite.plan, rewrite.original
        sent = plan.data if plan.data is not None else codec.encode(original)
        what = f"poll reply {pollcoap.describe(case.coap)}"
        expect = plan.step if plan.allowed != {DISCARD} else Expectation("discard", plan.requirement)
        if plan.allowed == {DISCARD}:
            self._discard(fetched, request_id, plan.requirement)
            if plan.max_age is not None:
                self._earliest = (self._sent_at(sent, self.peer.inbox.items[fetched].t), plan.max_age)
            return Outcome(case, sent, expect, Answer(None), None)
        poll = self.peer.inbox.items[fetched]
        item = await self.peer.inbox.take(
            lambda it: it is not poll and it.t >= poll.t and (_is_response(it) or _is_poll(it)), self.bounds.answer)
        if item is None or _is_poll(item):
            self._discard(fetched, request_id, plan.requirement)
            self._slack = self.bounds.exchange if plan.may_wait else 0.0
            if DISCARD in plan.allowed:
                return Outcome(case, sent, expect, Answer(None), None)
            came = "an emapPoll came first" if item is not None else f"none within {self.bounds.answer:g} s"
            return Outcome(case, sent, expect, Answer(None), f"{plan.requirement}: no step two for the {what}: {came}")
        problem = None
        if ACCEPT not in plan.allowed and not self._redelivered(rewrite.payload, poll.t, item.t):
            problem = f"{plan.requirement}: {item.message.name} answers the {what}, which must not be accepted"
        answer = self._step_two(SERVICE_RESOURCE["emapDistributeEvent"], fetched, item)
        if isinstance(answer, str):
            return Outcome(case, sent, expect, Answer(None), answer)
        return Outcome(case, sent, expect, answer, problem or oracle.judge(plan.step, answer))

    def _redelivered(self, payload: bytes, since: float, until: float) -> bool:
        """True when ``payload`` reached the IUT unchanged between ``since`` and ``until`` (trace times): the answer
        to its re-sent poll, or the separate response after a changed piggy-backed one."""
        for record in reversed(self.peer.trace.records):
            if record.t < since:
                return False
            if record.direction == TO_IUT and record.fault is None and record.t <= until and payload in record.raw:
                return True
        return False

    def _sent_at(self, data: bytes, default: float) -> float:
        """Trace time of the datagram ``data`` the tap sent to the IUT (``default`` when the trace lacks it)."""
        return next((r.t for r in reversed(self.peer.trace.records) if r.direction == TO_IUT and r.raw == data),
                    default)

    def _expect_reply(self, payload: bytes) -> Expectation:
        message, _ = oracle.classify(payload)
        if message is None:
            return Expectation("discard", "EMAP-6.6-11")
        return oracle.lower_application(message, POLL_RESOURCE, self.ids, registered=self.peer.registered,
                                        poll_reply=True)

    def _expect_bytes(self, payload: bytes) -> Expectation:
        message, _ = oracle.classify(payload)
        if message is None:
            return oracle.invalid_payload()
        return oracle.lower_application(message, "EiEvent", self.ids, registered=self.peer.registered)


def _request_id_of(envelope: dict | None) -> str | None:
    if not envelope:
        return None
    body = next(iter(envelope.values()))
    return body.get("requestID") if isinstance(body, dict) else None


def _is_response(item) -> bool:
    return item.message is not None and MESSAGES[item.message.name].kind == "response"


def _is_poll(item) -> bool:
    return item.message is not None and item.message.name == "emapPoll"


def _last_poll(items) -> int:
    return max((i for i, item in enumerate(items) if _is_poll(item)), default=0)
