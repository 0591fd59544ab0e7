"""Clause-8 checks of an upper EMA (upper or intermediate IUT) under DTLS-PSK or OSCORE, and the ones shared
with a push-mode lower IUT (unprotected request, OSCORE replay), used by the TC-S-8 test cases and the suite's
own tests of the sample EMA. Each check raises ``Fail`` naming the requirement it finds broken.

Protected exchanges go straight from the peer's client to the IUT (a relay could only record ciphertext); each
exchange is noted in the test's trace instead (the OSCORE replay check relays and records its datagrams)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conformance.messages import build, encode
from conformance.security import LinkSecurity, client_credentials_map, process_credentials
from conformance.transport import codec
from conformance.transport.client import CoapClient, CoapResponse, TransportError
from conformance.transport.raw import raw_exchange
from conformance.transport.tap import WireTap
from conformance.transport.trace import TO_IUT, Trace
from conformance.verdict import Fail, Inconclusive

REGISTER = "EiRegisterParty"
POLL = "EmapPoll"


@dataclass
class SecureIut:
    """An IUT endpoint reached with the PIXIT credentials: ``base_uri`` is its ``coaps`` (DTLS-PSK) or ``coap``
    (OSCORE) base URI (an upper IUT's, or a push-mode lower IUT's transport address)."""

    base_uri: str
    link: LinkSecurity
    timeout: float
    trace: object = None
    seq: list = field(default_factory=lambda: [0])
    _credentials: dict = field(default_factory=dict)

    def request_id(self, what: str) -> str:
        self.seq[0] += 1
        return f"sec-{what}-{self.seq[0]}"

    async def post(
        self,
        resource: str,
        envelope: dict,
        *,
        identity: str | None = None,
        base_uri: str | None = None,
        protected: bool = True,
    ) -> CoapResponse:
        """POST ``envelope`` to ``base_uri`` (default: the IUT's), protected with the link's credentials
        presenting ``identity`` (DTLS-PSK; default: the peer's), or unprotected."""
        base = base_uri or self.base_uri
        credentials = self.credentials(base, identity) if protected else _no_credentials()
        client = await CoapClient.create(credentials=credentials)
        try:
            response = await client.request(f"{base}/{resource}", payload=envelope, timeout=self.timeout)
        except TransportError as exc:
            self.note(
                f"POST {base}/{resource} {next(iter(envelope))} as {identity or self.link.identity}: {exc}"
            )
            raise
        finally:
            await client.close()
        self.note(
            f"POST {base}/{resource} {next(iter(envelope))} as {identity or self.link.identity!r}: "
            f"{response.code} {response.payload[:200]!r}"
        )
        return response

    def credentials(self, base_uri: str, identity: str | None):
        """The client credentials towards ``base_uri`` presenting ``identity``, made once per pair."""
        key = (base_uri, identity)
        if key not in self._credentials:
            self._credentials[key] = self.link.client_credentials(base_uri, identity)
        return self._credentials[key]

    def note(self, text: str) -> None:
        if self.trace is not None:
            self.trace.note(text)

    async def registration_id(self, identity: str) -> str | None:
        """The registrationID the IUT holds for ``identity`` (emapQueryRegistration as that identity)."""
        response = await self.post(
            REGISTER, build.query_registration(self.request_id("q"), ven_id=identity), identity=identity
        )
        if response.code != "2.04" or response.message is None:
            raise Inconclusive(f"emapQueryRegistration as {identity!r} answered {response.code}")
        return response.message.body.get("registrationID")


def _no_credentials():
    """Client credentials of an unprotected request: None (plain CoAP), or an empty map when this process has
    credentials of its own (an EMA running in the same process) that a client would otherwise use."""
    return client_credentials_map() if process_credentials() is not None else None


def expect_refusal(response: CoapResponse, code: str, requirement: str, what: str) -> None:
    if response.code != code:
        raise Fail(f"{requirement}: {what} answered {response.code}, expected {code}")
    if response.content_format == 50 or response.message is not None:
        raise Fail(f"{requirement}: {what} answered {code} with an EMAP message; the binding allows none")


async def check_handshake(upper: SecureIut) -> None:
    """EMAP-8-01, EMAP-8-03: a DTLS 1.2 PSK handshake (TLS_PSK_WITH_AES_128_CCM_8 only) with the peer's
    identity completes (or, under OSCORE, a protected request is accepted) and the IUT answers an EMAP
    request."""
    try:
        response = await upper.post(
            REGISTER, build.query_registration(upper.request_id("hs"), ven_id=upper.link.identity)
        )
    except TransportError as exc:
        raise Fail(f"EMAP-8-03: no {upper.link.profile} exchange as {upper.link.identity!r}: {exc}") from None
    if response.code != "2.04" or response.message is None:
        raise Fail(
            f"EMAP-8-01: emapQueryRegistration under {upper.link.profile} answered {response.code}, "
            f"expected 2.04 with an EMAP message"
        )


async def check_identity_mismatch(upper: SecureIut) -> None:
    """EMAP-8-06: requests whose venID is not the authenticated identity are answered 4.03 without an EMAP
    message and without effect (the other lower EMA's registration is unchanged)."""
    forged = upper.link.other_identity or f"{upper.link.identity}-forged"
    other = upper.link.other_identity  # its own credentials: "no effect" is observable
    before = await upper.registration_id(forged) if other else None
    create = build.create_party_registration(upper.request_id("cr"), ven_id=forged)
    expect_refusal(
        await upper.post(REGISTER, create),
        "4.03",
        "EMAP-8-06",
        f"emapCreatePartyRegistration with venID {forged!r} from identity {upper.link.identity!r}",
    )
    expect_refusal(
        await upper.post(POLL, build.poll(forged)),
        "4.03",
        "EMAP-8-06",
        f"emapPoll with venID {forged!r} from identity {upper.link.identity!r}",
    )
    if other:
        after = await upper.registration_id(forged)
        if after != before:
            raise Fail(
                f"EMAP-8-06: the refused create changed {forged!r}'s registration ({before!r} -> {after!r})"
            )


async def check_unprotected_refused(
    iut: SecureIut, resource: str = REGISTER, envelope: dict | None = None
) -> None:
    """EMAP-8-08: an unprotected EMAP request (default: emapQueryRegistration) from a peer whose link is
    secured is answered 4.01: on the IUT's plain ``coap`` port (DTLS-PSK), on its base URI (OSCORE)."""
    target = iut.link.unprotected_uri or (iut.base_uri if iut.link.oscore else None)
    if not target:
        raise Inconclusive(
            "pixit.credentials.unprotected_uri not given: the IUT's plain coap port is unknown"
        )
    envelope = envelope or build.query_registration(iut.request_id("plain"), ven_id=iut.link.identity)
    try:
        response = await iut.post(resource, envelope, base_uri=target, protected=False)
    except TransportError:
        raise Fail(f"EMAP-8-08: no answer at {target}; the binding requires 4.01") from None
    expect_refusal(response, "4.01", "EMAP-8-08", f"an unprotected {next(iter(envelope))}")


async def check_plain_datagram_dropped(upper: SecureIut, wait: float) -> None:
    """EMAP-8-08: a plain CoAP request sent to the ``coaps`` port gets no CoAP answer (it is dropped)."""
    host, port = _address(upper.base_uri)
    path = [p for p in upper.base_uri.split("/", 3)[3].split("/") if p] + [REGISTER]
    payload = build.query_registration(upper.request_id("raw"), ven_id=upper.link.identity)
    datagram = codec.encode(
        codec.CoapDatagram(
            mtype=codec.CON,
            code=codec.code_of("POST"),
            mid=0x5EC1,
            token=b"\x5e\xc1",
            options=tuple((codec.URI_PATH, seg.encode()) for seg in path)
            + ((codec.CONTENT_FORMAT, b"\x32"),),
            payload=encode(payload),
        )
    )
    for reply in await raw_exchange((host, port), datagram, wait, trace=upper.trace):
        try:
            answer = codec.decode(reply)
        except codec.CodecError:
            continue  # a DTLS record (e.g. an alert) is not a CoAP answer
        raise Fail(
            f"EMAP-8-08: the coaps port answered a plain CoAP request with {codec.code_text(answer.code)}"
        )


def _address(uri: str) -> tuple[str, int]:
    parts = urlsplit(uri)
    return parts.hostname, parts.port or (5684 if parts.scheme == "coaps" else 5683)


async def check_oscore_replay(
    upper: SecureIut, wait: float, resource: str = REGISTER, envelope: dict | None = None
) -> None:
    """EMAP-8-09: a protected request (default: emapQueryRegistration) sent again with the same sequence
    number is answered 4.01 and not executed (RFC 8613 section 7.4)."""
    host, port = _address(upper.base_uri)
    trace = upper.trace if upper.trace is not None else Trace("oscore-replay")
    tap = await WireTap.start(target=(host, port), trace=trace, towards_target=TO_IUT)
    try:
        tap_host, tap_port = tap.address
        relayed = f"coap://{tap_host}:{tap_port}/{upper.base_uri.split('/', 3)[3]}"
        envelope = envelope or build.query_registration(upper.request_id("rp"), ven_id=upper.link.identity)
        first = await upper.post(resource, envelope, base_uri=relayed)
    finally:
        await tap.stop()
    if first.code != "2.04":
        raise Inconclusive(f"precondition: the protected {next(iter(envelope))} was answered {first.code}")
    sent = [r for r in trace.records if r.direction == TO_IUT and r.coap is not None and r.coap.is_request]
    replies = await raw_exchange((host, port), sent[-1].raw, wait, trace=upper.trace)
    codes = [codec.code_text(codec.decode(r).code) for r in replies if _decodes(r)]
    if "4.01" not in codes:
        raise Fail(
            f"EMAP-8-09: the replayed OSCORE request was answered {codes or 'with nothing'}, expected 4.01"
        )


def _decodes(data: bytes) -> bool:
    try:
        codec.decode(data)
    except codec.CodecError:
        return False
    return True


async def check_push_identity(upper: SecureIut, provoke, wait: float) -> None:
    """EMAP-8-05 (and EMAP-8-02): registered in push mode with a ``coaps`` transport address, the upper IUT
    pushes over DTLS-PSK presenting its vtnID (PIXIT ``iut_identity``) with the link's key; under OSCORE,
    registered with a ``coap`` address, it pushes protected with the link's context (EMAP-8-02).
    ``provoke(ven_id)`` makes the IUT push something to that lower EMA (e.g. the ``create-event``
    stimulus)."""
    from .lower_checks import PushTarget

    if upper.link.dtls and not upper.link.iut_identity:
        raise Inconclusive("pixit.credentials.iut_identity (the IUT's vtnID) not given")
    target = await PushTarget(upper.link).start(("127.0.0.1", 0))  # where the reference peer serves
    try:
        create = build.create_party_registration(
            upper.request_id("push"),
            pull=False,
            ven_id=upper.link.identity,
            transport_address=target.base_uri,
        )
        response = await upper.post(REGISTER, create)
        if response.code != "2.04" or response.message is None or response.message.response_code != "200":
            raise Inconclusive(
                f"precondition: push-mode registration answered {response.code} "
                f"{response.message.response_code if response.message else ''}"
            )
        await provoke(upper.link.identity)
        received = await target.first(wait)
    finally:
        await target.stop()
    if received.identity is None:
        raise Fail(f"EMAP-8-02: the IUT pushed an unprotected request on its {upper.link.profile} link")
    if upper.link.dtls and received.identity != upper.link.iut_identity:
        raise Fail(
            f"EMAP-8-05: the IUT pushed as PSK identity {received.identity!r}, expected its vtnID "
            f"{upper.link.iut_identity!r}"
        )
