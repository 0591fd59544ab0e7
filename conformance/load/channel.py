"""A lean CoAP client endpoint: one UDP socket per simulated lower EMA (EMAP-7.1.1, RFC 7252, RFC 7959).

The load simulator drives hundreds to thousands of lower EMAs from one process. An aiocoap context per
simulated EMA costs far more memory and CPU than the device it stands for, so each simulated EMA gets one
datagram socket and this client, built on the suite's datagram codec: Confirmable POSTs retransmitted per the
transmission parameters (ACK_TIMEOUT, ACK_RANDOM_FACTOR, MAX_RETRANSMIT; EMAP-7.1.5-01), piggy-backed and
separate responses (a separate CON response is acknowledged), RST, and block-wise transfer both ways (Block1
for requests over 1024 bytes, Block2 continuation of large responses). Every wait is bounded by the caller's
timeout.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from conformance.transport import TransmissionParams, codec

JSON = 50
BLOCK_SZX = 6  # 1024-byte blocks
BLOCK_SIZE = 16 << BLOCK_SZX


class ChannelError(Exception):
    """The exchange got no usable CoAP response: ``kind`` is "timeout", "reset" or "protocol"."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind


@dataclass(frozen=True)
class Reply:
    """The (reassembled) response of one exchange and how many CON retransmissions it needed."""

    code: str
    payload: bytes
    content_format: int | None
    retransmissions: int


class Endpoint(asyncio.DatagramProtocol):
    """Create with ``await Endpoint.open(target, params, rng)``; ``await post(path, payload, timeout=...)``.

    ``target`` is the IUT's (host, port); ``path`` the Uri-Path segments. Several exchanges may run at once;
    each has its own token and message ID."""

    __slots__ = ("target", "params", "rng", "transport", "_mid", "_by_token", "_by_mid", "_seen_separate")

    def __init__(self, target: tuple[str, int], params: TransmissionParams, rng: random.Random):
        self.target = target
        self.params = params
        self.rng = rng
        self.transport: asyncio.DatagramTransport | None = None
        self._mid = rng.randrange(0x10000)
        self._by_token: dict[bytes, asyncio.Future] = {}
        self._by_mid: dict[int, asyncio.Future] = {}
        self._seen_separate: dict[int, float] = {}

    @classmethod
    async def open(cls, target: tuple[str, int], params: TransmissionParams, rng: random.Random) -> Endpoint:
        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: cls(target, params, rng), remote_addr=target
        )
        return endpoint

    @property
    def local_address(self) -> tuple[str, int]:
        return self.transport.get_extra_info("sockname")[:2]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        for future in list(self._by_token.values()) + list(self._by_mid.values()):
            if not future.done():
                future.set_exception(ChannelError("protocol", "endpoint closed"))
        self._by_token.clear()
        self._by_mid.clear()

    # -- asyncio protocol ------------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def error_received(self, exc) -> None:  # ICMP port unreachable etc.: the retransmissions time out
        pass

    def datagram_received(self, data: bytes, addr) -> None:
        try:
            dg = codec.decode(data)
        except codec.CodecError:
            return  # not CoAP: silently ignored (RFC 7252 4.2)
        if dg.mtype == codec.CON:
            self._send(codec.encode(codec.empty_ack_for(dg)))
            if dg.mid in self._seen_separate:
                return  # duplicate of a separate response already delivered
            self._seen_separate[dg.mid] = time.monotonic()
        if dg.mtype in (codec.ACK, codec.RST):
            waiter = self._by_mid.get(dg.mid)
            if waiter is not None and not waiter.done():
                waiter.set_result(dg)
            if dg.mtype == codec.RST or dg.is_empty:
                return
        waiter = self._by_token.get(dg.token)
        if waiter is not None and not waiter.done() and dg.is_response:
            waiter.set_result(dg)

    def _send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data)

    # -- exchanges -------------------------------------------------------------------------------------------
    def _next_mid(self) -> int:
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    async def post(
        self, path: tuple[str, ...], payload: bytes, *, timeout: float, content_format: int | None = JSON
    ) -> Reply:
        """POST ``payload`` to ``path``; the reassembled response, or ChannelError within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        uri_path = tuple((codec.URI_PATH, seg.encode()) for seg in path)
        base = uri_path + (
            ((codec.CONTENT_FORMAT, codec.uint_bytes(content_format)),)
            if content_format is not None and payload
            else ()
        )
        retransmitted = 0
        response, blocks = None, max(1, -(-len(payload) // BLOCK_SIZE))
        for num in range(blocks):  # Block1 (RFC 7959 2.5): one CON per block, stop-and-wait
            options = base
            if blocks > 1:
                more = num < blocks - 1
                options = base + ((codec.BLOCK1, codec.block_bytes(num, more, BLOCK_SZX)),)
                if num == 0:
                    options += ((codec.SIZE1, codec.uint_bytes(len(payload))),)
            chunk = payload[num * BLOCK_SIZE : (num + 1) * BLOCK_SIZE]
            response, count = await self._confirmable(options, chunk, deadline)
            retransmitted += count - 1
            if blocks > 1 and num < blocks - 1 and response.code_text != "2.31":
                break  # the server ended the transfer early (e.g. 4.13): that is the response
        body = response.payload
        block2 = response.block(codec.BLOCK2)
        while block2 is not None and block2[1]:  # Block2 continuation: same options, empty payload
            num, _, szx = block2
            options = base + ((codec.BLOCK2, codec.block_bytes(num + 1, False, szx)),)
            response, count = await self._confirmable(options, b"", deadline)
            retransmitted += count - 1
            if not response.code_text.startswith("2."):
                raise ChannelError("protocol", f"block-wise response broke off with {response.code_text}")
            body += response.payload
            block2 = response.block(codec.BLOCK2)
        return Reply(response.code_text, body, response.content_format, retransmitted)

    async def _confirmable(self, options, payload: bytes, deadline: float) -> tuple[codec.CoapDatagram, int]:
        """One CON exchange: retransmit until ACK/RST, then wait for a separate response if the ACK was
        empty."""
        loop = asyncio.get_running_loop()
        token = self.rng.getrandbits(32).to_bytes(4, "big")
        mid = self._next_mid()
        data = codec.encode(
            codec.CoapDatagram(codec.CON, codec.code_of("POST"), mid, token, options, payload)
        )
        answer = self._by_token[token] = loop.create_future()
        acked = self._by_mid[mid] = loop.create_future()
        params = self.params
        interval = params.ack_timeout * self.rng.uniform(1.0, params.ack_random_factor)
        transmissions = 0
        try:
            while True:
                self._send(data)
                transmissions += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ChannelError("timeout", "no acknowledgement in time")
                done, _ = await asyncio.wait(
                    (acked, answer), timeout=min(interval, remaining), return_when=asyncio.FIRST_COMPLETED
                )
                if done:
                    break
                if transmissions > params.max_retransmit:  # MAX_TRANSMIT_WAIT has passed
                    raise ChannelError("timeout", f"no acknowledgement after {transmissions} transmissions")
                interval *= 2
            if answer.done():
                return answer.result(), transmissions
            ack = acked.result()
            if ack.mtype == codec.RST:
                raise ChannelError("reset", "the IUT answered with RST")
            remaining = deadline - time.monotonic()
            try:
                return await asyncio.wait_for(answer, max(0.0, remaining)), transmissions
            except TimeoutError:
                raise ChannelError("timeout", "empty ACK but no separate response in time") from None
        finally:
            self._by_token.pop(token, None)
            self._by_mid.pop(mid, None)
            self._forget_old_separates()

    def _forget_old_separates(self) -> None:
        """Keep separate-response MIDs for EXCHANGE_LIFETIME only (duplicate detection window)."""
        if len(self._seen_separate) < 64:
            return
        horizon = time.monotonic() - self.params.exchange_lifetime
        self._seen_separate = {mid: t for mid, t in self._seen_separate.items() if t >= horizon}
