"""The retransmission measurement of TC-T-7.1.5-01 (EMAP-7.1.5-01) on a CoAP stack we did not write: libcoap's
coap-client-notls POSTs through the WireTap, whose seeded fault plan drops its first two transmissions; the trace's
timings must fit libcoap's defaults (ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5) and the judge must reject other
parameters."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from conformance.testcases.transport.support import retransmission_problems
from conformance.transport import (
    CoapReply,
    CoapServer,
    FaultPlan,
    FaultRule,
    Trace,
    TransmissionParams,
    WireTap,
)

CLIENT = shutil.which("coap-client-notls")
DROPPED = 2
TOLERANCE = 0.3  # tighter than the binding's 1 s: the loopback adds milliseconds


async def changed(_request) -> CoapReply:
    return CoapReply("2.04", b'{"ok":true}', content_format=50)


@pytest.mark.skipif(CLIENT is None, reason="libcoap3-bin (coap-client-notls) is not installed")
async def test_libcoap_retransmissions_measured():
    trace = Trace("libcoap")
    plan = FaultPlan(7, [FaultRule("drop", direction="to-iut", nth=tuple(range(1, DROPPED + 1)))])
    async with await CoapServer.start(changed) as server, \
            await WireTap.start(target=server.address, trace=trace, faults=plan) as tap:
        uri = f"coap://{tap.uri_authority}/emap/EiRegisterParty"
        process = await asyncio.create_subprocess_exec(
            CLIENT, "-m", "post", "-t", "50", "-e", '{"emapPoll":{"venID":"v"}}', "-B", "20", uri,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await asyncio.wait_for(process.communicate(), 25)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    exchanges = [ex for ex in trace.exchanges() if ex.direction == "to-iut"]
    assert len(exchanges) == 1 and exchanges[0].code == "2.04"
    times = [r.t for r in exchanges[0].transmissions]
    assert [r.fault is not None for r in exchanges[0].transmissions] == [True] * DROPPED + [False]
    libcoap_defaults = TransmissionParams()
    assert retransmission_problems(times, libcoap_defaults, TOLERANCE, exhausted=False) == []
    wrong = TransmissionParams(ack_timeout=1.0, ack_random_factor=1.2, max_retransmit=4)
    assert retransmission_problems(times, wrong, TOLERANCE, exhausted=False)
