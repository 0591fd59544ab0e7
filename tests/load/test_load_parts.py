"""Parts of the load simulator: mix and plan checks, statistics, the lean CoAP endpoint."""

from __future__ import annotations

import asyncio
import random

import pytest

from conformance.load.channel import ChannelError, Endpoint
from conformance.load.plan import LoadPlan, Mix, PlanError, allowed_address, resolve_target
from conformance.load.stats import LoadStats, percentile
from conformance.transport import CoapReply, CoapServer, TransmissionParams

QUICK = TransmissionParams(ack_timeout=0.1, ack_random_factor=1.0, max_retransmit=2)


def test_mix_parses_normalises_and_interleaves():
    mix = Mix.parse("pull=0.3,push=0.1")
    assert (mix.pull, mix.push) == pytest.approx((0.75, 0.25))
    assert sum(mix.is_push(i) for i in range(100)) == 25
    assert not mix.is_push(0) and mix.is_push(3)
    assert Mix.parse(None) == Mix()


@pytest.mark.parametrize(
    "text, needle",
    [
        ("pull", "NAME=NUMBER"),
        ("walk=1", "NAME=NUMBER"),
        ("opt=x", "not a number"),
        ("opt=2", "between 0 and 1"),
        ("pull=0,push=0", "both 0"),
        ("opt=0.5,report=0.5,event=0.5", "exceeds"),
    ],
)
def test_bad_mix_is_one_line_naming_the_item(text, needle):
    with pytest.raises(PlanError, match=needle):
        Mix.parse(text)


def test_plan_bounds_time_and_load():
    with pytest.raises(PlanError, match="--lower-emas"):
        LoadPlan(iut="coap://127.0.0.1/emap", lower_emas=10_001, duration_s=1)
    with pytest.raises(PlanError, match="--duration"):
        LoadPlan(iut="coap://127.0.0.1/emap", lower_emas=1, duration_s=3601)
    plan = LoadPlan(iut="coap://127.0.0.1/emap", lower_emas=1000, duration_s=12)
    assert plan.full_checks == 50 and plan.ramp == 6


def test_only_loopback_and_private_networks():
    assert allowed_address("127.0.0.1") and allowed_address("::1") and allowed_address("192.168.1.20")
    assert (
        allowed_address("fd00::7") and not allowed_address("8.8.8.8") and not allowed_address("2001:db8::1x")
    )
    assert resolve_target("coap://localhost:5999/emap")[1:] == (5999, ("emap",))
    with pytest.raises(PlanError, match="no base path"):
        resolve_target("coap://127.0.0.1:5683")
    with pytest.raises(PlanError, match="loopback"):
        resolve_target("coap://1.1.1.1/emap")


def test_stats_percentiles_outcomes_and_timeline():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0 and percentile([], 99) is None
    stats = LoadStats(seed=1, reservoir=10)
    for i in range(100):
        stats.record("EmapPoll", "2.04/200" if i % 10 else "5.03", (i + 1) / 1000, i / 50)
    summary = stats.summary(2.0)
    poll = summary["resources"]["EmapPoll"]
    assert summary["exchanges"] == 100 and summary["per_s"] == 50 and summary["failed"] == 10
    assert summary["errors_by_code"] == {"5.03": 10}
    assert len(stats.latency["EmapPoll"].values) == 10  # bounded reservoir
    assert poll["latency_ms"]["max"] <= 100 and sum(b["count"] for b in poll["histogram_ms"]) == 10
    assert [row["t"] for row in summary["timeline"]] == [0, 1] and summary["timeline"][0]["exchanges"] == 50


def test_exchanges_after_the_stop_count_apart_from_the_rates():
    stats = LoadStats(seed=1)
    stats.stop_at = 2.0
    for t in (0.5, 1.0, 1.5, 1.9, 2.0, 2.5):  # the last two: cancellations after the stop signal
        stats.record("EiRegisterParty", "2.04/200", 0.01, t)
    summary = stats.summary(2.0)
    assert summary["exchanges"] == 6 and summary["after_stop"] == 2 and summary["per_s"] == 2
    assert summary["resources"]["EiRegisterParty"]["per_s"] == 2


async def test_endpoint_reassembles_block_wise_both_ways():
    seen = []

    async def handle(request):
        seen.append(len(request.payload))
        return CoapReply(payload=b"x" * 3000, content_format=50)

    server = await CoapServer.start(handle)
    endpoint = await Endpoint.open(server.address, QUICK, random.Random(1))
    try:
        reply = await endpoint.post(("emap", "EiReport"), b"y" * 2500, timeout=5)
    finally:
        endpoint.close()
        await server.stop()
    assert seen == [2500]
    assert (reply.code, len(reply.payload), reply.content_format) == ("2.04", 3000, 50)


async def test_endpoint_retransmits_then_times_out_against_silence():
    loop = asyncio.get_running_loop()
    received = []
    silent, _ = await loop.create_datagram_endpoint(
        lambda: type(
            "Sink", (asyncio.DatagramProtocol,), {"datagram_received": lambda s, d, a: received.append(d)}
        )(),
        local_addr=("127.0.0.1", 0),
    )
    endpoint = await Endpoint.open(silent.get_extra_info("sockname")[:2], QUICK, random.Random(2))
    try:
        with pytest.raises(ChannelError) as caught:
            await endpoint.post(("emap", "EmapPoll"), b"{}", timeout=3)
    finally:
        endpoint.close()
        silent.close()
    assert caught.value.kind == "timeout"
    assert len(received) == 3 and len(set(received)) == 1  # MAX_RETRANSMIT 2: three identical CONs
