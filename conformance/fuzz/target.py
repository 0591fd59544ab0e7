"""Running fuzz cases against an upper-EMA IUT through the reference peer, and the liveness oracle.

The target owns one ``LowerPeer`` (registered in pull mode, its server side started so that a case switching the
link to push mode gets conformant answers). Message cases go through the peer's client (its WireTap records them
into the test's trace); CoAP cases through a ``RawChannel`` to the same tap. After every case ``probe()`` sends a
known-good ``emapQueryRegistration`` and requires a correct answer (EMAP-6.2.2-03); it also re-synchronises the
live registration IDs (a case may have cancelled or replaced the registration) and re-registers when needed.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.messages import build as B
from conformance.peer import LowerPeer
from conformance.peer.base import parse_base_uri
from conformance.transport import codec

from . import oracle
from .cases import FuzzCase, resolve, slots_of
from .channel import RawChannel
from .mutations import payload_of
from .oracle import Answer, Expectation
from .strategies import expected_state_code

REQUEST_ID_SUFFIX = "~f"
HISTORY = 300
EXPERIMENTAL_OPTIONS = 65000  # RFC 7252 section 12.2: 65000-65535 are for experimental use


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
            try:
                message = oracle.validate(self.answer.payload, posted=False)
                code = message.response_code or (message.body.get("eiResponse") or {}).get("responseCode")
                return f"2.04/{code}" if code else f"2.04/{message.name}"
            except oracle.MessageError:
                return "2.04/invalid"
        return self.answer.code


class UpperTarget:
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
        problem = await self.probe()
        if problem:
            raise RuntimeError(f"the IUT is not usable for fuzzing: {problem}")

    async def stop(self) -> None:
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
        answer = _answer_of(posted.response)
        expect = oracle.application("emapQueryRegistration", {}, "EiRegisterParty", request_id=request_id,
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
            return f"liveness: re-registration was not accepted: {_answer_of(registered.response).describe()}"
        return None

    # -- cases -------------------------------------------------------------------------------------------------
    async def run(self, case: FuzzCase) -> Outcome:
        self.history.append(case)
        if case.kind == "coap":
            return await self._run_coap(case)
        envelope = _unique(resolve(case.envelope, self.ids), next(self._serial))
        payload = payload_of(envelope, case.mutation)
        expect = self._expect(case, payload)
        posted = await self.peer.post(case.resource, payload, expect_answer=False)
        answer = _answer_of(posted.response)
        return Outcome(case, payload, expect, answer, oracle.judge(expect, answer))

    def _expect(self, case: FuzzCase, payload: bytes) -> Expectation:
        message, _error = oracle.classify(payload)
        if message is None:
            return oracle.invalid_payload()
        expect = oracle.application(message.name, message.body, case.resource, request_id=_request_id(message),
                                    live_ven=self._from_live_ven(message), registered=self.peer.registered)
        if case.kind == "state" and expect.codes != {"459"}:
            return Expectation("app", expect.requirement, expect.names, frozenset({expected_state_code(case)}),
                               expect.echo, empty_ok=False)
        return expect

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
        data, expect = coap_datagram(case.coap, envelope, self._base_path, mid=mid, token=token,
                                     max_payload=self.max_payload, registered=self.peer.registered)
        wait = self.silence_s if expect.kind in ("silence", "rst") else self.peer.exchange_timeout
        answers = await self._channel.exchange(data, mid=mid, token=token, wait=wait)
        answer = _raw_answer(answers)
        return Outcome(case, data, expect, answer, oracle.judge(expect, answer))


def _request_id(message) -> str | None:
    return message.request_id


def _unique(envelope: dict, serial: int) -> dict:
    """Make the requestID of a request message unique (a repeat would be answered from the cache, 7.1.5-07)."""
    if not isinstance(envelope, dict) or len(envelope) != 1:
        return envelope
    (_name, body), = envelope.items()
    holder = body.get("eiRequestEvent") if isinstance(body, dict) and "eiRequestEvent" in body else body
    if isinstance(holder, dict) and isinstance(holder.get("requestID"), str):
        holder["requestID"] = f"{holder['requestID']}{REQUEST_ID_SUFFIX}{serial}"
    return envelope


def _answer_of(response) -> Answer:
    if response is None:
        return Answer(None)
    return Answer(response.code, response.payload, response.content_format, response.size1)


def _raw_answer(answers: list[codec.CoapDatagram]) -> Answer:
    if not answers:
        return Answer(None)
    last = answers[-1]
    if last.mtype == codec.RST:
        return Answer(None, reset=True)
    size1 = last.uint_option(codec.SIZE1)
    return Answer(last.code_text, last.payload, last.content_format, size1, token=last.token)


def coap_datagram(spec: dict, envelope: dict, base_path: tuple[str, ...], *, mid: int, token: bytes,
                  max_payload: int, registered: bool) -> tuple[bytes, Expectation]:
    """The datagram of a CoAP-level case built on a known-good query, and what the IUT must answer."""
    from conformance.messages import encode

    kind = spec["mutation"]
    value = spec.get("value")
    payload = encode(envelope)
    path = list(base_path) + ["EiRegisterParty"]
    method, ctype, extra, mtype = "POST", 50, [], codec.CON
    raw = {}
    request_id = envelope["emapQueryRegistration"]["requestID"]
    good = oracle.application("emapQueryRegistration", {}, "EiRegisterParty", request_id=request_id,
                              live_ven=True, registered=registered)
    expect = Expectation("app", "EMAP-7.1.4-05", good.names, good.codes, good.echo, token=token)
    if kind == "method":
        method, expect = value, _code("EMAP-7.1.4-01", "4.05")
    elif kind == "path":
        path[-1] = value
        expect = _code("EMAP-7.1.3-03", "4.04", diagnostic=True)
    elif kind == "extra-segment":
        path.append(value)
        expect = _code("EMAP-7.1.3-03", "4.04", diagnostic=True)
    elif kind == "content-format":
        ctype, expect = value, _code("EMAP-7.1.4-02", "4.15")
    elif kind == "accept":
        extra.append((codec.ACCEPT, codec.uint_bytes(value)))
        expect = _code("EMAP-7.1.4-03", "4.06")
    elif kind == "accept-json":
        extra.append((codec.ACCEPT, codec.uint_bytes(50)))
    elif kind == "query":
        extra += [(codec.URI_QUERY, q.encode("utf-8")) for q in value]
        expect = Expectation("app", "EMAP-7.1.3-04", good.names, good.codes, good.echo, token=token)
    elif kind == "elective-option":
        extra.append((EXPERIMENTAL_OPTIONS + 2 * spec["number"], bytes.fromhex(spec["value"])))
    elif kind == "critical-option":
        extra.append((EXPERIMENTAL_OPTIONS + 1 + 2 * spec["number"], bytes.fromhex(spec["value"])))
        expect = _code("EMAP-7.1.6-01", "4.02")
    elif kind == "token":
        token = bytes.fromhex(value)
        expect = Expectation("app", "EMAP-7.1.4-05", good.names, good.codes, good.echo, token=token)
    elif kind == "tkl":
        raw["tkl"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "version":
        raw["version"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "truncated":
        raw["truncate"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "marker-without-payload":
        payload, raw["payload_marker"] = b"", True
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "reserved-option-nibble":
        raw["append_options"] = bytes.fromhex(value)
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "empty-con":
        data = codec.encode(codec.CoapDatagram(codec.CON, 0, mid))
        return data, Expectation("rst", "EMAP-7.1.5-13")
    elif kind == "payload-bytes":
        at = min(spec["at"], len(payload))
        change = bytes.fromhex(value)
        payload = payload[:at] + change + payload[at + len(change):]
        message, _ = oracle.classify(payload)
        expect = oracle.invalid_payload() if message is None else oracle.application(
            message.name, message.body, "EiRegisterParty", request_id=message.request_id, live_ven=False,
            registered=registered)
    elif kind == "block1-single":
        szx = max(value, (len(payload) - 1).bit_length() - 4, 0)
        if len(payload) > 1024:
            szx = 6
        extra.append((codec.BLOCK1, codec.block_bytes(0, False, szx)))
    elif kind == "block1-gap":
        extra.append((codec.BLOCK1, codec.block_bytes(value, False, 6)))
        expect = _code("EMAP-7.1.5-10", "4.08")
    elif kind == "size1-over-limit":
        payload = (payload + b" " * 1024)[:1024]
        extra += [(codec.BLOCK1, codec.block_bytes(0, True, 6)), (codec.SIZE1, codec.uint_bytes(max_payload + value))]
        expect = Expectation("coap", "EMAP-7.1.5-10", codes=frozenset({"4.13"}), size1=max_payload)
    else:
        raise ValueError(f"unknown CoAP mutation {kind!r}")
    options = [(codec.URI_PATH, seg.encode("utf-8")) for seg in path] + extra
    if ctype is not None:
        options.append((codec.CONTENT_FORMAT, codec.uint_bytes(ctype)))
    dg = codec.CoapDatagram(mtype, codec.code_of(method), mid, token,
                            tuple(sorted(options, key=lambda o: o[0])), payload, raw.get("version", 1))
    if "append_options" in raw:
        data = codec.encode(dg, raw_options=codec.encode_options(dg.options) + raw["append_options"])
    else:
        data = codec.encode(dg, tkl=raw.get("tkl"), payload_marker=raw.get("payload_marker"))
    if "truncate" in raw:
        data = data[:raw["truncate"]]
    return data, expect


def _code(requirement: str, code: str, *, diagnostic: bool = False) -> Expectation:
    return Expectation("coap", requirement, codes=frozenset({code}), diagnostic=diagnostic)
