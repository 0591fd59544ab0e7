"""Clause-8 checks of a lower EMA (lower or intermediate IUT) under DTLS-PSK, shared by the TC-S-8 test cases
and the suite's own tests of the sample EMA.

``DtlsUpperStub`` serves as the lower IUT's upper EMA on the PIXIT ``peer`` address over DTLS-PSK, just far
enough to register it: it answers the registration exchange and acknowledges everything else with the
message its procedure expects. It records each request with the PSK identity the IUT presented."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from conformance.messages import ValidMessage, build, encode, validate
from conformance.security import LinkSecurity
from conformance.transport.client import CoapClient, TransportError
from conformance.transport.server import CoapReply, CoapRequest, CoapServer
from conformance.verdict import Fail, Inconclusive

from .checks import expect_refusal

REGISTRATION_ID = "reg-sec-1"


@dataclass(frozen=True)
class Received:
    identity: str | None
    message: ValidMessage | None


class DtlsUpperStub:
    """A minimal upper EMA over DTLS-PSK (identity ``link.identity`` = its vtnID)."""

    def __init__(self, link: LinkSecurity, poll_freq_s: float) -> None:
        self.link = link
        self.poll_freq_s = poll_freq_s
        self.received: list[Received] = []
        self._arrived = asyncio.Condition()
        self._server: CoapServer | None = None
        self._ids = itertools.count(1)

    async def start(self, address: tuple[str, int]) -> DtlsUpperStub:
        self._server = await CoapServer.start(self._handle, bind=address, psk_table=self.link.table)
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
                    f"the IUT sent no {name} to the DTLS-PSK upper EMA within {timeout:g} s"
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
    """EMAP-8-04 (and EMAP-8-02: one profile per link): the lower IUT's request came over DTLS-PSK with its
    venID as PSK identity."""
    if received.identity is None:
        raise Fail("EMAP-8-02: the lower IUT sent an unprotected request on its DTLS-PSK link")
    expected = link.iut_identity or (received.message.body.get("venID") if received.message else None)
    if received.identity != expected:
        raise Fail(f"EMAP-8-04: PSK identity {received.identity!r}, expected the venID {expected!r}")


def check_announces_coaps(create: Received) -> str:
    """EMAP-8-02: a push-mode lower EMA on a DTLS-PSK link announces a ``coaps`` emapTransportAddress."""
    address = create.message.body.get("emapTransportAddress") or ""
    if not address.startswith("coaps://"):
        raise Fail(f"EMAP-8-02: emapTransportAddress {address!r} is not a coaps URI")
    return address


async def check_foreign_identity(base_uri: str, link: LinkSecurity, timeout: float) -> None:
    """EMAP-8-07: a push-mode lower IUT answers 4.03 (no EMAP message) a request from an identity other than
    its upper EMA's vtnID, and an emapDistributeEvent whose vtnID differs from the authenticated identity."""
    if not link.iut_identity:
        raise Inconclusive(
            "pixit.credentials.iut_identity not given: no second identity the IUT would accept"
        )
    event = build.distribute_event("sec-de-1", link.identity, [])
    await _refused(
        base_uri,
        link,
        link.iut_identity,
        event,
        timeout,
        f"emapDistributeEvent from identity {link.iut_identity!r} (not the vtnID)",
    )
    forged = build.distribute_event("sec-de-2", f"{link.identity}-forged", [])
    await _refused(
        base_uri,
        link,
        link.identity,
        forged,
        timeout,
        f"emapDistributeEvent with vtnID {link.identity + '-forged'!r} from identity {link.identity!r}",
    )


async def _refused(
    base_uri: str, link: LinkSecurity, identity: str, envelope: dict, timeout: float, what: str
) -> None:
    client = await CoapClient.create(credentials=link.client_credentials(base_uri, identity))
    try:
        response = await client.request(f"{base_uri}/EiEvent", payload=envelope, timeout=timeout)
    except TransportError as exc:
        raise Inconclusive(f"{what}: no DTLS exchange ({exc}); the binding expects a 4.03 answer") from None
    finally:
        await client.close()
    expect_refusal(response, "4.03", "EMAP-8-07", what)


class PushTarget:
    """A push-mode lower EMA's endpoint over DTLS-PSK that records what the upper IUT sends (answering empty
    2.04), for EMAP-8-05."""

    def __init__(self, link: LinkSecurity) -> None:
        self.link = link
        self.received: list[Received] = []
        self._arrived = asyncio.Event()
        self._server: CoapServer | None = None

    async def start(self, address: tuple[str, int]) -> PushTarget:
        self._server = await CoapServer.start(self._handle, bind=address, psk_table=self.link.table)
        return self

    @property
    def base_uri(self) -> str:
        host, port = self._server.address
        return f"coaps://{host}:{port}/emapl"

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
                f"the IUT pushed nothing to the coaps transport address within {timeout:g} s"
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
