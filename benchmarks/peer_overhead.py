"""Benchmark 1: reference-peer overhead. Exchanges/s of the reference peer (``LowerPeer`` exactly as test runs
use it: WireTap, per-datagram trace, CoapClient with bounded waits) against a bare aiocoap client context, both
sending the same ``emapPoll`` POSTs one after the other to the same aiocoap echo server (its own process).
Target >= 0.8.

A trace record keeps the raw datagram and decodes it (CoAP, then EMAP validation) on first read, and a response's
EMAP message is validated when first read (``Posted.message``; the loop here, like a test that judges the trace,
does not read it). In a test run the verdict and the report read every record after the exchanges, so each round
also times that first read of the whole trace after its loop (``trace_decode_ms`` per exchange), and
``ratio_incl_trace_decode`` counts it into the peer's time. Every poll and answer here is the same payload, so the
message model's validation cache helps this read more than it helps a test run.

Plain aiocoap resolves a request URI's host for every request (getaddrinfo in a worker thread); the peer's
CoapClient resolves it once per client context. So the ratio is also printed against a bare client that resolves
once and reuses the remote (``ratio_vs_bare_resolving_once``): the peer's cost for its tap, trace and bounded
waits alone.

    python benchmarks/peer_overhead.py [--seconds 5] [--rounds 5]
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


async def peer_rate(uri: str, seconds: float) -> tuple[float, float, int, float]:
    """Sequential polls by the reference peer, then the first read of its trace; (exchanges/s, client CPU ms per
    exchange, trace records, ms per exchange to decode the trace)."""
    peer = LowerPeer(trace=Trace("bench"), timing=Timing(), iut_uri=uri)
    peer.ven_id = VEN
    async with peer:
        await peer.poll()  # warm-up: tap, client context, message model
        count, deadline, cpu = 0, time.monotonic() + seconds, time.process_time()
        while time.monotonic() < deadline:
            await peer.poll()
            count += 1
        cpu = time.process_time() - cpu
    began = time.monotonic()
    for record in peer.trace.records:  # what a verdict and the report read: CoAP and EMAP decoding
        _ = record.emap
    decode = time.monotonic() - began
    return count / seconds, cpu * 1000 / count, len(peer.trace.records), decode * 1000 / count


async def bare_rate(uri: str, seconds: float, *, resolve_once: bool = False) -> tuple[float, float]:
    """Sequential polls from one aiocoap client context, no tap, no trace, no validation; (exchanges/s, CPU ms
    per exchange). Plain aiocoap resolves the URI's host for every request; with ``resolve_once`` the client
    resolves it once and reuses the remote, as the peer's CoapClient does."""
    context = await aiocoap.Context.create_client_context(transports=["udp6"])
    payload = encode(B.poll(VEN))
    resource = uri.rstrip("/") + "/EmapPoll"
    resolved = []

    async def one():
        message = aiocoap.Message(code=aiocoap.POST, uri=resource, payload=payload, content_format=50)
        if resolved:
            message.remote = resolved[0]
        elif resolve_once:
            await context.find_remote_and_interface(message)
            resolved.append(message.remote)
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


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


async def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement (default 5)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds; the median ratio is reported")
    ns = p.parse_args(argv)
    reply = encode(B.response("", "200", VEN)).decode()
    ratios, with_decode, resolved_ratios, rows = [], [], [], []
    async with server_process(ECHO_SERVER, reply) as echo:
        for _ in range(ns.rounds):  # alternate, so a noisy neighbour hits both sides alike
            bare, bare_cpu = await bare_rate(echo.uri, ns.seconds)
            lean, _ = await bare_rate(echo.uri, ns.seconds, resolve_once=True)
            peer, peer_cpu, records, decode_ms = await peer_rate(echo.uri, ns.seconds)
            ratios.append(peer / bare)
            resolved_ratios.append(peer / lean)
            with_decode.append(1000 / (1000 / peer + decode_ms) / bare)
            rows.append(
                {
                    "peer_per_s": round(peer, 1),
                    "bare_per_s": round(bare, 1),
                    "bare_resolve_once_per_s": round(lean, 1),
                    "peer_cpu_ms": round(peer_cpu, 3),
                    "bare_cpu_ms": round(bare_cpu, 3),
                    "trace_records": records,
                    "trace_decode_ms": round(decode_ms, 3),
                }
            )
    cpu = median([r["peer_cpu_ms"] / r["bare_cpu_ms"] for r in rows])
    emit(
        "peer-overhead",
        {
            "rounds": rows,
            "ratio": f"{median(ratios):.3f} ({verdict(median(ratios), 0.8, at_least=True)})",
            "ratio_incl_trace_decode": round(median(with_decode), 3),
            "ratio_vs_bare_resolving_once": f"{median(resolved_ratios):.3f} "
                                            f"({verdict(median(resolved_ratios), 0.8, at_least=True)})",
            "client_cpu_per_exchange_peer_over_bare": round(cpu, 2),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
