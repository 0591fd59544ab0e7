"""A raw CoAP datagram channel for CoAP-level fuzz cases: send crafted bytes, gather the matching answer.

The aiocoap client cannot send malformed requests, and ``raw_exchange`` waits a fixed time; this channel returns
as soon as the answer is complete (a response code, or RST), and waits the full window only when it gets nothing.
Separate CON responses are acknowledged. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from conformance.transport import codec
from conformance.transport.tap import DatagramEndpoint


class RawChannel:
    """One UDP socket towards ``address``; open with ``await RawChannel.open(address)``, ``await close()``."""

    def __init__(self, endpoint, queue: asyncio.Queue):
        self._endpoint = endpoint
        self._queue = queue

    @classmethod
    async def open(cls, address: tuple[str, int]) -> RawChannel:
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: DatagramEndpoint(lambda data, _addr: queue.put_nowait(data), lambda exc: None),
            remote_addr=address)
        return cls(endpoint, queue)

    async def close(self) -> None:
        await self._endpoint.close()

    async def exchange(self, data: bytes, *, mid: int, token: bytes, wait: float) -> list[codec.CoapDatagram]:
        """Send ``data``; the datagrams that answer it (same MID, or same token), ending with the one carrying a
        response code or an RST; empty when nothing answered within ``wait`` seconds."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._endpoint.send(data)
        answers: list[codec.CoapDatagram] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                while True:
                    try:
                        dg = codec.decode(await self._queue.get())
                    except codec.CodecError:
                        continue
                    if dg.mid != mid and dg.token != token:
                        continue
                    if dg.mtype == codec.CON:
                        self._endpoint.send(codec.encode(codec.empty_ack_for(dg)))
                    answers.append(dg)
                    if dg.mtype == codec.RST or dg.is_response:
                        return answers
        return answers


async def require_usable(probe: Callable[[], Awaitable[str | None]], channel: RawChannel | None) -> None:
    """Before the first case: the liveness ``probe`` must pass; otherwise close ``channel`` (when one is open) and
    raise RuntimeError naming the problem (the IUT is not usable for fuzzing)."""
    problem = await probe()
    if problem:
        if channel is not None:
            await channel.close()
        raise RuntimeError(f"the IUT is not usable for fuzzing: {problem}")
