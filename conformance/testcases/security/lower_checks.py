"""Clause-8 checks of a lower EMA (lower or intermediate IUT) under DTLS-PSK or OSCORE, shared by the TC-S-8
test cases and the suite's own tests of the sample EMA.

``SecureUpperStub`` serves as the lower IUT's upper EMA on the PIXIT ``peer`` address over the link's profile
(DTLS-PSK with the link's keys, or OSCORE with the peer's context of the link), just far enough to register
it: it answers the registration exchange and acknowledges everything else with the message its procedure
expects. It records each request with the identity the IUT authenticated as (None: unprotected)."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from conformance.messages import ValidMessage, build, encode, validate
from conformance.security import LinkSecurity
from conformance.transport.client import TransportError
from conformance.transport.server import CoapReply, CoapRequest, CoapServer
from conformance.verdict import Fail, Inconclusive

from .checks import SecureIut, expect_refusal

REGISTRATION_ID = "reg-sec-1"


@dataclass(frozen=True)
class Received:
    identity: str | None
    message: ValidMessage | None


async def serve_link(handler, link: LinkSecurity, address: tuple[str, int]) -> CoapServer:
    """A ``CoapServer`` for ``handler`` at ``address`` secured as ``link`` says: DTLS-PSK (``address`` is the
    ``coaps`` port) or OSCORE (the peer's side of the link's context)."""
    if link.oscore:
        return await CoapServer.start(handler, bind=address, oscore_credentials=link.server_credentials())
    return await CoapServer.start(handler, bind=address, psk_table=link.table)


def scheme_of(link: LinkSecurity) -> str:
    """The URI scheme of the link's profile (Table 8-1)."""
    return "coaps" if link.dtls else "coap"


class SecureUpperStub:
    """A minimal upper EMA over DTLS-PSK or OSCORE (identity ``link.identity`` = its vtnID)."""

    def __init__(self, link: LinkSecurity, poll_freq_s: float) -> None:
        self.link = link
        self.poll_freq_s = poll_freq_s
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()
        self._server: CoapServer | None = None
        self._ids = itertools.count(1)

    async def start(self, address: tuple[str, int]) -> SecureUpperStub:
        self._server = await serve_link(self._handle, self.link, address)
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self._server.address

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def next(self, name: str, timeout: float) -> Received:
        """The first request named ``name`` (already received or arriving within ``timeout``)."""

        def found():
            return next((r for r in self.received if r.message is not None and r.message.name == name), None)

        async with self._arrived:
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait_for(found)
            except TimeoutError:
                raise Inconclusive(
                    f"the IUT sent no {name} to the {self.link.profile} upper EMA within {timeout:g} s"
                ) from None
        return found()

    async def _handle(self, request: CoapRequest) -> CoapReply:
        try:
            message = validate(request.payload, posted=True)
        except Exception:
            message = None
        async with self._arrived:
            self.received.append(Received(request.identity, message))
            self._arrived.notify_all()
        reply = self._reply(message) if message is not None else None
        return CoapReply("2.04", encode(reply), 50) if reply else CoapReply("2.04")

    def _reply(self, message: ValidMessage) -> dict | None:
        vtn, ven = self.link.identity, message.body.get("venID") or self.link.iut_identity
        rid = message.request_id or f"stub-{next(self._ids)}"
        if message.name == "emapQueryRegistration":
            return build.created_party_registration(rid, vtn)
        if message.name == "emapCreatePartyRegistration":
            return build.created_party_registration(
                rid, vtn, registration_id=REGISTRATION_ID, ven_id=ven, poll_freq=self.poll_freq_s
            )
        if message.name == "emapRegisterReport":
            return build.registered_report(rid, ven)
        if message.name == "emapRequestEvent":
            return build.distribute_event(rid, vtn, [])
        return build.response(rid, ven_id=ven) if message.name == "emapPoll" else None


def check_client_identity(received: Received, link: LinkSecurity) -> None:
    """EMAP-8-02 (one profile per link): the lower IUT's request came protected as its link says; EMAP-8-04:
    over DTLS-PSK with its venID as PSK identity; under OSCORE (the context is bound to the IUT's venID,
    Table 8-1) with that venID in the message."""
    if received.identity is None:
        raise Fail(f"EMAP-8-02: the lower IUT sent an unprotected request on its {link.profile} link")
    ven_id = received.message.body.get("venID") if received.message else None
    if link.oscore:
        if link.iut_identity and ven_id not in (None, link.iut_identity):
            raise Fail(
                f"EMAP-8-02: venID {ven_id!r} under the OSCORE context bound to {link.iut_identity!r}"
            )
        return
    expected = link.iut_identity or ven_id
    if received.identity != expected:
        raise Fail(f"EMAP-8-04: PSK identity {received.identity!r}, expected the venID {expected!r}")


def check_announces_coaps(create: Received) -> str:
    """EMAP-8-02: a push-mode lower EMA on a DTLS-PSK link announces a ``coaps`` emapTransportAddress."""
    address = create.message.body.get("emapTransportAddress") or ""
    if not address.startswith("coaps://"):
        raise Fail(f"EMAP-8-02: emapTransportAddress {address!r} is not a coaps URI")
    return address


def announced_address(create: Received, link: LinkSecurity) -> str:
    """The push-mode lower IUT's emapTransportAddress, which must carry the link's scheme (EMAP-8-02)."""
    if link.dtls:
        return check_announces_coaps(create)
    address = create.message.body.get("emapTransportAddress") or ""
    if not address.startswith(f"{scheme_of(link)}://"):
        raise Inconclusive(f"emapTransportAddress {address!r} is not a {scheme_of(link)} URI ({link.profile})")
    return address


def distribute_event(lower: SecureIut) -> dict:
    """An ``emapDistributeEvent`` without events from the link's upper EMA: harmless to push to a lower IUT."""
    return build.distribute_event(lower.request_id("de"), lower.link.identity, [])


async def check_foreign_identity(lower: SecureIut) -> None:
    """EMAP-8-07: a push-mode lower IUT answers 4.03 (no EMAP message) an emapDistributeEvent whose vtnID
    differs from the authenticated identity, and a request from an identity other than its upper EMA's vtnID
    (DTLS-PSK: the IUT's own venID ``iut_identity`` with the link's key; OSCORE: ``other_identity``, whose
    context the IUT holds too; without such an identity that half is not checked)."""
    forged = build.distribute_event(lower.request_id("de"), f"{lower.link.identity}-forged", [])
    await _refused(
        lower,
        lower.link.identity,
        forged,
        f"emapDistributeEvent with vtnID {lower.link.identity + '-forged'!r} from identity "
        f"{lower.link.identity!r}",
    )
    foreign = lower.link.other_identity if lower.link.oscore else lower.link.iut_identity
    if foreign:
        await _refused(
            lower, foreign, distribute_event(lower), f"emapDistributeEvent from identity {foreign!r} (not the vtnID)"
        )
    elif lower.link.dtls:
        raise Inconclusive("pixit.credentials.iut_identity not given: no second identity the IUT would accept")


async def _refused(lower: SecureIut, identity: str, envelope: dict, what: str) -> None:
    try:
        response = await lower.post("EiEvent", envelope, identity=identity)
    except TransportError as exc:
        raise Inconclusive(
            f"{what}: no {lower.link.profile} exchange ({exc}); the binding expects a 4.03 answer"
        ) from None
    expect_refusal(response, "4.03", "EMAP-8-07", what)


class PushTarget:
    """A push-mode lower EMA's endpoint over DTLS-PSK or OSCORE that records what the upper IUT sends
    (answering empty 2.04), for EMAP-8-05 and EMAP-8-02."""

    def __init__(self, link: LinkSecurity) -> None:
        self.link = link
        self.received: list[Received] = []
        self._arrived = asyncio.Event()
        self._server: CoapServer | None = None

    async def start(self, address: tuple[str, int]) -> PushTarget:
        self._server = await serve_link(self._handle, self.link, address)
        return self

    @property
    def base_uri(self) -> str:
        host, port = self._server.address
        return f"{scheme_of(self.link)}://{host}:{port}/emapl"

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def first(self, timeout: float) -> Received:
        try:
            async with asyncio.timeout(timeout):
                await self._arrived.wait()
        except TimeoutError:
            raise Inconclusive(
                f"the IUT pushed nothing to the {scheme_of(self.link)} transport address within {timeout:g} s"
            ) from None
        return self.received[0]

    async def _handle(self, request: CoapRequest) -> CoapReply:
        try:
            message = validate(request.payload, posted=True)
        except Exception:
            message = None
        self.received.append(Received(request.identity, message))
        self._arrived.set()
        return CoapReply("2.04")
