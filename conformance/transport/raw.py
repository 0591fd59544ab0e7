"""Raw datagram exchange: send crafted bytes to an endpoint and gather every datagram that comes back."""

from __future__ import annotations

import asyncio

from .tap import DatagramEndpoint, format_address
from .trace import FROM_IUT, TO_IUT, Trace


async def raw_exchange(address: tuple[str, int], data: bytes, wait: float, *, trace: Trace | None = None,
                       direction: str = TO_IUT) -> list[bytes]:
    """Send `data` from a fresh socket to `address`; return all datagrams received within `wait` seconds.

    When `trace` is given, the sent datagram and the replies are recorded (`direction` is that of the sent one)."""
    received: list[bytes] = []
    dst = format_address(address)
    back = FROM_IUT if direction == TO_IUT else TO_IUT
    errors: list[Exception] = []

    def on_datagram(payload: bytes, _addr) -> None:
        received.append(payload)
        if trace is not None:
            trace.record(back, dst, src, payload)

    loop = asyncio.get_running_loop()
    _, endpoint = await loop.create_datagram_endpoint(lambda: DatagramEndpoint(on_datagram, errors.append),
                                                      remote_addr=(address[0], int(address[1])))
    try:
        src = format_address(endpoint.transport.get_extra_info("sockname"))
        if trace is not None:
            trace.record(direction, src, dst, data)
        endpoint.send(data)
        await asyncio.sleep(wait)
    finally:
        await endpoint.close()
    if errors and trace is not None:
        trace.note(f"raw exchange with {dst}: {errors[0]}")
    return received
