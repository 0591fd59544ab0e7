"""Shared helpers of the transport test cases (clause 7.1): applicability, the IUT as server or as requester,
messages that probe a resource without side effects, and judging helpers that read the trace.

Every judging helper raises ``Fail`` whose text starts with the requirement id and shows what was on the wire.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from conformance.messages import LOWER_RESOURCES, UPPER_RESOURCES, encode
from conformance.messages import build as B
from conformance.peer import IdSource
from conformance.peer.transport_probe import TransportProbe
from conformance.transport import Trace, codec
from conformance.verdict import Fail, Inconclusive

#: The IUT is a CoAP server the tester can POST to: an upper (or intermediate) EMA, or a push-mode lower EMA.
SERVER = 'role in ("upper", "intermediate") or (role == "lower" and mode == "push")'
UPPER = 'role in ("upper", "intermediate")'
LOWER_PUSH = 'role == "lower" and mode == "push"'
LOWER_PULL = 'role == "lower" and mode == "pull"'
#: The IUT sends requests the tester can fault: U pushing to a push-mode peer, or a lower EMA.
REQUESTER = 'role in ("upper", "intermediate", "lower")'
#: The IUT re-sends failed requests after T_BACKOFF (EMAP-7.1.5-05): U, or a push-mode L.
PUSH_REQUESTER = SERVER

JSON = 50
BLOCK_LIMIT = 1024
#: Response codes of Table 7.1-3 (EMAP-7.1.6-01).
TABLE_CODES = frozenset({"2.04", "2.31", "4.00", "4.01", "4.02", "4.03", "4.04", "4.05", "4.06", "4.08", "4.13",
                         "4.15", "5.00", "5.03"})


def fail(requirement: str, text: str) -> Fail:
    return Fail(f"{requirement}: {text}")


def describe(exchange) -> str:
    """One line: what an exchange carried and how it was answered."""
    if exchange is None:
        return "no such exchange on the wire"
    request = exchange.request
    head = f"{exchange.direction} {exchange.method or request.coap.code_text} {exchange.path} (#{request.seq})"
    if exchange.reset:
        return f"{head} -> RST"
    if exchange.response is None:
        return f"{head} got no response"
    answer = exchange.response_message
    payload = exchange.response_payload or b""
    if answer is not None:
        shown = f"{answer.name}" + (f" responseCode {answer.response_code}" if answer.response_code else "")
    elif payload:
        shown = f"{len(payload)}-byte payload {payload[:60]!r}"
    else:
        shown = "no payload"
    cf = exchange.response.coap.content_format
    return f"{head} -> {exchange.code} {shown}" + (f" (Content-Format {cf})" if cf is not None else "")


# -- the IUT as a CoAP server ------------------------------------------------------------------------------------
@dataclass
class ServerIut:
    """The IUT role the tester POSTs to: ``side`` "U" or "L", its base URI, a probe through a tap."""

    side: str
    base_uri: str
    probe: TransportProbe
    ids: IdSource
    ven_id: str | None = None  # a push-mode lower IUT's venID, when registered with the reference peer

    def path(self, resource: str) -> tuple[str, ...]:
        return self.probe.path(resource)

    @property
    def resources(self) -> tuple[str, ...]:
        return UPPER_RESOURCES if self.side == "U" else LOWER_RESOURCES

    def harmless(self) -> tuple[str, dict]:
        """A valid request the role accepts and answers with a response message, changing no state:
        U: ``emapQueryRegistration`` at EiRegisterParty; L: ``emapCancelReport`` of an unknown report request
        at EiReport (answered with an error responseCode)."""
        if self.side == "U":
            return "EiRegisterParty", B.query_registration(self.ids("q"))
        return "EiReport", B.cancel_report(self.ids("xr"), self.ven_id or self.ids("ven"), [self.ids("none")])

    def misplaced(self) -> tuple[str, dict]:
        """A valid message at a resource that does not accept it (EMAP-7.1.3-05): the harmless one at EiEvent."""
        return "EiEvent", self.harmless()[1]

    async def post(self, resource: str, envelope: dict | bytes, **kwargs):
        payload = envelope if isinstance(envelope, bytes) else encode(envelope)
        return await self.probe.request(self.path(resource), payload=payload, **kwargs)


async def cancel_registrations(server, trace) -> None:
    """Cancel every registration the probe's requests made at an upper IUT during the test (e.g. by a duplicate
    CON test), recorded outside the test's trace, so later tests find only their own lower EMAs registered."""
    probe_clients = set(server.probe.tap.client_ports())
    made = [ex.response_message.body for ex in trace.exchanges() if ex.direction == "to-iut"
            and ex.request.src in probe_clients and ex.response_message is not None
            and ex.response_message.name == "emapCreatedPartyRegistration"
            and ex.response_message.response_code == "200" and "registrationID" in ex.response_message.body]
    server.probe.tap.trace = Trace(f"{trace.test_id} cleanup")
    for body in {(b["registrationID"], b.get("venID")): b for b in made}.values():
        await server.post("EiRegisterParty", B.cancel_party_registration(server.ids("x"), body["registrationID"],
                                                                         body.get("venID")))


def padded(envelope: dict, size: int) -> bytes:
    """The message encoded and padded with JSON whitespace to exactly ``size`` bytes (same JSON value)."""
    body = encode(envelope)
    if len(body) > size:
        raise ValueError(f"message of {len(body)} bytes does not fit {size}")
    return body + b" " * (size - len(body))


async def block1_gap(server) -> tuple[codec.CoapDatagram | None, codec.CoapDatagram | None]:
    """Block 0 (more) and then the last block 2 of a 3000-byte Block1 transfer, block 1 left out, from one
    endpoint: the IUT's coded answers to each (RFC 7959: 2.31 Continue, then 4.08 for EMAP-7.1.5-10)."""
    resource, message = server.harmless()
    body = padded(message, 3000)
    probe = server.probe
    token = probe.next_token()
    blocks = [probe.datagram(server.path(resource), body[num * 1024:(num + 1) * 1024], token=token,
                             options=((codec.BLOCK1, codec.block_bytes(num, num < 2, 6)),)) for num in (0, 2)]
    replies = await probe.raw([codec.encode(b) for b in blocks], wait=probe.exchange_timeout)
    return coded(replies[0]), coded(replies[1])


def coded(replies: list[bytes]) -> codec.CoapDatagram | None:
    """The first reply carrying a response code."""
    for data in replies:
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            continue
        if dg.is_response:
            return dg
    return None


# -- judging responses -------------------------------------------------------------------------------------------
def answered(sent, requirement: str, what: str):
    """The exchange of a probe request that got a CoAP response; Fail when it got none."""
    exchange = sent.exchange
    if exchange is None or exchange.response is None or exchange.reset:
        raise fail(requirement, f"{what}: no CoAP response ({sent.error or describe(exchange)})")
    return exchange


def expect_code(sent, codes: str | tuple[str, ...], requirement: str, what: str):
    """The exchange of ``sent``; Fail unless it was answered with one of ``codes``."""
    codes = (codes,) if isinstance(codes, str) else codes
    exchange = answered(sent, requirement, what)
    if exchange.code not in codes:
        raise fail(requirement, f"{what}: expected {' or '.join(codes)}; wire: {describe(exchange)}")
    return exchange


def expect_message(sent, requirement: str, what: str, name: str | tuple[str, ...] | None = None):
    """2.04 with Content-Format 50 carrying a valid message (of ``name``); returns the message."""
    exchange = expect_code(sent, "2.04", requirement, what)
    message = exchange.response_message
    if message is None:
        raise fail(requirement, f"{what}: 2.04 without a valid message "
                                f"({exchange.response_message_error or 'empty'}); wire: {describe(exchange)}")
    if exchange.response.coap.content_format != JSON:
        raise fail(requirement, f"{what}: 2.04 carrying a message needs Content-Format 50; wire: {describe(exchange)}")
    names = (name,) if isinstance(name, str) else name
    if names is not None and message.name not in names:
        raise fail(requirement, f"{what}: expected {' or '.join(names)}; wire: {describe(exchange)}")
    return message


def expect_diagnostic(exchange, requirement: str, what: str) -> None:
    """A diagnostic payload: non-empty UTF-8 text, no Content-Format (RFC 7252 section 5.5.2)."""
    payload = exchange.response_payload or b""
    if not payload:
        raise fail(requirement, f"{what}: {exchange.code} must carry a diagnostic payload; wire: {describe(exchange)}")
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise fail(requirement, f"{what}: diagnostic payload is not UTF-8; wire: {describe(exchange)}") from None
    if exchange.response.coap.content_format is not None:
        raise fail(requirement, f"{what}: a diagnostic payload has no Content-Format; wire: {describe(exchange)}")


def iut_responses(trace) -> list:
    """Exchanges the tester started that the IUT answered with a code (its responses as a server)."""
    return [ex for ex in trace.exchanges() if ex.direction == "to-iut" and ex.response is not None]


def audit_codes(trace, requirement: str) -> None:
    """EMAP-7.1.6-01: every code the IUT answered is one of Table 7.1-3 (2.05 never, EMAP-7.1.4-04)."""
    for exchange in iut_responses(trace):
        if exchange.code not in TABLE_CODES:
            raise fail(requirement, f"code {exchange.code} is not in Table 7.1-3; wire: {describe(exchange)}")


def audit_messages_only_in_204(trace, requirement: str) -> None:
    """EMAP-7.1.6-02: no EMAP message in a response with any code other than 2.04."""
    for exchange in iut_responses(trace):
        if exchange.code not in ("2.04", "2.31") and exchange.response_message is not None:
            raise fail(requirement, f"an EMAP message in a {exchange.code} response; wire: {describe(exchange)}")


def audit_204_form(trace, requirement: str) -> None:
    """EMAP-7.1.4-04: a 2.04 carries a message with Content-Format 50, or nothing and no Content-Format."""
    for exchange in iut_responses(trace):
        if exchange.code == "2.05":
            raise fail(requirement, f"2.05 must not be used; wire: {describe(exchange)}")
        if exchange.code != "2.04":
            continue
        cf = exchange.response.coap.content_format
        if exchange.response_payload:
            if exchange.response_message is None or cf != JSON:
                raise fail(requirement, f"2.04 with a payload must carry a message in Content-Format 50 "
                                        f"({exchange.response_message_error or 'no message'}); "
                                        f"wire: {describe(exchange)}")
        elif cf is not None:
            raise fail(requirement, f"an empty 2.04 must have no Content-Format; wire: {describe(exchange)}")


# -- the IUT as a requester --------------------------------------------------------------------------------------
def iut_exchanges(trace, path_suffix: str | None = None) -> list:
    """Exchanges the IUT started, optionally only those to a path ending in ``path_suffix``."""
    return [ex for ex in trace.exchanges() if ex.direction == "from-iut"
            and (path_suffix is None or ex.path.endswith(path_suffix))]


def request_id_of(exchange) -> str | None:
    message = exchange.request_message
    return None if message is None else message.request_id


def failed_by_tap(exchange) -> bool:
    """Every transmission of the exchange was dropped or answered by the tap's fault plan."""
    return bool(exchange.transmissions) and all(r.fault for r in exchange.transmissions)


def first_faulted(trace, path_suffix: str, requirement: str):
    """The IUT's first exchange to ``path_suffix`` that the tap made fail; Inconclusive when none happened."""
    for exchange in iut_exchanges(trace, path_suffix):
        if exchange.request.fault:
            return exchange
    raise Inconclusive(f"{requirement}: the IUT sent no request to *{path_suffix} for the fault plan to act on")


def first_block(exchange) -> bytes:
    """The payload of the first (Block1) transmission of an exchange's request."""
    return exchange.request_blocks()[0].coap.payload


def same_message(a, b) -> bool:
    """Whether two IUT requests carry the same message: equal requestIDs when both decode, else (a Block1
    transfer that never completed has no decodable message) the same path and a common first-block prefix."""
    ra, rb = request_id_of(a), request_id_of(b)
    if ra is not None and rb is not None:
        return ra == rb
    fa, fb = first_block(a), first_block(b)
    n = min(len(fa), len(fb))
    return a.path == b.path and n >= 16 and fa[:n] == fb[:n]


def resends_of(trace, original) -> list:
    """Later exchanges of the IUT carrying the message of ``original`` again (new exchanges)."""
    return [ex for ex in iut_exchanges(trace) if ex.request.seq > original.request.seq and same_message(original, ex)]


def check_new_exchange(original, resend, requirement: str) -> None:
    """EMAP-7.1.5-03: the re-send is identical (same JSON value) in a new exchange (new Message ID and token)."""
    old, new = original.request.coap, resend.request.coap
    if new.mid == old.mid or new.token == old.token:
        raise fail(requirement, f"re-send #{resend.request.seq} reuses the Message ID or token of "
                                f"#{original.request.seq} (mid 0x{old.mid:04x}/0x{new.mid:04x}, token {old.token.hex()}/{new.token.hex()})")
    if original.request_message is not None and resend.request_message is not None \
            and original.request_message.envelope != resend.request_message.envelope:
        raise fail(requirement, f"re-send #{resend.request.seq} is not the identical message of "
                                f"#{original.request.seq}")


async def wait_until(predicate, timeout: float, step: float = 0.05):
    """Re-check ``predicate()`` (e.g. over the growing trace) until it returns something truthy or ``timeout``
    seconds pass; returns its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value or loop.time() >= deadline:
            return value
        await asyncio.sleep(min(step, max(0.0, deadline - loop.time())))


def retransmission_problems(times: list[float], params, tolerance: float, *, exhausted: bool = True) -> list[str]:
    """EMAP-7.1.5-01 against RFC 7252 section 4.2: transmissions of one CON at ``times`` (first transmission
    first), none acknowledged before the last. Expected: the first retransmission after T0 in [ACK_TIMEOUT,
    ACK_TIMEOUT x ACK_RANDOM_FACTOR], then T0 doubled each time, each bound +- ``tolerance``; with ``exhausted``
    (no ACK ever came) exactly MAX_RETRANSMIT retransmissions."""
    problems = []
    retransmissions = len(times) - 1
    if retransmissions > params.max_retransmit or exhausted and retransmissions != params.max_retransmit:
        problems.append(f"{retransmissions} retransmissions, expected MAX_RETRANSMIT = {params.max_retransmit}")
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    for index, gap in enumerate(gaps):
        low = params.ack_timeout * 2 ** index
        high = params.ack_timeout * params.ack_random_factor * 2 ** index
        if not low - tolerance <= gap <= high + tolerance:
            problems.append(f"retransmission {index + 1} came {gap:.3f} s after the previous transmission, "
                            f"outside [{low:g}, {high:g}] s (+- {tolerance:g} s)")
        if index and abs(gap - 2 * gaps[index - 1]) > tolerance:
            problems.append(f"timeout {index + 1} ({gap:.3f} s) is not double the previous "
                            f"({gaps[index - 1]:.3f} s) within {tolerance:g} s")
    return problems
