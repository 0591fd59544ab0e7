"""The sample EMA's CoAP front door: one aiocoap server site serving the base path of each role.

Order for every request (EMAP-7.1.4-05, 7.1.6): unrecognized critical options (4.02, RFC 7252 section 5.4.1),
path (4.04, EMAP-7.1.3-03), method (4.05, EMAP-7.1.4-01), payload limit (4.13 with Size1, EMAP-7.1.5-10; at
once when the first Block1 announces too much in Size1), Block1 assembly (2.31 / 4.08), the cached-repeat
lookup (EMAP-7.1.5-07), Content-Format (4.15, EMAP-7.1.4-02), Accept (4.06, EMAP-7.1.4-03), schema (4.00 with
diagnostic, EMAP-7.1.4-06), the clause-8 answers 4.01/4.03 (``security.py``), then step 1 of Table 6.1-4
(459 in ``emapResponse``, EMAP-7.1.3-05) and the role.
Uri-Query options are ignored (EMAP-7.1.3-04). Any unexpected failure is answered 5.00 with a diagnostic text
(EMAP-7.1.5-14); no 2.05 is ever sent (EMAP-7.1.4-04).

The front door is its own aiocoap site (not `transport.CoapServer`) so that it checks the payload limit on
every Block1 block before storing it: a block sequence can never grow past the limit in memory.

The cached-repeat lookup sits after the transport-level steps because it needs the whole payload to compare
JSON values; a message that was processed before always passed them, so the order of answers is unchanged.
Under DTLS-PSK the cache key includes the authenticated identity: a repeat is one from the same peer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

import aiocoap
import aiocoap.error
import aiocoap.interfaces
from aiocoap import Code, Message
from aiocoap.blockwise import Block1Spool, Block2Cache
from aiocoap.pipe import error_to_message

from conformance.ema.config import EmaConfig, Endpoint
from conformance.ema.role import Role
from conformance.ema.security import SecurityGuard
from conformance.messages import (
    LOWER_RESOURCES,
    RESOURCES,
    UPPER_RESOURCES,
    MessageError,
    ValidMessage,
    build,
    encode,
    validate,
)
from conformance.security.dtls import authenticated_identity
from conformance.security.oscore import protected_site
from conformance.transport import codec
from conformance.transport.ports import unshared_port
from conformance.transport.server import bound_port, create_dtls_server_context

log = logging.getLogger("conformance.ema.frontdoor")

JSON = 50

#: Critical options the front door understands: Uri-Host, Uri-Port, Uri-Path, Uri-Query, Accept, Block2,
#: Block1.
UNDERSTOOD_CRITICAL = frozenset({3, 7, 11, 15, 17, 23, 27})


def resources_of(side: str) -> tuple[str, ...]:
    """The resource names a role of ``side`` serves (Table 7.1-2)."""
    return UPPER_RESOURCES if side == "U" else LOWER_RESOURCES


def diagnostic(code: Code, text: str) -> Message:
    """An error response with a UTF-8 diagnostic payload and no Content-Format (RFC 7252 section 5.5.2)."""
    return Message(code=code, payload=text.encode("utf-8"))


def emap_reply(envelope: dict | None) -> Message:
    """2.04 with the message (Content-Format 50), or the empty 2.04 of EMAP-6.1-06 (no Content-Format)."""
    if envelope is None:
        return Message(code=Code.CHANGED)
    return Message(code=Code.CHANGED, payload=encode(envelope), content_format=JSON)


@dataclass(slots=True)
class _Cached:
    envelope: dict
    reply: dict | None
    expires: float


# Peers beyond the registration limit whose answers are cached: lower EMAs not (yet) registered, which the
# cached-repeat rule counts as one peer each identity (EMAP-7.1.5-07).
CACHE_SPARE_PEERS = 16


class RepeatCache:
    """Answers already given, for EMAP-7.1.5-07: per peer, keyed by (base path, resource, requestID, identity).

    Bounded per peer, so that one busy lower EMA cannot push out another's answers: at most ``per_peer`` answers
    for each of at most ``peers`` peers, each kept EXCHANGE_LIFETIME; when full, the peer's oldest answer (or the
    peer heard from least recently) goes first, and a later repeat of it is processed again. Answers past their
    lifetime are dropped at the latest ``SWEEP_S`` later (`sweep`), also for peers that send nothing more.
    """

    SWEEP_S = 1.0

    def __init__(self, per_peer: int, peers: int, lifetime: float) -> None:
        self.per_peer = per_peer
        self.peers = peers
        self.lifetime = lifetime
        self._buckets: OrderedDict[object, OrderedDict[tuple, _Cached]] = OrderedDict()
        self._next_sweep = 0.0

    def __len__(self) -> int:
        """The number of answers held."""
        return sum(len(bucket) for bucket in self._buckets.values())

    def lookup(self, peer: object, key: tuple, envelope: dict) -> tuple[bool, dict | None]:
        """``(True, reply)`` when an identical message with this key was answered within the lifetime."""
        bucket = self._buckets.get(peer)
        if bucket is None:
            return False, None
        _expire(bucket, time.monotonic())
        entry = bucket.get(key)
        if entry is not None and entry.envelope == envelope:
            return True, entry.reply
        return False, None

    def store(self, peer: object, key: tuple, envelope: dict, reply: dict | None) -> None:
        bucket = self._buckets.pop(peer, None)
        if bucket is None:
            bucket = OrderedDict()
        self._buckets[peer] = bucket  # most recently heard from last
        now = time.monotonic()
        _expire(bucket, now)
        bucket.pop(key, None)
        bucket[key] = _Cached(envelope, reply, now + self.lifetime)
        while len(bucket) > self.per_peer:
            bucket.popitem(last=False)
        while len(self._buckets) > self.peers:
            self._buckets.popitem(last=False)

    def sweep(self) -> None:
        """`expire` now if the last sweep is ``SWEEP_S`` old (called for every request)."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_S
            self.expire(now)

    def expire(self, now: float) -> None:
        """Drop the answers whose lifetime ended by ``now`` (a ``time.monotonic()`` value), and empty peers."""
        for peer, bucket in list(self._buckets.items()):
            _expire(bucket, now)
            if not bucket:
                del self._buckets[peer]


def _expire(bucket: OrderedDict, now: float) -> None:
    """Drop a peer's answers whose lifetime ended by ``now`` (the oldest come first)."""
    while bucket:
        key, entry = next(iter(bucket.items()))
        if entry.expires > now:
            break
        del bucket[key]


class RemoteNames:
    """The ``host:port`` text of request remotes, kept per socket address (aiocoap parses the address anew for
    every request); at most ``size`` addresses, then it starts afresh. Remotes without a socket address are
    asked every time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._names: dict[tuple, str] = {}

    def __call__(self, remote) -> str:
        sockaddr = getattr(remote, "sockaddr", None)
        if sockaddr is None:
            return remote.hostinfo
        key = (type(remote), sockaddr)
        name = self._names.get(key)
        if name is None:
            if len(self._names) >= self.size:
                self._names.clear()
            name = self._names[key] = remote.hostinfo
        return name


class _Route:
    """One role under its base path, with the lock that makes it process one message at a time."""

    def __init__(self, base: tuple[str, ...], role: Role) -> None:
        self.base = base
        self.role = role
        self.resources = resources_of(role.side)
        self.lock = asyncio.Lock()


class FrontDoor(aiocoap.interfaces.Resource):
    """aiocoap server site for all routes of one endpoint."""

    def __init__(
        self, routes: dict[tuple[str, ...], Role], config: EmaConfig, guard: SecurityGuard | None = None
    ) -> None:
        super().__init__()
        self.config = config
        self.guard = guard or SecurityGuard(config)
        self.routes = [_Route(base, role) for base, role in routes.items()]
        peers = config.registrations_limit + CACHE_SPARE_PEERS
        self.cache = RepeatCache(config.cache_per_peer, peers, config.exchange_lifetime)
        self.remote_names = RemoteNames(peers)
        self._spool = Block1Spool()
        self._blocks2 = Block2Cache()

    # aiocoap.interfaces.Resource: render_to_pipe is the entry point; the other two are unused but abstract.
    async def render(self, request: Message) -> Message:
        return await self._answer(request)

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    async def render_to_pipe(self, pipe) -> None:
        request = pipe.request
        try:
            response = await self._answer(request)
        except aiocoap.error.RenderableError as exc:  # 2.31 Continue, 4.08 Incomplete from the Block1 spool
            response = exc.to_message()
        except Exception as exc:  # EMAP-7.1.5-14: never let a failure escape
            log.exception("internal failure on %s", _path_text(request.opt.uri_path))
            response = diagnostic(
                Code.INTERNAL_SERVER_ERROR, f"internal failure: {type(exc).__name__}: {exc}"
            )
        pipe.add_response(response, is_last=True)

    def _find(self, path: tuple[str, ...]) -> tuple[_Route, str] | None:
        for route in self.routes:
            n = len(route.base)
            if len(path) == n + 1 and path[:n] == route.base and path[n] in route.resources:
                return route, path[n]
        return None

    def _not_found(self, path: tuple[str, ...]) -> Message:
        """4.04 with a diagnostic naming the resources, and the intended one when only the case differs."""
        wanted = _path_text(path)
        known = [_path_text(r.base + (name,)) for r in self.routes for name in r.resources]
        near = [k for k in known if k.lower() == wanted.lower()]
        hint = f"; names are case-sensitive: did you mean {near[0]}?" if near else ""
        return diagnostic(
            Code.NOT_FOUND,
            f"{wanted} is not an EMAP resource of this EMA{hint} (resources: {', '.join(known)})",
        )

    async def _answer(self, request: Message) -> Message:
        unknown = sorted(
            {
                int(o.number)
                for o in request.opt.option_list()
                if int(o.number) % 2 and int(o.number) not in UNDERSTOOD_CRITICAL
            }
        )
        if unknown:  # RFC 7252 section 5.4.1, Table 7.1-3
            return diagnostic(Code.BAD_OPTION, f"unrecognized critical option {unknown[0]}")
        path = tuple(request.opt.uri_path)
        found = self._find(path)
        if found is None:
            return self._not_found(path)
        if request.code != Code.POST:
            return Message(code=Code.METHOD_NOT_ALLOWED)
        block2 = request.opt.block2
        if block2 is not None and block2.block_number > 0:  # continuation of a block-wise response
            return await self._blocks2.extract_or_insert(request, _unreachable)
        too_large = self._too_large(request)
        if too_large is not None:
            return too_large
        try:
            assembled = self._spool.feed_and_take(request)
        except ValueError:  # a gap or overlap in the Block1 sequence (RFC 7959 section 2.9.2)
            return diagnostic(
                Code.REQUEST_ENTITY_INCOMPLETE, "Block1 sequence incomplete: a block is missing"
            )
        if len(assembled.payload) > self.config.max_payload:
            return self._entity_too_large()
        response = await self._blocks2.extract_or_insert(assembled, lambda: self._process(found, assembled))
        if request.opt.block1 is not None:
            response.opt.block1 = request.opt.block1
        return response

    def _too_large(self, request: Message) -> Message | None:
        """4.13 before assembly: Size1 in the first block, or a block reaching past the limit (EMAP-7.1.5-10)."""
        limit = self.config.max_payload
        block1 = request.opt.block1
        if block1 is None:
            return self._entity_too_large() if len(request.payload) > limit else None
        if block1.block_number == 0 and request.opt.size1 is not None and request.opt.size1 > limit:
            return self._entity_too_large()
        if block1.start + len(request.payload) > limit:
            return self._entity_too_large()
        return None

    def _entity_too_large(self) -> Message:
        response = Message(code=Code.REQUEST_ENTITY_TOO_LARGE)
        response.opt.size1 = self.config.max_payload
        return response

    async def _process(self, found: tuple[_Route, str], request: Message) -> Message:
        route, resource = found
        async with route.lock:  # one message at a time per role: a repeat waits for its original's answer
            return await self._process_locked(route, resource, request)

    async def _process_locked(self, route: _Route, resource: str, request: Message) -> Message:
        self.cache.sweep()
        remote = self.remote_names(request.remote)
        where = _path_text(route.base + (resource,))
        message, error = _parse(request)
        identity = authenticated_identity(request.remote)
        key = None
        if message is not None and message.request_id:  # EMAP-7.1.5-07, before the checks below
            peer = (route.base, route.role.peer_key(message, remote))
            key = (resource, message.request_id, identity)
            hit, reply = self.cache.lookup(peer, key, message.envelope)
            if hit:
                log.info("POST %s from %s: cached repeat of %s", where, remote, message.request_id)
                return emap_reply(reply)
        if request.opt.content_format != JSON:
            return Message(code=Code.UNSUPPORTED_CONTENT_FORMAT)
        if request.opt.accept is not None and request.opt.accept != JSON:
            return Message(code=Code.NOT_ACCEPTABLE)
        if message is None:
            log.info("POST %s from %s: 4.00 %s", where, remote, error)
            return diagnostic(Code.BAD_REQUEST, str(error))
        refusal, message = self.guard.check(route.role, message, identity)  # clause 8: 4.01, 4.03
        if refusal is not None:
            log.info("POST %s from %s: %s", where, remote, refusal.payload.decode("utf-8"))
            return refusal
        reply = await self._dispatch(route, resource, message, remote)
        if key is not None:
            self.cache.store(peer, key, message.envelope, reply)
        if log.isEnabledFor(logging.INFO):
            answer = next(iter(reply)) if reply else "(empty)"
            quiet = message.name == "emapPoll" and reply is not None and _is_empty_poll_reply(reply)
            log.log(logging.DEBUG if quiet else logging.INFO, "POST %s from %s: %s -> 2.04 %s",
                    where, remote, message.name, answer)
        return emap_reply(reply)

    async def _dispatch(
        self, route: _Route, resource: str, message: ValidMessage, remote: str
    ) -> dict | None:
        if message.name not in RESOURCES[(route.role.side, resource)]:  # Table 6.1-4 step 1, EMAP-7.1.3-05
            return build.response(
                message.request_id or "",
                "459",
                ven_id=route.role.response_ven_id(message),
                description=f"{message.name} is not accepted at {resource}",
            )
        return await route.role.handle(resource, message, remote)


def _is_empty_poll_reply(reply: dict) -> bool:
    """R0: an `emapResponse` 200 answering a poll of a lower EMA with nothing queued (logged at DEBUG only)."""
    response = reply.get("emapResponse")
    return response is not None and response["eiResponse"]["responseCode"] == "200"


def _parse(request: Message) -> tuple[ValidMessage | None, MessageError | None]:
    """The validated message of a Content-Format 50 request, or the reason it is not one."""
    if request.opt.content_format != JSON:
        return None, None
    try:
        return validate(request.payload, posted=True), None
    except MessageError as exc:
        return None, exc


async def _unreachable() -> Message:
    raise aiocoap.error.BadRequest("Block2 continuation without an earlier response")


def _path_text(path) -> str:
    return "/" + "/".join(path)


async def serve_site(
    site: aiocoap.interfaces.Resource, endpoint: Endpoint, psk_table=None, oscore_credentials=None
) -> tuple[aiocoap.Context, int]:
    """Bind an aiocoap server context for ``site`` at the endpoint's host and port: ``(context, bound port)``.
    Datagrams that are not valid CoAP messages are dropped (`drop_malformed`). A ``coaps`` endpoint is served
    with DTLS-PSK at its port and plain CoAP one port below (whose requests the guard answers 4.01). With
    ``oscore_credentials`` (server credentials of OSCORE contexts) the site is behind aiocoap's OSCORE wrapper
    (EMAP-8-09)."""
    if endpoint.secured:
        ctx, port = await create_dtls_server_context(site, (endpoint.host, endpoint.port), psk_table)
    else:
        if oscore_credentials:
            site = protected_site(site, oscore_credentials)
        port = endpoint.port or unshared_port(endpoint.host)  # port 0 could be shared (SO_REUSEPORT)
        ctx = await aiocoap.Context.create_server_context(site, bind=(endpoint.host, port), transports=["udp6"])
        port = bound_port(ctx)
    drop_malformed(ctx)
    render_with_plain_task_names(ctx)
    return ctx, port


def render_with_plain_task_names(ctx: aiocoap.Context) -> None:
    """aiocoap names the task that renders each request after the request's repr, which formats its remote
    address and options anew (about a tenth of the CPU of a poll); render as aiocoap does (same pipe and error
    handling), under a fixed task name. The rendering coroutine is made inside the task: one made beforehand is
    never awaited when the requester loses interest before the task starts (a RuntimeWarning)."""

    def render_to_pipe(pipe) -> None:
        pipe = error_to_message(pipe, ctx.log)

        async def render() -> None:
            try:
                await ctx._render_to_pipe(pipe)
            except Exception as exc:  # as aiocoap's run_driving_pipe: the error becomes the response
                pipe.add_exception(exc)

        task = asyncio.create_task(render(), name="render a request")
        pipe.on_interest_end(task.cancel)

    ctx.render_to_pipe = render_to_pipe


def message_managers(ctx: aiocoap.Context) -> list:
    """aiocoap's message layer of each transport of ``ctx`` (duplicate detection and retransmission, RFC 7252
    section 4); its ``message_interface`` is the transport."""
    managers = (getattr(i, "token_interface", None) for i in ctx.request_interfaces)
    return [m for m in managers if m is not None]


def drop_malformed(ctx: aiocoap.Context) -> None:
    """EMAP-7.1.5-13: ignore every datagram that RFC 7252 section 3 calls a message format error (aiocoap
    accepts some of them, e.g. a payload marker followed by no payload), checked with the strict codec."""
    for manager in message_managers(ctx):
        messages = getattr(manager, "message_interface", None)
        receive = getattr(messages, "datagram_msg_received", None)
        if receive is None:
            continue

        def strict(data, ancdata, flags, address, _receive=receive):
            try:
                codec.decode(data)
            except codec.CodecError as exc:
                log.info("dropped a malformed datagram from %s: %s", address[0] if address else "?", exc)
                return
            _receive(data, ancdata, flags, address)

        messages.datagram_msg_received = strict
