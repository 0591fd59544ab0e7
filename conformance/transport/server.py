"""CoapServer: an aiocoap UDP server that hands every request (any path, any method) to one async handler.

aiocoap reassembles Block1 requests and serves Block2 responses; the handler decides everything else (4.04, 4.05,
4.15, ...). A handler that raises is answered 5.00 by aiocoap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiocoap
import aiocoap.resource
from aiocoap import Message

from conformance.security.dtls import authenticated_identity, free_port_pair
from conformance.security.oscore import protected_site

from .codec import METHODS, code_of, code_text
from .params import TransmissionParams
from .ports import unshared_port
from .tap import format_address


@dataclass(frozen=True)
class CoapRequest:
    method: str
    path: tuple[str, ...]
    payload: bytes
    content_format: int | None
    accept: int | None
    query: tuple[str, ...]
    remote: str
    block1: tuple[int, bool, int] | None = None
    confirmable: bool = True
    size1: int | None = None
    identity: str | None = None
    """PSK identity of a DTLS-protected request, or the identity an OSCORE context is bound to (clause 8);
    None when unprotected."""


@dataclass(frozen=True)
class CoapReply:
    code: str = "2.04"
    payload: bytes = b""
    content_format: int | None = None
    max_age: int | None = None
    size1: int | None = None


Handler = Callable[[CoapRequest], Awaitable[CoapReply]]
EarlyHandler = Callable[[CoapRequest], Awaitable[CoapReply | None]]


def _remote_text(remote) -> str:
    sockaddr = getattr(remote, "sockaddr", None)
    if sockaddr is not None:
        return format_address(sockaddr)
    return str(getattr(remote, "hostinfo", remote))


def request_of(msg: Message) -> CoapRequest:
    code = int(msg.code)
    block1 = msg.opt.block1
    return CoapRequest(
        method=METHODS.get(code, code_text(code)),
        path=tuple(msg.opt.uri_path),
        payload=bytes(msg.payload),
        content_format=None if msg.opt.content_format is None else int(msg.opt.content_format),
        accept=None if msg.opt.accept is None else int(msg.opt.accept),
        query=tuple(msg.opt.uri_query),
        remote=_remote_text(msg.remote),
        block1=None if block1 is None else (block1.block_number, bool(block1.more), block1.size_exponent),
        confirmable=msg.mtype == aiocoap.CON,
        size1=None if msg.opt.size1 is None else int(msg.opt.size1),
        identity=authenticated_identity(msg.remote),
    )


def message_of(reply: CoapReply, params: TransmissionParams | None) -> Message:
    response = Message(code=aiocoap.Code(code_of(reply.code)), payload=reply.payload)
    if reply.content_format is not None:
        response.opt.content_format = reply.content_format
    if reply.max_age is not None:
        response.opt.max_age = reply.max_age
    if reply.size1 is not None:
        response.opt.size1 = reply.size1
    if params is not None:
        response.transport_tuning = params.tuning(None)
    return response


class _Dispatch(aiocoap.resource.Resource):
    """Root resource: all paths and methods go to the handler (block-wise assembly by aiocoap)."""

    def __init__(self, handler: Handler, params: TransmissionParams | None, first_block: EarlyHandler | None):
        super().__init__()
        self.handler = handler
        self.params = params
        self.first_block = first_block

    async def render_to_pipe(self, pipe) -> None:
        request = pipe.request
        block1 = request.opt.block1
        if self.first_block is not None and block1 is not None and block1.block_number == 0 and block1.more:
            reply = await self.first_block(request_of(request))
            if reply is not None:
                pipe.add_response(message_of(reply, self.params), is_last=True)
                return
        await super().render_to_pipe(pipe)

    async def render(self, request: Message) -> Message:
        return message_of(await self.handler(request_of(request)), self.params)


def bound_port(context: aiocoap.Context) -> int:
    """The UDP port an aiocoap server context actually bound (for port 0)."""
    for interface in context.request_interfaces:
        message_interface = getattr(getattr(interface, "token_interface", None), "message_interface", None)
        transport = getattr(message_interface, "transport", None)
        if transport is not None:
            return transport.get_extra_info("socket").getsockname()[1]
    raise RuntimeError("aiocoap context has no UDP transport")


async def create_dtls_server_context(site, bind: tuple[str, int], psk_table) -> tuple[aiocoap.Context, int]:
    """A server context serving ``site`` on plain CoAP at ``p`` and DTLS-PSK at ``p + 1`` (aiocoap binds DTLS
    one above the given port): returns ``(context, DTLS port)``. ``bind`` names the DTLS port (0 = any free
    pair)."""
    host, port = bind
    plain = free_port_pair(host) if port == 0 else port - 1
    context = await aiocoap.Context.create_server_context(
        site, bind=(host, plain), transports=["udp6", "tinydtls_server"]
    )
    context.server_credentials.load_from_dict(psk_table.server_entries())
    return context, plain + 1


class CoapServer:
    """Start with `await CoapServer.start(handler, bind=(host, 0))`; `server.address` is the bound (host, port).
    With `psk_table` (DTLS-PSK, clause 8) `server.address` is the `coaps` port and `server.plain_address` the
    plain `coap` port one below it; requests carry the client's PSK identity in `CoapRequest.identity`. With
    `oscore_credentials` (OSCORE server credentials, `conformance.security.oscore`) the handler sits behind
    aiocoap's OSCORE wrapper: protected requests carry their context's identity, replays are answered 4.01
    by the wrapper (EMAP-8-09), unprotected requests reach the handler with `identity` None."""

    def __init__(self, context: aiocoap.Context, address: tuple[str, int], plain_address=None):
        self._context = context
        self.address = address
        self.plain_address = plain_address or address

    @classmethod
    async def start(cls, handler: Handler, bind: tuple[str, int] = ("127.0.0.1", 0),
                    params: TransmissionParams | None = None, first_block: EarlyHandler | None = None,
                    psk_table=None, oscore_credentials=None) -> CoapServer:
        """`first_block`, when given, sees the first block of every Block1 transfer (payload partial, `size1`
        as announced) and may answer it at once (e.g. 4.04, 4.05 or 4.13 with Size1, EMAP-7.1.5-10); None
        lets the transfer continue to `handler`."""
        dispatch = _Dispatch(handler, params, first_block)
        site = dispatch if oscore_credentials is None else protected_site(dispatch, oscore_credentials)
        if psk_table is not None:
            context, port = await create_dtls_server_context(dispatch, bind, psk_table)
            return cls(context, (bind[0], port), (bind[0], port - 1))
        if bind[1] == 0:  # port 0 could be shared with another SO_REUSEPORT socket
            bind = (bind[0], unshared_port(bind[0]))
        context = await aiocoap.Context.create_server_context(site, bind=bind, transports=["udp6"])
        return cls(context, (bind[0], bound_port(context)))

    @property
    def uri_authority(self) -> str:
        return format_address(self.address)

    async def stop(self) -> None:
        await self._context.shutdown()

    async def __aenter__(self) -> CoapServer:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
