"""TransportProbe: the reference peer's raw CoAP side for the transport test cases (clause 7.1).

It sends to one IUT endpoint through a ``WireTap`` (so every datagram lands in the test's trace): requests with any
method, path, Content-Format, Accept, Uri-Query and Block1 size (``request``), and hand-made datagrams from one
socket (``raw``: duplicates, broken datagrams, partial Block1 sequences). It only drives; verdicts come from the
trace (``Sent.exchange`` is the trace's view of what was sent).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass

from conformance.peer.base import parse_base_uri
from conformance.transport import CoapClient, CoapResponse, TransmissionParams, TransportError, WireTap, codec
from conformance.transport.tap import DatagramEndpoint


@dataclass
class Sent:
    """One request the probe made: the transport's answer (None: none) and the first trace record it caused."""

    start_seq: int
    response: CoapResponse | None
    error: str | None
    trace: object

    @property
    def exchange(self):
        """The exchange in the trace that carried this request (block-wise transfers grouped), or None."""
        for exchange in self.trace.exchanges():
            if exchange.direction == "to-iut" and exchange.request.seq >= self.start_seq:
                return exchange
        return None


def params_of(timing) -> TransmissionParams:
    return TransmissionParams(ack_timeout=timing.ack_timeout_s, ack_random_factor=timing.ack_random_factor,
                              max_retransmit=timing.max_retransmit)


class TransportProbe:
    """Create with ``TransportProbe(trace, timing, base_uri)``; ``await start()`` / ``await stop()`` (or async with).

    ``base_uri`` is the IUT role's base URI; ``base_path`` its segments; requests name full paths (segment
    tuples) so tests can also aim outside the base path."""

    def __init__(self, trace, timing, base_uri: str, *, seed: int = 0):
        self.trace = trace
        self.timing = timing
        self.base_uri = base_uri
        self.host, self.port, self.base_path = parse_base_uri(base_uri)
        self.params = params_of(timing)
        self.tap: WireTap | None = None
        self._client: CoapClient | None = None
        rng = random.Random(seed)
        self._mids = itertools.count(rng.randrange(0x1000, 0xE000))
        self._tokens = itertools.count(rng.randrange(1, 1 << 30))

    async def start(self) -> TransportProbe:
        if self.tap is None:
            self.tap = await WireTap.start(target=(self.host, self.port), trace=self.trace, towards_target="to-iut")
            self._client = await CoapClient.create(self.params)
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self.tap is not None:
            await self.tap.stop()
        self._client = self.tap = None

    async def __aenter__(self) -> TransportProbe:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def exchange_timeout(self) -> float:
        """MAX_TRANSMIT_WAIT plus the measurement tolerance: the longest an answered request may take."""
        return self.params.max_transmit_wait + self.timing.tolerance_s

    def path(self, resource: str) -> tuple[str, ...]:
        return self.base_path + (resource,)

    def uri(self, path: tuple[str, ...]) -> str:
        return f"coap://{self.tap.uri_authority}" + "".join("/" + seg for seg in path)

    def next_mid(self) -> int:
        return next(self._mids) & 0xFFFF

    def next_token(self) -> bytes:
        return next(self._tokens).to_bytes(4, "big")

    async def request(self, path: tuple[str, ...], *, method: str = "POST", payload: bytes | None = None,
                      content_format: int | None = 50, accept: int | None = None, query=(),
                      block_size_exp: int | None = None, timeout: float | None = None,
                      fresh: bool = False) -> Sent:
        """One request through the tap; a missing answer is recorded in ``Sent.error`` (never raised)."""
        await self.start()
        start = len(self.trace.records)
        try:
            response = await self._client.request(
                self.uri(path), method=method, payload=payload, content_format=content_format, accept=accept,
                query=list(query), block_size_exp=block_size_exp, timeout=timeout or self.exchange_timeout,
                fresh=fresh)
        except TransportError as exc:
            return Sent(start, None, str(exc), self.trace)
        return Sent(start, response, None, self.trace)

    def datagram(self, path: tuple[str, ...], payload: bytes = b"", *, method: str = "POST",
                 content_format: int | None = 50, options=(), mid: int | None = None,
                 token: bytes | None = None) -> codec.CoapDatagram:
        """A CON request datagram (fresh MID and token unless given)."""
        options = list(options) + [(codec.URI_PATH, seg.encode()) for seg in path]
        if content_format is not None:
            options.append((codec.CONTENT_FORMAT, codec.uint_bytes(content_format)))
        return codec.CoapDatagram(codec.CON, codec.code_of(method), self.next_mid() if mid is None else mid,
                                  self.next_token() if token is None else token,
                                  tuple(sorted(options, key=lambda o: o[0])), payload)

    async def raw(self, datagrams: list[bytes], *, wait: float | list[float],
                  until_answer: bool | list[bool] = True) -> list[list[bytes]]:
        """Send ``datagrams`` one at a time from ONE socket through the tap; for each, every datagram received
        within ``wait`` s (with ``until_answer``, stop at the first one carrying a response code or RST); both may
        be given per datagram. Separate responses are acknowledged as a client would."""
        waits = wait if isinstance(wait, list) else [wait] * len(datagrams)
        stops = until_answer if isinstance(until_answer, list) else [until_answer] * len(datagrams)
        await self.start()
        inbox: asyncio.Queue = asyncio.Queue()
        endpoint: DatagramEndpoint | None = None

        def on_datagram(data: bytes, _addr) -> None:
            try:
                dg = codec.decode(data)
            except codec.CodecError:
                dg = None
            if dg is not None and dg.mtype == codec.CON and dg.is_response:
                endpoint.send(codec.encode(codec.empty_ack_for(dg)))
            inbox.put_nowait((data, dg))

        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: DatagramEndpoint(on_datagram, lambda exc: self.trace.note(f"probe socket error: {exc}")),
            remote_addr=self.tap.address[:2])
        results: list[list[bytes]] = []
        try:
            for data, window, stop in zip(datagrams, waits, stops, strict=True):
                got: list[bytes] = []
                endpoint.send(data)
                deadline = loop.time() + window
                while (remaining := deadline - loop.time()) > 0:
                    try:
                        received, dg = await asyncio.wait_for(inbox.get(), remaining)
                    except TimeoutError:
                        break
                    got.append(received)
                    if stop and dg is not None and (dg.is_response or dg.mtype == codec.RST):
                        break
                results.append(got)
        finally:
            await endpoint.close()
        return results
