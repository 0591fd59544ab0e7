"""Role-neutral base of the reference peer: client through a WireTap, a server side, request IDs.

A peer talks to one IUT role. Everything it sends and receives crosses a ``WireTap`` that records into the current
test's ``Trace``:

- client side: ``post()`` sends a Confirmable POST to ``<IUT base URI>/<resource>`` via a tap whose target is the
  IUT (records direction "to-iut" for the peer's requests, "from-iut" for the answers);
- server side (``serve()``): a ``CoapServer`` behind a second tap whose target is that server; the IUT is given the
  tap's address (``base_uri``), so its requests are recorded as "from-iut". The role subclass answers them in
  ``answer_request()``; every request that reached it is also put in the inbox for the test to await.

On a secured link (``credentials``: a ``LinkSecurity`` with DTLS-PSK or OSCORE, clause 8) a relay could only record
ciphertext: the client then talks to the IUT directly and the server serves the IUT directly (DTLS-PSK with the
link's keys), and every protected exchange is noted in the trace (``Trace.note``) instead of recorded datagram by
datagram (docs/security.md).

Verdicts are never computed here: tests judge the trace. Helpers only drive the exchange.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.messages import RESOURCES, MessageError, ValidMessage, encode, validate
from conformance.messages import build as B
from conformance.peer.ids import IdSource
from conformance.transport import (
    CoapClient,
    CoapReply,
    CoapServer,
    TransmissionParams,
    TransportTimeout,
    WireTap,
    codec,
)
from conformance.transport.tap import DatagramEndpoint, format_address

JSON = 50


class PeerError(RuntimeError):
    """The peer could not do what the test asked (bad URI, IUT unreachable); a suite-side problem."""


@dataclass(frozen=True)
class Posted:
    """One POST the peer made: what was sent (exact bytes) and the transport's answer (None: no answer in time)."""

    resource: str
    payload: bytes
    envelope: dict | None
    response: object | None  # conformance.transport.CoapResponse

    @property
    def code(self) -> str | None:
        return None if self.response is None else self.response.code

    @property
    def message(self) -> ValidMessage | None:
        """The EMAP message of the answer, for driving the test only (verdicts come from the trace)."""
        return None if self.response is None else self.response.message


@dataclass(frozen=True)
class Inbound:
    """A request the IUT sent to the peer's server side."""

    resource: str
    message: ValidMessage | None
    error: str | None
    remote: str
    t: float  # trace time (Trace.elapsed()) when it reached the peer


def parse_base_uri(uri: str) -> tuple[str, int, tuple[str, ...]]:
    """``coap[s]://host[:port]/base/path`` -> (host, port, path segments); PeerError naming the URI otherwise."""
    try:
        parts = urlsplit(uri)
        port = parts.port or (5684 if parts.scheme == "coaps" else 5683)
    except ValueError as exc:
        raise PeerError(f"IUT base URI {uri!r}: {exc}") from None
    if parts.scheme not in ("coap", "coaps") or not parts.hostname:
        raise PeerError(f"IUT base URI {uri!r}: need coap[s]://host[:port]/base-path")
    path = tuple(seg for seg in parts.path.split("/") if seg)
    if not path:
        raise PeerError(f"IUT base URI {uri!r}: has no base path")
    return parts.hostname, port, path


def _uri(host: str, port: int, path: tuple[str, ...], scheme: str = "coap") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}" + "".join("/" + seg for seg in path)


class Inbox:
    """Requests received from the IUT, awaited by predicate with a bounded wait."""

    def __init__(self):
        self.items: list[Inbound] = []
        self._taken: set[int] = set()
        self._changed = asyncio.Condition()

    async def put(self, item: Inbound) -> None:
        async with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    async def take(self, predicate, timeout: float) -> Inbound | None:
        """The oldest not yet taken item matching ``predicate``, waiting at most ``timeout`` s; else None."""
        deadline = time.monotonic() + max(0.0, timeout)
        async with self._changed:
            while True:
                for index, item in enumerate(self.items):
                    if index not in self._taken and predicate(item):
                        self._taken.add(index)
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass


class PeerBase:
    """Shared machinery of ``LowerPeer`` and ``UpperPeer``.

    ``side`` is the role the peer plays ("L" or "U"); ``target`` the IUT base URI it POSTs to (may be None for a
    peer that only serves). ``timing`` is the profile's ``Timing``. ``credentials``: the link's ``LinkSecurity``
    (``conformance.security``; None or NoSec: plain CoAP through the taps).
    """

    side = "?"

    def __init__(self, *, trace, timing, target: str | None, ids: IdSource | None = None,
                 serve_path: tuple[str, ...] = ("emap",), credentials=None):
        self.security = credentials
        self.trace = trace
        self.timing = timing
        self.ids = ids or IdSource()
        self.target = target
        self.serve_path = serve_path
        self.inbox = Inbox()
        self.params = TransmissionParams(ack_timeout=timing.ack_timeout_s,
                                         ack_random_factor=timing.ack_random_factor,
                                         max_retransmit=timing.max_retransmit)
        self._client = None
        self._client_tap = None
        self._server = None
        self._server_tap = None
        self._target_path: tuple[str, ...] = ()
        self.base_uri: str | None = None  # the peer's own base URI (server side, through its tap)
        self.served_at: str | None = None  # "host:port" the trace shows as destination of the IUT's requests

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def secured(self) -> bool:
        """True on a DTLS-PSK or OSCORE link: exchanges bypass the taps and are noted in the trace."""
        return self.security is not None and (self.security.dtls or self.security.oscore)

    async def start(self) -> None:
        """Open the client side (tap towards the IUT, or straight to it on a secured link); idempotent."""
        if self._client is not None or self.target is None:
            return
        host, port, self._target_path = parse_base_uri(self.target)
        if self.secured:
            self._client = await CoapClient.create(self.params,
                                                   credentials=self.security.client_credentials(self.target))
            return
        self._client_tap = await WireTap.start(target=(host, port), trace=self.trace, towards_target="to-iut")
        self._client = await CoapClient.create(self.params)

    async def serve(self) -> str:
        """Start the server side (idempotent); returns the base URI the IUT must use (through the tap)."""
        return await self.serve_at(("127.0.0.1", 0))

    async def serve_at(self, listen: tuple[str, int]) -> str:
        """Start the server side (idempotent) with the address the IUT uses at ``listen`` (port 0: any free
        one): the server's tap listens there; on a DTLS-PSK link the server itself (the link's keys); on an
        OSCORE link the server itself too (a relay could only record ciphertext), behind aiocoap's OSCORE
        wrapper with the peer's side of the link's context, the one its requests use too (EMAP-8-02): replays
        and unprotected requests are answered 4.01 (EMAP-8-09, EMAP-8-08)."""
        if self._server is not None:
            return self.base_uri
        if self.security is not None and self.security.oscore:
            self._server = await CoapServer.start(self._handle, bind=listen, params=self.params,
                                                  oscore_credentials=self.security.server_credentials())
            host, port = self._server.address[:2]
            self.base_uri = _uri(host, port, self.serve_path)
        elif self.secured:
            self._server = await CoapServer.start(self._handle, bind=listen, params=self.params,
                                                  psk_table=self.security.table)
            host, port = self._server.address[:2]
            self.base_uri = _uri(host, port, self.serve_path, "coaps")
        else:
            self._server = await CoapServer.start(self._handle, bind=("127.0.0.1", 0),
                                                  params=self.params)
            self._server_tap = await WireTap.start(target=self._server.address, trace=self.trace,
                                                   listen=listen, towards_target="from-iut")
            host, port = self._server_tap.address[:2]
            self.base_uri = _uri(host, port, self.serve_path)
        self.served_at = format_address(self._server.address)
        return self.base_uri

    async def stop(self) -> None:
        """Close everything this peer opened (always call, e.g. in a fixture's teardown)."""
        for closer in (self._client and self._client.close, self._server and self._server.stop,
                       self._client_tap and self._client_tap.stop, self._server_tap and self._server_tap.stop):
            if closer is not None:
                await closer()
        self._client = self._client_tap = self._server = self._server_tap = None

    def use_trace(self, trace) -> None:
        """Record into ``trace`` from now on (e.g. a scratch trace for clean-up traffic after the verdict)."""
        self.trace = trace
        for tap in (self._client_tap, self._server_tap):
            if tap is not None:
                tap.trace = trace

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    # -- timing ----------------------------------------------------------------------------------------------
    @property
    def prompt(self) -> float:
        """T_PROMPT plus the measurement tolerance: the bound of every "within T_PROMPT" check."""
        return self.timing.t_prompt_s + self.timing.tolerance_s

    @property
    def exchange_timeout(self) -> float:
        """How long a POST may take before the peer gives up: MAX_TRANSMIT_WAIT plus tolerance."""
        return self.timing.max_transmit_wait + self.timing.tolerance_s

    # -- client side -----------------------------------------------------------------------------------------
    def resource_uri(self, resource: str) -> str:
        if self._client_tap is None:  # secured link: straight to the IUT
            return self.target.rstrip("/") + "/" + resource
        host, port = self._client_tap.address[:2]
        return _uri(host, port, self._target_path + (resource,))

    async def post(self, resource: str, message: dict | bytes, *, timeout: float | None = None,
                   content_format: int | None = JSON, accept: int | None = None, method: str = "POST",
                   fresh: bool = False, expect_answer: bool = True) -> Posted:
        """POST ``message`` (an envelope dict, or raw bytes) to the IUT's ``resource`` through the tap.

        Returns a ``Posted``; with ``expect_answer`` False a missing answer gives ``response`` None instead of a
        PeerError (for tests where silence is an outcome to judge).
        """
        await self.start()
        payload = message if isinstance(message, bytes) else encode(message)
        envelope = None if isinstance(message, bytes) else message
        wait = self.exchange_timeout if timeout is None else timeout
        uri = self.resource_uri(resource)
        try:
            response = await self._client.request(uri, method=method, payload=payload,
                                                  content_format=content_format, accept=accept, timeout=wait,
                                                  fresh=fresh)
        except TransportTimeout:
            if self.secured:
                self._note_protected(f"{method} {uri}", payload, None)
            if expect_answer:
                raise PeerError(f"no answer from the IUT to a POST to {resource} within {wait:.1f} s") from None
            response = None
        else:
            if self.secured:
                self._note_protected(f"{method} {uri}", payload, response)
        return Posted(resource, payload, envelope, response)

    def _note_protected(self, what: str, payload: bytes, answer) -> None:
        """On a secured link (callers check ``secured``), the exchange as the peer saw it (no datagram was
        recorded); ``answer``: the response or reply (``.code``, ``.payload``), None for no answer."""
        outcome = "no answer" if answer is None else f"{answer.code} {answer.payload[:300]!r}"
        self.trace.note(f"{self.security.profile} {what} {payload[:300]!r} -> {outcome}")

    def request_datagram(self, resource: str, message: dict, *, mid: int, token: bytes) -> bytes:
        """A CON POST datagram carrying ``message`` to the IUT's ``resource`` (for duplicate-CON tests)."""
        path = "/" + "/".join(self._target_path + (resource,))
        return codec.encode(codec.request("POST", path, mid=mid, token=token, payload=encode(message),
                                          content_format=JSON))

    async def send_raw(self, datagrams: list[bytes], *, timeout: float | None = None) -> list[bytes | None]:
        """Send crafted datagrams one at a time from ONE socket through the client tap (so the IUT sees one
        endpoint, as for a retransmission); for each, the first response datagram with a response code
        (piggy-backed, or a separate response, which is acknowledged), or None after ``timeout``."""
        if self.secured:
            raise PeerError("crafted datagrams need a NoSec link (a secured link carries no plain datagrams)")
        await self.start()
        wait = self.exchange_timeout if timeout is None else timeout
        replies: asyncio.Queue = asyncio.Queue()
        endpoint = None

        def on_datagram(data: bytes, _addr) -> None:
            try:
                dg = codec.decode(data)
            except codec.CodecError:
                return
            if dg.mtype == codec.CON:
                endpoint.send(codec.encode(codec.empty_ack_for(dg)))
            if dg.is_response:
                replies.put_nowait(data)

        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(lambda: DatagramEndpoint(on_datagram, lambda exc: None),
                                                          remote_addr=self._client_tap.address[:2])
        answers: list[bytes | None] = []
        try:
            for data in datagrams:
                endpoint.send(data)
                try:
                    answers.append(await asyncio.wait_for(replies.get(), wait))
                except TimeoutError:
                    answers.append(None)
        finally:
            await endpoint.close()
        return answers

    # -- server side -----------------------------------------------------------------------------------------
    async def answer_request(self, resource: str, message: ValidMessage) -> dict | None:
        """The role's answer to a valid request the IUT POSTed at an accepting resource (envelope or None)."""
        raise NotImplementedError

    async def _handle(self, request) -> CoapReply:
        """Serve one request of the IUT like a conformant EMA would (EMAP-7.1.4-05 order, then the role)."""
        path = tuple(request.path)
        resource = path[-1] if len(path) == len(self.serve_path) + 1 else None
        if path[:-1] != self.serve_path or (self.side, resource) not in RESOURCES:
            return CoapReply(code="4.04", payload=b"no such EMAP resource")
        if self.secured and request.identity is None:
            return CoapReply(code="4.01", payload=b"unprotected request on a secured link (EMAP-8-08)")
        if request.method != "POST":
            return CoapReply(code="4.05")
        if request.content_format != JSON:
            return CoapReply(code="4.15")
        if request.accept not in (None, JSON):
            return CoapReply(code="4.06")
        try:
            message = validate(request.payload, posted=True)
        except MessageError as exc:
            await self.inbox.put(Inbound(resource, None, str(exc), request.remote, self.trace.elapsed()))
            return CoapReply(code="4.00", payload=str(exc).encode())
        await self.inbox.put(Inbound(resource, message, None, request.remote, self.trace.elapsed()))
        if message.name not in RESOURCES[(self.side, resource)]:
            answer = B.response(message.request_id or "", code="459", ven_id=self.ven_id_for_response(),
                                description=f"{message.name} is not accepted at {resource}")
        else:
            answer = await self.answer_request(resource, message)
        if answer is None:
            reply = CoapReply(code="2.04")
        else:
            reply = CoapReply(code="2.04", payload=encode(answer), content_format=JSON)
        if self.secured:
            self._note_protected(f"{request.method} /{'/'.join(path)} from {request.remote} as "
                                 f"{request.identity!r}", request.payload, reply)
        return reply

    def ven_id_for_response(self) -> str | None:
        """The venID the peer puts in an ``emapResponse`` it sends (role-specific)."""
        return None

    async def answered(self, item: Inbound, *, timeout: float | None = None) -> bool:
        """Wait until the peer's answer to ``item`` has left through the tap (seen in the trace), so the IUT
        has it before the peer's next request; False when it did not within ``timeout``."""
        if self.secured:  # no datagrams recorded: the handler has returned, aiocoap sends the answer at once
            await asyncio.sleep(0)
            return True
        deadline = time.monotonic() + (self.exchange_timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            for record in reversed(self.trace.records):
                if record.direction == "to-iut" and record.src == self.served_at and record.coap is not None \
                        and record.coap.is_response and record.coap.code_text != "2.31" and record.t >= item.t:
                    return True
            await asyncio.sleep(0.01)
        return False

    async def next_request(self, name: str | tuple[str, ...] | None = None, *, timeout: float) -> Inbound | None:
        """The oldest unconsumed request of ``name`` the IUT sent to the server side, waiting at most ``timeout``."""
        names = (name,) if isinstance(name, str) else name
        return await self.inbox.take(
            lambda item: names is None or (item.message is not None and item.message.name in names), timeout)
