"""Seeded fault plans: deterministic decisions and their effect on the wire through a WireTap."""

import asyncio

import pytest

from conformance.transport import CoapClient, FaultPlan, FaultRule, Trace, TransportReset, WireTap, codec
from conformance.transport.trace import FROM_IUT, TO_IUT

RULES = (FaultRule("drop", fraction=0.3), FaultRule("corrupt", direction=TO_IUT, fraction=0.5, count=2),
         FaultRule("duplicate", direction=FROM_IUT, nth=(2, 5)), FaultRule("delay", fraction=0.2, delay=0.1))


def decisions(seed):
    plan = FaultPlan(seed, RULES)
    datagram = bytes(range(40))
    return [(o.data, o.drop, o.copies, o.delay, o.label)
            for o in (plan.decide(TO_IUT if i % 3 else FROM_IUT, datagram) for i in range(300))]


def test_same_seed_same_decisions_other_seed_differs():
    first = decisions(7)
    assert first == decisions(7)
    assert first != decisions(8)
    assert any(drop for _, drop, *_ in first) and not all(drop for _, drop, *_ in first)


def test_nth_counts_per_direction():
    plan = FaultPlan(1, [FaultRule("drop", direction=FROM_IUT, nth=2), FaultRule("truncate", nth=1, length=3)])
    outcomes = [(d, plan.decide(d, b"abcdef")) for d in (TO_IUT, FROM_IUT, TO_IUT, FROM_IUT)]
    assert [(o.drop, o.data) for _, o in outcomes] == [
        (False, b"abc"), (False, b"abc"), (False, b"abcdef"), (True, b"abcdef")]


def test_unknown_action_is_rejected():
    with pytest.raises(ValueError, match="unknown fault action 'explode'"):
        FaultRule("explode")


async def faulty_tap(server, *rules):
    return await WireTap.start(server.address, trace=Trace("faults"), faults=FaultPlan(3, rules))


async def test_dropped_request_is_retransmitted(server, client):
    tap = await faulty_tap(server, FaultRule("drop", direction=TO_IUT, nth=1))
    try:
        resp = await client.request(f"coap://{tap.uri_authority}/x", payload=b"{}", timeout=5)
    finally:
        await tap.stop()
    assert resp.code == "2.04"
    (ex,) = tap.trace.exchanges()
    assert [r.fault for r in ex.transmissions] == ["dropped", None]
    assert ex.transmissions[0].coap.mid == ex.transmissions[1].coap.mid


async def test_truncated_and_duplicated_datagrams(server, client):
    tap = await faulty_tap(server, FaultRule("truncate", direction=TO_IUT, nth=1, length=3),
                           FaultRule("duplicate", direction=TO_IUT, nth=2))
    try:
        resp = await client.request(f"coap://{tap.uri_authority}/x", payload=b"{}", timeout=5)
    finally:
        await tap.stop()
    assert resp.code == "2.04"
    records = tap.trace.records
    assert records[0].fault == "truncated to 3 bytes" and records[0].error.startswith("short header")
    assert [r.fault for r in records[1:3]] == ["duplicated", "duplicate copy"]
    (ex,) = tap.trace.exchanges()
    assert len(ex.transmissions) == 2 and ex.code == "2.04"


async def test_rst_instead_of_forwarding(server):
    tap = await faulty_tap(server, FaultRule("rst", direction=TO_IUT))
    try:
        async with await CoapClient.create() as client:
            with pytest.raises(TransportReset):
                await client.request(f"coap://{tap.uri_authority}/x", payload=b"{}", timeout=5)
    finally:
        await tap.stop()
    request, rst = tap.trace.records
    assert request.fault == "answered with RST by the tap" and rst.coap.type_name == "RST"
    assert rst.coap.mid == request.coap.mid and rst.direction == FROM_IUT
    assert tap.trace.exchanges()[0].reset


async def test_delay_shows_in_rtt(server, client):
    tap = await faulty_tap(server, FaultRule("delay", direction=FROM_IUT, delay=0.15))
    try:
        await client.request(f"coap://{tap.uri_authority}/x", payload=b"{}", timeout=5)
    finally:
        await tap.stop()
    ex = tap.trace.exchanges()[0]
    assert ex.rtt >= 0.15 and ex.response.fault == "delayed 0.15 s"


async def test_reorder_swaps_with_next_datagram():
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[bytes] = asyncio.Queue()

    class Sink(asyncio.DatagramProtocol):
        def datagram_received(self, data, addr):
            got.put_nowait(data)

    sink, _ = await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0))
    tap = await WireTap.start(sink.get_extra_info("sockname")[:2], faults=FaultPlan(0, [
        FaultRule("reorder", direction=TO_IUT, nth=1, delay=5)]))
    sender, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=tap.address)
    try:
        for mid in (1, 2, 3):
            sender.sendto(codec.encode(codec.CoapDatagram(codec.NON, 2, mid)))
        async with asyncio.timeout(5):
            mids = [codec.decode(await got.get()).mid for _ in range(3)]
    finally:
        sender.close()
        await tap.stop()
        sink.close()
    assert mids == [2, 1, 3]
    assert [r.coap.mid for r in tap.trace.records] == [2, 1, 3]
