"""Benchmark 1: reference-peer overhead. Exchanges/s of the reference peer (``LowerPeer``: WireTap,
per-datagram trace with EMAP decoding, CoapClient with bounded waits) against a bare aiocoap client context,
both sending the same ``emapPoll`` POSTs one after the other to the same aiocoap echo server (its own
process). Target >= 0.8.

    python benchmarks/peer_overhead.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiocoap
from support import ECHO_SERVER, emit, server_process, verdict

from conformance.messages import build as B
from conformance.messages import encode
from conformance.peer.lower import LowerPeer
from conformance.profiles.model import Timing
from conformance.transport.trace import Trace

VEN = "ven-bench"


async def peer_rate(uri: str, seconds: float) -> tuple[float, float, int]:
    """Sequential polls by the reference peer; (exchanges/s, client CPU ms per exchange, trace records)."""
    peer = LowerPeer(trace=Trace("bench"), timing=Timing(), iut_uri=uri)
    peer.ven_id = VEN
    async with peer:
        await peer.poll()  # warm-up: tap, client context, message model
        count, deadline, cpu = 0, time.monotonic() + seconds, time.process_time()
        while time.monotonic() < deadline:
            await peer.poll()
            count += 1
        cpu = time.process_time() - cpu
    return count / seconds, cpu * 1000 / count, len(peer.trace.records)


async def bare_rate(uri: str, seconds: float) -> tuple[float, float]:
    """Sequential polls from one aiocoap client context, no tap, no trace, no validation; (exchanges/s, CPU ms
    per exchange)."""
    context = await aiocoap.Context.create_client_context(transports=["udp6"])
    payload = encode(B.poll(VEN))
    resource = uri.rstrip("/") + "/EmapPoll"

    async def one():
        message = aiocoap.Message(code=aiocoap.POST, uri=resource, payload=payload, content_format=50)
        async with asyncio.timeout(10):
            return await context.request(message).response

    try:
        await one()
        count, deadline, cpu = 0, time.monotonic() + seconds, time.process_time()
        while time.monotonic() < deadline:
            await one()
            count += 1
        cpu = time.process_time() - cpu
    finally:
        await context.shutdown()
    return count / seconds, cpu * 1000 / count


async def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds; the median ratio is reported")
    ns = p.parse_args(argv)
    reply = encode(B.response("", "200", VEN)).decode()
    ratios, rows = [], []
    async with server_process(ECHO_SERVER, reply) as echo:
        for _ in range(ns.rounds):  # alternate, so a noisy neighbour hits both sides alike
            bare, bare_cpu = await bare_rate(echo.uri, ns.seconds)
            peer, peer_cpu, records = await peer_rate(echo.uri, ns.seconds)
            ratios.append(peer / bare)
            rows.append(
                {
                    "peer_per_s": round(peer, 1),
                    "bare_per_s": round(bare, 1),
                    "peer_cpu_ms": round(peer_cpu, 3),
                    "bare_cpu_ms": round(bare_cpu, 3),
                    "trace_records": records,
                }
            )
    ratio = sorted(ratios)[len(ratios) // 2]
    cpu = sorted(r["peer_cpu_ms"] / r["bare_cpu_ms"] for r in rows)[len(rows) // 2]
    emit(
        "peer-overhead",
        {
            "rounds": rows,
            "ratio": f"{ratio:.3f} ({verdict(ratio, 0.8, at_least=True)})",
            "client_cpu_per_exchange_peer_over_bare": round(cpu, 2),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
