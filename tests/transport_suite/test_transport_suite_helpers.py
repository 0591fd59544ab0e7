"""The transport suite's own helpers: the retransmission judge, exchange-level fault plans, the probe."""

from __future__ import annotations

import pytest

from conformance.peer.transport_faults import ExchangeFaults
from conformance.peer.transport_probe import TransportProbe
from conformance.profiles.model import Timing
from conformance.testcases.transport.support import retransmission_problems
from conformance.transport import (
    CoapClient,
    CoapReply,
    CoapServer,
    Trace,
    TransmissionParams,
    TransportError,
    TransportReset,
    WireTap,
    codec,
)

PARAMS = TransmissionParams(ack_timeout=0.2, ack_random_factor=1.5, max_retransmit=2)
TIMING = Timing(t_prompt_s=1, ack_timeout_s=0.2, ack_random_factor=1.5, max_retransmit=2, backoff_initial_s=1,
                backoff_cap_s=2, tolerance_s=0.2)


@pytest.mark.parametrize(("times", "problems"), [
    ([0.0, 0.25, 0.75], 0),  # T0 = 0.25 in [0.2, 0.3], doubled
    ([0.0, 0.25], 1),  # gave up after one retransmission
    ([0.0, 0.25, 0.75, 1.75], 1),  # one retransmission too many
    ([0.0, 0.9, 1.2], 3),  # first timeout too long, second too short and not doubled
])
def test_retransmission_judge(times, problems):
    assert len(retransmission_problems(times, PARAMS, 0.05)) == problems


async def answer(_request) -> CoapReply:
    return CoapReply("2.04", b'{"ok":1}', content_format=50)


@pytest.mark.parametrize(("code", "reset", "expected"), [(None, False, None), (None, True, None),
                                                         ("5.03", False, "5.03")])
async def test_exchange_faults(code, reset, expected):
    trace = Trace("faults")
    plan = ExchangeFaults("to-iut", path_suffix="/a", code=code, max_age=3, reset=reset)
    async with await CoapServer.start(answer) as server, \
            await WireTap.start(target=server.address, trace=trace, faults=plan) as tap, \
            await CoapClient.create(PARAMS) as client:
        base = f"coap://{tap.uri_authority}"
        first = await client.request(base + "/a", payload=b"{}", timeout=3, fresh=True) if code else None
        if code is None:
            with pytest.raises(TransportReset if reset else TransportError):
                await client.request(base + "/a", payload=b"{}", timeout=3, fresh=True)
        second = await client.request(base + "/a", payload=b"{}", timeout=3)
    assert (first.code if first else None) == expected
    if first is not None:
        assert first.max_age == 3
    assert second.code == "2.04"
    faulted = [r for r in trace.records if r.fault]
    assert faulted and all(r.coap.mid == faulted[0].coap.mid for r in faulted)
    assert len(plan.hits) == 1


async def test_probe_raw_and_request():
    trace = Trace("probe")
    async with await CoapServer.start(answer) as server:
        async with TransportProbe(trace, TIMING, f"coap://127.0.0.1:{server.address[1]}/emap", seed=3) as probe:
            sent = await probe.request(probe.path("EiEvent"), payload=b"{}")
            assert sent.exchange.code == "2.04" and sent.response.code == "2.04"
            datagram = codec.encode(probe.datagram(probe.path("EiEvent"), b"{}"))
            replies = await probe.raw([datagram, b"\x40"], wait=[1.0, 0.2], until_answer=[True, False])
    assert codec.decode(replies[0][0]).code_text == "2.04"
    assert replies[1] == []
    assert [ex.code for ex in trace.exchanges()] == ["2.04", "2.04"]
