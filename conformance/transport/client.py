"""CoapClient: the peer's CoAP client over aiocoap, with every wait bounded.

aiocoap never times out NON requests nor CON requests that got an empty ACK, and a cancelled CON keeps blocking
later CONs to the same peer (NSTART = 1) until its retransmissions run out. So every request runs under
`asyncio.timeout`, a timed-out shared context is replaced, and `fresh=True` gives a request its own context.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import aiocoap
from aiocoap import Message
from aiocoap.messagemanager import MessageManager
from aiocoap.tokenmanager import TokenManager

from conformance.security.dtls import process_credentials

from .codec import code_of, code_text
from .params import TransmissionParams
from .trace import validate_payload


class TransportError(Exception):
    """The request got no CoAP response (network error, RST, timeout)."""


class TransportTimeout(TransportError):
    """No response within the allowed time."""


class TransportReset(TransportError):
    """The peer rejected the request with RST."""


_UNREAD = object()
#: Critical options a response may carry that the client understands: OSCORE, Block2, Block1.
RESPONSE_CRITICAL_UNDERSTOOD = frozenset({9, 23, 27})


class CoapResponse:
    """A response as the client returns it. `message` / `message_error`: its payload validated as an EMAP answer
    (`validate(posted=False)`; both None for an empty payload), done on first read unless given."""

    __slots__ = ("code", "payload", "content_format", "max_age", "size1", "_decoded")

    def __init__(self, code: str, payload: bytes, content_format: int | None = None, max_age: int | None = None,
                 size1: int | None = None, message: Any = _UNREAD, message_error: str | None = None):
        self.code, self.payload = code, payload
        self.content_format, self.max_age, self.size1 = content_format, max_age, size1
        self._decoded = None if message is _UNREAD else (message, message_error)  # None: not read yet

    def _validated(self) -> tuple[Any, str | None]:
        if self._decoded is None:
            self._decoded = validate_payload(self.payload, posted=False) if self.payload else (None, None)
        return self._decoded

    @property
    def message(self) -> Any:
        return self._validated()[0]

    @property
    def message_error(self) -> str | None:
        return self._validated()[1]

    @property
    def ok(self) -> bool:
        return self.code.startswith("2.")

    def __repr__(self) -> str:
        return f"CoapResponse({self.code} cf={self.content_format} {self.payload[:60]!r})"


def encode_payload(payload: bytes | str | dict | None) -> bytes | None:
    """Request body bytes: dicts become compact UTF-8 JSON, strings UTF-8."""
    if payload is None or isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _optional_int(value) -> int | None:
    return None if value is None else int(value)


def unrecognized_critical(msg: Message) -> list[int]:
    """The critical options of a response a client does not understand (all but OSCORE, Block2, Block1)."""
    return sorted({int(o.number) for o in msg.opt.option_list()
                   if int(o.number) % 2 and int(o.number) not in RESPONSE_CRITICAL_UNDERSTOOD})


def response_of(msg: Message) -> CoapResponse:
    return CoapResponse(code=code_text(int(msg.code)), payload=bytes(msg.payload),
                        content_format=_optional_int(msg.opt.content_format),
                        max_age=_optional_int(msg.opt.max_age), size1=_optional_int(msg.opt.size1))


async def new_context(credentials=None) -> aiocoap.Context:
    """A client context (``_new_context``) whose first Message ID and token are unpredictable."""
    return unpredictable_ids(await _new_context(credentials))


def unpredictable_ids(context: aiocoap.Context) -> aiocoap.Context:
    """Start ``context``'s Message IDs and tokens at random values (RFC 7252 sections 4.4, 5.3.1). aiocoap draws
    them from the global ``random``, which hypothesis seeds alike for every example: a context created during a
    fuzz case would repeat the IDs of one created in an earlier case and, on a reused port, be answered from the
    receiver's duplicate store (EMAP-7.1.5-02) without being executed."""
    for tokens in context.request_interfaces:
        if isinstance(tokens, TokenManager):
            tokens._token = secrets.randbelow(65536)
            messages = getattr(tokens, "token_interface", None)
            if isinstance(messages, MessageManager):
                messages.message_id = secrets.randbelow(65536)
    return context


async def _new_context(credentials=None) -> aiocoap.Context:
    """A client context: plain UDP (NoSec); with client credentials (clause 8) also ``coaps`` (DTLS-PSK) and
    OSCORE for the URIs the credentials name."""
    if credentials is None:
        return await aiocoap.Context.create_client_context(transports=["udp6"])
    context = await aiocoap.Context.create_client_context(transports=["oscore", "udp6", "tinydtls"])
    context.client_credentials = credentials
    return context


class CoapClient:
    """Create with `await CoapClient.create(params)`; close with `await client.close()`.

    After a timeout the shared aiocoap context is retired (a fresh one serves later requests) and shut down once
    its other in-flight requests have finished, so concurrent requests are not cut short."""

    def __init__(self, params: TransmissionParams, context: aiocoap.Context, credentials=None):
        self.params = params
        self.credentials = credentials
        self._context: aiocoap.Context | None = context
        self._inflight: dict[aiocoap.Context, int] = {}
        self._retired: set[aiocoap.Context] = set()
        self._remotes: dict[tuple[aiocoap.Context, object], object] = {}

    @classmethod
    async def create(cls, params: TransmissionParams | None = None, *, credentials=None) -> CoapClient:
        """``credentials``: an aiocoap client CredentialsMap for ``coaps`` URIs (``conformance.security``);
        default: the process's (``security.set_process_credentials``), None = NoSec only."""
        credentials = credentials if credentials is not None else process_credentials()
        return cls(params or TransmissionParams(), await new_context(credentials), credentials)

    async def request(self, uri: str, *, method: str = "POST", payload: bytes | str | dict | None = None,
                      content_format: int | None = 50, accept: int | None = None, timeout: float,
                      query=(), confirmable: bool = True, block_size_exp: int | None = None,
                      fresh: bool = False) -> CoapResponse:
        """Send one request and wait at most `timeout` seconds for its (block-wise reassembled) response."""
        body = encode_payload(payload)
        msg = Message(code=aiocoap.Code(code_of(method)), uri=uri, payload=body or b"",
                      transport_tuning=self.params.tuning(confirmable))
        if body is not None and content_format is not None:
            msg.opt.content_format = content_format
        if accept is not None:
            msg.opt.accept = accept
        if query:
            msg.opt.uri_query = tuple(msg.opt.uri_query) + tuple(query)
        if fresh:
            context = await new_context(self.credentials)
            try:
                return await self._send(context, msg, uri, timeout, block_size_exp)
            finally:
                await context.shutdown()
        if self._context is None:
            self._context = await new_context(self.credentials)
        context = self._context
        self._inflight[context] = self._inflight.get(context, 0) + 1
        try:
            return await self._send(context, msg, uri, timeout, block_size_exp,
                                    remotes=self._remotes if self.credentials is None else None)
        except TransportTimeout:
            self._retire(context)
            raise
        finally:
            self._inflight[context] -= 1
            await self._shutdown_idle_retired()

    def _retire(self, context: aiocoap.Context) -> None:
        """Stop using a context that may hold an unfinished CON exchange (NSTART = 1 would queue later CONs)."""
        if context is self._context:
            self._context = None
        self._retired.add(context)
        for key in [k for k in self._remotes if k[0] is context]:
            del self._remotes[key]

    async def _shutdown_idle_retired(self) -> None:
        for context in [c for c in self._retired if not self._inflight.get(c)]:
            self._retired.discard(context)
            self._inflight.pop(context, None)
            await context.shutdown()

    @staticmethod
    async def _send(context: aiocoap.Context, msg: Message, uri: str, timeout: float,
                    block_size_exp: int | None, remotes: dict | None = None) -> CoapResponse:
        """``remotes``: plain-CoAP remotes already resolved in ``context``, by URI authority; aiocoap would
        resolve the host of every request again (getaddrinfo in a worker thread)."""
        try:
            async with asyncio.timeout(timeout):
                if block_size_exp is not None:
                    await context.find_remote_and_interface(msg)
                    msg.remote.maximum_block_size_exp = block_size_exp
                elif remotes is not None:
                    key = (context, msg.remote)
                    if key in remotes:
                        msg.remote = remotes[key]
                    else:
                        await context.find_remote_and_interface(msg)
                        remotes[key] = msg.remote
                response = await context.request(msg).response
        except TimeoutError:
            raise TransportTimeout(f"no response from {uri} within {timeout:g} s") from None
        except aiocoap.error.TimeoutError:
            raise TransportTimeout(f"no acknowledgement from {uri}: retransmissions exhausted") from None
        except aiocoap.error.MessageError:
            raise TransportReset(f"{uri} answered with RST") from None
        except aiocoap.error.NetworkError as exc:
            cause = exc.__cause__ or exc
            raise TransportError(f"request to {uri} failed: {type(cause).__name__}: {cause}") from None
        unknown = unrecognized_critical(response)
        if unknown:  # RFC 7252 section 5.4.1: the response is rejected, the exchange has failed
            raise TransportError(f"response from {uri} rejected: unrecognized critical option {unknown[0]}")
        return response_of(response)

    async def close(self) -> None:
        """Shut down every context, including retired ones."""
        contexts = self._retired | ({self._context} if self._context is not None else set())
        self._context, self._retired, self._inflight, self._remotes = None, set(), {}, {}
        for context in contexts:
            await context.shutdown()

    async def __aenter__(self) -> CoapClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
