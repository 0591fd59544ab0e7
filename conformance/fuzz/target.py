"""Running fuzz cases against an upper-EMA IUT through the reference peer, and the liveness oracle.

The target owns one ``LowerPeer`` (registered in pull mode, its server side started so that a case switching the
link to push mode gets conformant answers). Message cases go through the peer's client (its WireTap records them
into the test's trace); CoAP cases through a ``RawChannel`` to the same tap. After every case ``probe()`` sends a
known-good ``emapQueryRegistration`` and requires a correct answer (EMAP-6.2.2-03); it also re-synchronises the
live registration IDs (a case may have cancelled or replaced the registration) and re-registers when needed.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.peer.base import parse_base_uri
from conformance.transport import codec

from . import oracle
from .cases import FuzzCase, resolve, slots_of
from .channel import RawChannel, require_usable
from .coapcases import coap_datagram
from .mutations import payload_of
from .oracle import Answer, Expectation
from .strategies import expected_state_code

REQUEST_ID_SUFFIX = "~f"
HISTORY = 300


@dataclass(frozen=True)
class Outcome:
    """One executed case: the bytes sent, what was expected and came back, and the problem (None: correct)."""

    case: FuzzCase
    sent: bytes
    expect: Expectation
    answer: Answer
    problem: str | None

    @property
    def answer_key(self) -> str:
        """Statistics key of the answer: CoAP code, plus the responseCode of a 2.04 message."""
        if self.answer.reset:
            return "RST"
        if self.answer.code is None:
            return "silence"
        if self.answer.code == "2.04" and self.answer.payload:
            return "2.04/" + _response_code(self.answer.payload)
        return self.answer.code


def _response_code(payload: bytes) -> str:
    """The top-level responseCode of a response payload, else its message name (statistics only)."""
    try:
        (name, body), = json.loads(payload).items()
        holder = body.get("eiCreatedEvent", body) if isinstance(body, dict) else {}
        return str((holder.get("eiResponse") or {}).get("responseCode") or name)
    except (ValueError, AttributeError, TypeError):
        return "undecodable"


class FuzzTarget:
    """What the runner drives: ``run(case)`` then the liveness ``probe()``, in one call per case."""

    async def run(self, case: FuzzCase) -> Outcome:
        raise NotImplementedError

    async def probe(self) -> str | None:
        raise NotImplementedError

    async def check(self, case: FuzzCase) -> tuple[Outcome, str | None]:
        """Run ``case``, then (when its answer was right) the liveness probe; the outcome and the problem."""
        outcome = await self.run(case)
        return outcome, outcome.problem or await self.probe()


class UpperTarget(FuzzTarget):
    """Drives an upper-EMA IUT: ``await start()``, ``await run(case)``, ``await probe()``, ``await stop()``."""

    def __init__(self, peer: LowerPeer, *, max_payload: int, silence_s: float):
        self.peer = peer
        self.max_payload = max_payload
        self.silence_s = silence_s
        self._serial = itertools.count(1)
        self._channel: RawChannel | None = None
        self._base_path: tuple[str, ...] = parse_base_uri(peer.target)[2]
        #: The most recent cases run, oldest first: a failure may depend on what came before (replay files).
        self.history: deque[FuzzCase] = deque(maxlen=HISTORY)

    async def start(self) -> None:
        await self.peer.start()
        await self.peer.serve()
        tap = urlsplit(self.peer.resource_uri("EiRegisterParty"))
        self._channel = await RawChannel.open((tap.hostname, tap.port))
        await require_usable(self.probe, self._channel)

    async def stop(self) -> None:
        """End the fuzzing registration (a case may have left it in push mode) and close the raw channel."""
        try:
            if self.peer.registered:
                await self.peer.post("EiRegisterParty", B.cancel_party_registration(
                    f"end-{next(self._serial)}", self.peer.registration_id, self.peer.ven_id), expect_answer=False)
                self.peer.forget()
        finally:
            await self._close_channel()

    async def _close_channel(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    @property
    def ids(self) -> dict[str, str | None]:
        peer = self.peer
        return {"venID": peer.ven_id, "registrationID": peer.registration_id, "transportAddress": peer.base_uri}

    # -- liveness ----------------------------------------------------------------------------------------------
    async def probe(self) -> str | None:
        """The liveness oracle: a known-good query must get a correct answer; re-register when needed."""
        request_id = f"live-{next(self._serial)}"
        posted = await self.peer.post("EiRegisterParty", B.query_registration(request_id, self.peer.ven_id),
                                      expect_answer=False)
        answer = answer_of(posted.response)
        expect = oracle.application("emapQueryRegistration", "EiRegisterParty", request_id=request_id,
                                    live_ven=False, registered=False)
        problem = oracle.judge(expect, answer)
        if problem:
            return f"liveness: the known-good emapQueryRegistration failed: {problem}"
        body = posted.message.body
        if self.peer.ven_id is not None and body.get("venID") == self.peer.ven_id and "registrationID" in body:
            self.peer.registration_id = body["registrationID"]
            return None
        self.peer.forget()
        registered = await self.peer.register(pull=True)
        if not self.peer.registered:
            return f"liveness: re-registration was not accepted: {answer_of(registered.response).describe()}"
        return None

    # -- cases -------------------------------------------------------------------------------------------------
    async def run(self, case: FuzzCase) -> Outcome:
        self.history.append(case)
        if case.kind == "coap":
            return await self._run_coap(case)
        envelope = unique(resolve(case.envelope, self.ids), next(self._serial))
        payload = payload_of(envelope, case.mutation)
        expect = self._expect(case, payload)
        posted = await self.peer.post(case.resource, payload, expect_answer=False)
        answer = answer_of(posted.response)
        return Outcome(case, payload, expect, answer, oracle.judge(expect, answer))

    def _expect(self, case: FuzzCase, payload: bytes) -> Expectation:
        message, _error = oracle.classify(payload)
        if message is None:
            return oracle.invalid_payload()
        expect = oracle.application(message.name, case.resource, request_id=message.request_id,
                                    live_ven=self._from_live_ven(message), registered=self.peer.registered)
        if case.kind == "state" and expect.codes != {"459"}:
            return Expectation("app", expect.requirement, expect.names, frozenset({expected_state_code(case)}),
                               expect.echo, empty_ok=False)
        return expect

    def _expect_bytes(self, payload: bytes) -> Expectation:
        """Expectation of changed query bytes at EiRegisterParty (CoAP body cases)."""
        message, _ = oracle.classify(payload)
        if message is None:
            return oracle.invalid_payload()
        return oracle.application(message.name, "EiRegisterParty", request_id=message.request_id, live_ven=False,
                                  registered=self.peer.registered)

    def _from_live_ven(self, message) -> bool:
        path = next((p for p, key in slots_of(message.name).items() if key == "venID"), None)
        holder = message.body
        for step in path or ():
            holder = holder.get(step) if isinstance(holder, dict) else None
        return holder is not None and holder == self.peer.ven_id

    async def _run_coap(self, case: FuzzCase) -> Outcome:
        serial = next(self._serial)
        request_id = f"cq-{serial}"
        envelope = B.query_registration(request_id, self.peer.ven_id)
        mid, token = serial % 65536, serial.to_bytes(4, "big")
        good = oracle.application("emapQueryRegistration", "EiRegisterParty", request_id=request_id,
                                  live_ven=True, registered=self.peer.registered)
        data, expect = coap_datagram(case.coap, envelope, "EiRegisterParty", self._base_path, good=good,
                                     expect_payload=self._expect_bytes, mid=mid, token=token,
                                     max_payload=self.max_payload)
        wait = self.silence_s if expect.kind in ("silence", "rst") else self.peer.exchange_timeout
        answers = await self._channel.exchange(data, mid=mid, token=token, wait=wait)
        answer = raw_answer(answers)
        return Outcome(case, data, expect, answer, oracle.judge(expect, answer))


def unique(envelope: dict, serial: int | str) -> dict:
    """Make the requestID of a request message unique (a repeat would be answered from the cache, 7.1.5-07)."""
    if not isinstance(envelope, dict) or len(envelope) != 1:
        return envelope
    (_name, body), = envelope.items()
    holder = body.get("eiRequestEvent") if isinstance(body, dict) and "eiRequestEvent" in body else body
    if isinstance(holder, dict) and isinstance(holder.get("requestID"), str):
        holder["requestID"] = f"{holder['requestID']}{REQUEST_ID_SUFFIX}{serial}"
    return envelope


def answer_of(response) -> Answer:
    if response is None:
        return Answer(None)
    return Answer(response.code, response.payload, response.content_format, response.size1, response=response)


def raw_answer(answers: list[codec.CoapDatagram]) -> Answer:
    if not answers:
        return Answer(None)
    last = answers[-1]
    if last.mtype == codec.RST:
        return Answer(None, reset=True)
    size1 = last.uint_option(codec.SIZE1)
    return Answer(last.code_text, last.payload, last.content_format, size1, token=last.token)
