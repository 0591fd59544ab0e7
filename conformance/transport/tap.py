"""WireTap: a recording, optionally fault-injecting UDP relay between the peer and the IUT on loopback.

Each downstream client address gets its own upstream socket, so the target sees one distinct source port per
client (and answers reach the right client). Every datagram is appended to the current `trace` with the logical
endpoints (client address and target address) before it is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from . import codec
from .faults import FaultOutcome, FaultPlan
from .trace import FROM_IUT, TO_IUT, Trace, load_message_model


def format_address(addr) -> str:
    """"host:port" for a socket address, brackets around IPv6 hosts."""
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:"):]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DatagramEndpoint(asyncio.DatagramProtocol):
    """A datagram socket whose received datagrams go to `on_datagram`; `closed` resolves after it is closed."""

    def __init__(self, on_datagram: Callable[[bytes, tuple], None], on_error: Callable[[Exception], None]):
        self.on_datagram, self.on_error = on_datagram, on_error
        self.transport: asyncio.DatagramTransport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.on_datagram(data, addr)

    def error_received(self, exc):
        self.on_error(exc)

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, data: bytes, addr=None) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            await self.closed


class WireTap:
    """Relay between clients (downstream) and one target (upstream). Create with `await WireTap.start(...)`."""

    def __init__(self, target: tuple[str, int], trace: Trace, towards_target: str, faults: FaultPlan | None):
        if towards_target not in (TO_IUT, FROM_IUT):
            raise ValueError(f"towards_target must be {TO_IUT!r} or {FROM_IUT!r}, not {towards_target!r}")
        self.target = (target[0], int(target[1]))
        self.trace = trace
        self.towards_target = towards_target
        self.towards_client = FROM_IUT if towards_target == TO_IUT else TO_IUT
        self.faults = faults
        self._target_text = format_address(self.target)
        self._downstream: DatagramEndpoint | None = None
        self._upstreams: dict[tuple, DatagramEndpoint] = {}
        self._client_texts: dict[tuple, str] = {}
        self._pending_upstreams: dict[tuple, list[bytes]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._held: dict[str, tuple[asyncio.TimerHandle, Callable[[], None]]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._stopped = False
        self.address: tuple[str, int] = ("", 0)

    @classmethod
    async def start(cls, target: tuple[str, int], trace: Trace | None = None, listen=("127.0.0.1", 0),
                    towards_target: str = TO_IUT, faults: FaultPlan | None = None) -> WireTap:
        tap = cls(target, trace if trace is not None else Trace(), towards_target, faults)
        load_message_model()
        loop = asyncio.get_running_loop()
        _, tap._downstream = await loop.create_datagram_endpoint(
            lambda: DatagramEndpoint(tap._from_client, tap._on_error), local_addr=listen)
        sockname = tap._downstream.transport.get_extra_info("sockname")
        tap.address = (listen[0], sockname[1])
        return tap

    @property
    def uri_authority(self) -> str:
        """"host:port" of the tap, for building coap:// URIs."""
        return format_address(self.address)

    def client_ports(self) -> dict[str, int]:
        """Downstream client address -> source port the target sees for it."""
        return {format_address(c): ep.transport.get_extra_info("sockname")[1]
                for c, ep in self._upstreams.items() if ep.transport is not None}

    def _on_error(self, exc: Exception) -> None:
        self.trace.note(f"tap socket error: {exc}")

    def _from_client(self, data: bytes, client: tuple) -> None:
        client = client[:2]
        if self.faults is None:  # the common case: record and forward, nothing else
            self.trace.record(self.towards_target, self._client_text(client), self._target_text, data)
            self._to_target(client, data)
            return
        self._relay(self.towards_target, data, self._client_text(client), self._target_text,
                    deliver=lambda payload: self._to_target(client, payload),
                    bounce=lambda payload: self._downstream.send(payload, client))

    def _from_target(self, data: bytes, client: tuple) -> None:
        if self.faults is None:
            self.trace.record(self.towards_client, self._target_text, self._client_text(client), data)
            self._downstream.send(data, client)
            return
        self._relay(self.towards_client, data, self._target_text, self._client_text(client),
                    deliver=lambda payload: self._downstream.send(payload, client),
                    bounce=lambda payload: self._upstreams[client].send(payload))

    def _client_text(self, client: tuple) -> str:
        """"host:port" of a downstream client, formatted once per client."""
        text = self._client_texts.get(client)
        if text is None:
            text = self._client_texts[client] = format_address(client)
        return text

    def _to_target(self, client: tuple, data: bytes) -> None:
        if self._stopped:  # a datagram arriving while the tap closes opens no new upstream socket
            return
        upstream = self._upstreams.get(client)
        if upstream is not None and upstream.transport is not None:
            upstream.send(data)
            return
        queued = self._pending_upstreams.setdefault(client, [])
        queued.append(data)
        if len(queued) == 1:
            task = asyncio.get_running_loop().create_task(self._open_upstream(client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _open_upstream(self, client: tuple) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, endpoint = await loop.create_datagram_endpoint(
                lambda: DatagramEndpoint(lambda data, _addr: self._from_target(data, client), self._on_error),
                remote_addr=self.target)
        except OSError as exc:
            self.trace.note(f"tap cannot reach {self._target_text}: {exc}")
            self._pending_upstreams.pop(client, None)
            return
        if self._stopped:
            await endpoint.close()
            return
        self._upstreams[client] = endpoint
        for data in self._pending_upstreams.pop(client, []):
            endpoint.send(data)

    def _relay(self, direction: str, data: bytes, src: str, dst: str, *, deliver: Callable[[bytes], None],
               bounce: Callable[[bytes], None]) -> None:
        outcome = self.faults.decide(direction, data)
        if outcome.rst or outcome.drop or outcome.reply is not None:
            self.trace.record(direction, src, dst, data, fault=outcome.label)
            if outcome.rst:
                self._bounce_rst(direction, data, src, dst, bounce)
            elif outcome.reply is not None:
                self._bounce(direction, outcome.reply, src, dst, bounce, "answered by the tap")
            return

        def send() -> None:
            for copy in range(outcome.copies):
                label = outcome.label if copy == 0 else "duplicate copy"
                self.trace.record(direction, src, dst, outcome.data, fault=label)
                deliver(outcome.data)

        self._schedule(direction, outcome, send)

    def _schedule(self, direction: str, outcome: FaultOutcome, send: Callable[[], None]) -> None:
        """Deliver now, later, or behind the next datagram of the same direction (reorder)."""
        loop = asyncio.get_running_loop()
        held = self._held.pop(direction, None)
        if outcome.hold is not None:
            timer = loop.call_later(outcome.hold, self._release, direction)
            self._held[direction] = (timer, send)
        elif outcome.delay > 0:
            self._later(outcome.delay, send)
        else:
            send()
        if held is not None:
            held[0].cancel()
            held[1]()

    def _release(self, direction: str) -> None:
        held = self._held.pop(direction, None)
        if held is not None:
            held[1]()

    def _later(self, delay: float, send: Callable[[], None]) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            send()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    def _bounce_rst(self, direction: str, data: bytes, src: str, dst: str, bounce: Callable[[bytes], None]) -> None:
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            return
        if dg.mtype in (codec.CON, codec.NON):
            self._bounce(direction, codec.encode(codec.reset_for(dg)), src, dst, bounce, "RST synthesised by the tap")

    def _bounce(self, direction: str, data: bytes, src: str, dst: str, bounce: Callable[[bytes], None],
                label: str) -> None:
        """Send `data` back to the sender of a datagram that travelled `direction` from `src` to `dst`."""
        other = self.towards_client if direction == self.towards_target else self.towards_target
        self.trace.record(other, dst, src, data, fault=label)
        bounce(data)

    async def stop(self) -> None:
        """Close every socket and cancel pending deliveries; nothing is delivered afterwards."""
        self._stopped = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for timer, _ in self._held.values():
            timer.cancel()
        self._held.clear()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        endpoints = list(self._upstreams.values())
        if self._downstream is not None:
            endpoints.append(self._downstream)
        self._upstreams.clear()
        self._downstream = None
        await asyncio.gather(*(ep.close() for ep in endpoints))

    async def __aenter__(self) -> WireTap:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
