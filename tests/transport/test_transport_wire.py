"""CoapClient and CoapServer talking through a WireTap: every datagram in the trace, block-wise transfers
reassembled, bounded waits, raw datagrams."""

import asyncio
import json
import time

import aiocoap
import pytest

from conformance.transport import (
    CoapClient,
    CoapReply,
    CoapServer,
    Trace,
    TransmissionParams,
    TransportError,
    TransportTimeout,
    WireTap,
    codec,
    raw_exchange,
)
from conformance.transport.trace import FROM_IUT, TO_IUT


def uri(tap, path="/emap/EiEvent"):
    return f"coap://{tap.uri_authority}{path}"


async def test_post_through_tap_is_recorded(client, tap, trace):
    resp = await client.request(uri(tap), payload={"emapPoll": {"venID": "ven-1"}}, accept=50,
                                query=["a=1"], timeout=5)
    assert resp.code == "2.04" and resp.content_format == 50 and resp.max_age == 30
    echoed = json.loads(resp.payload)
    assert echoed["path"] == ["emap", "EiEvent"] and echoed["query"] == ["a=1"]
    assert echoed["content_format"] == 50 and echoed["accept"] == 50
    assert echoed["remote"] == f"127.0.0.1:{tap.client_ports()[trace.records[0].src]}"
    assert resp.message is None and resp.message_error
    req, ack = trace.records
    assert (req.direction, ack.direction) == (TO_IUT, FROM_IUT)
    assert req.src == ack.dst and req.dst == ack.src == f"127.0.0.1:{tap.target[1]}"
    assert req.coap.type_name == "CON" and ack.coap.type_name == "ACK" and req.coap.mid == ack.coap.mid
    assert req.emap.name == "emapPoll"
    (ex,) = trace.exchanges()
    assert (ex.method, ex.path, ex.code, ex.query) == ("POST", "/emap/EiEvent", "2.04", ["a=1"])
    assert ex.request_message.name == "emapPoll"


async def test_handler_decides_codes_and_methods(client, tap, trace):
    assert (await client.request(uri(tap, "/missing"), payload=b"x", timeout=5)).code == "4.04"
    assert (await client.request(uri(tap), method="GET", timeout=5)).code == "4.05"
    put = await client.request(uri(tap), method="PUT", payload="text", content_format=0, timeout=5)
    assert json.loads(put.payload)["content_format"] == 0
    non = await client.request(uri(tap), method="DELETE", confirmable=False, content_format=None, timeout=5)
    assert json.loads(non.payload)["method"] == "DELETE"
    codes = [(ex.method, ex.code, ex.confirmable) for ex in trace.exchanges()]
    assert codes == [("POST", "4.04", True), ("GET", "4.05", True), ("PUT", "2.04", True),
                     ("DELETE", "2.04", False)]


async def test_blockwise_5k_both_directions(client, tap, trace):
    body = {"emapPoll": {"venID": "v" * 5000}}
    resp = await client.request(uri(tap), payload=body, block_size_exp=4, timeout=10)
    assert resp.code == "2.04" and json.loads(json.loads(resp.payload)["payload"]) == body
    (ex,) = trace.exchanges()
    assert ex.blockwise and ex.code == "2.04"
    block1 = [r for r in ex.transmissions if r.coap.block(codec.BLOCK1)]
    block2 = [r for r in ex.responses if r.coap.block(codec.BLOCK2)]
    assert len(block1) == 20 and block1[0].coap.uint_option(codec.SIZE1) == len(ex.request_payload)
    assert len(block2) > 1
    assert json.loads(ex.request_payload) == body and ex.request_message.name == "emapPoll"
    assert ex.response_payload == resp.payload
    assert len(trace.records) == len(ex.records)


async def test_unanswered_con_times_out_and_client_recovers(client, silent_socket, tap):
    started = time.monotonic()
    with pytest.raises(TransportTimeout, match="within 0.3 s"):
        await client.request(f"coap://127.0.0.1:{silent_socket[1]}/x", payload=b"", timeout=0.3)
    assert time.monotonic() - started < 2
    resp = await client.request(uri(tap), payload=b"{}", timeout=2)
    assert resp.code == "2.04"


async def test_retransmissions_exhausted_is_a_timeout(silent_socket):
    async with await CoapClient.create(TransmissionParams(ack_timeout=0.05, max_retransmit=1)) as quick:
        started = time.monotonic()
        with pytest.raises(TransportTimeout, match="retransmissions exhausted"):
            await quick.request(f"coap://127.0.0.1:{silent_socket[1]}/x", payload=b"", timeout=5)
        assert time.monotonic() - started < 2


async def test_unanswered_non_and_fresh_context_are_bounded(client, silent_socket):
    target = f"coap://127.0.0.1:{silent_socket[1]}/x"
    with pytest.raises(TransportTimeout):
        await client.request(target, payload=b"", confirmable=False, timeout=0.2)
    with pytest.raises(TransportTimeout):
        await client.request(target, payload=b"", fresh=True, timeout=0.2)


async def test_one_upstream_per_client_and_trace_swap(server, tap, trace, fast):
    async with await CoapClient.create(fast) as other:
        async with await CoapClient.create(fast) as first:
            await first.request(uri(tap), payload=b"1", timeout=5)
            tap.trace = second_trace = Trace("second")
            await other.request(uri(tap), payload=b"2", timeout=5)
            assert len(tap.client_ports()) == 2
            assert len(set(tap.client_ports().values())) == 2
    assert len(trace.records) == 2 and len(second_trace.records) == 2
    assert trace.records[0].src != second_trace.records[0].src


async def test_raw_exchange_ping_and_malformed(server):
    trace = Trace("raw")
    ping = codec.encode(codec.CoapDatagram(codec.CON, 0, 0x4242))
    replies = await raw_exchange(server.address, ping, wait=0.3, trace=trace)
    assert [codec.decode(r).type_name for r in replies] == ["RST"]
    assert [r.direction for r in trace.records] == [TO_IUT, FROM_IUT]
    assert await raw_exchange(server.address, b"\x40", wait=0.1) == []


async def test_tap_stop_is_idempotent_and_closes(server, fast):
    tap = await WireTap.start(server.address)
    await tap.stop()
    await tap.stop()
    with pytest.raises(TransportError, match="ConnectionRefusedError"):
        async with await CoapClient.create(fast) as cl:
            await cl.request(uri(tap), payload=b"", timeout=1)


async def test_separate_response_survives_a_concurrent_timeout(client, tap, trace, silent_socket):
    slow = asyncio.create_task(client.request(uri(tap, "/slow"), payload=b"{}", timeout=5))
    with pytest.raises(TransportTimeout):
        await client.request(f"coap://127.0.0.1:{silent_socket[1]}/x", payload=b"", timeout=0.1)
    assert (await slow).code == "2.04"
    (ex,) = trace.exchanges()
    kinds = [(r.direction, r.coap.type_name, r.coap.code_text) for r in ex.records]
    assert kinds == [(TO_IUT, "CON", "0.02"), (FROM_IUT, "ACK", "0.00"), (FROM_IUT, "CON", "2.04"),
                     (TO_IUT, "ACK", "0.00")]
    assert ex.response.coap.type_name == "CON" and ex.rtt >= 0.3


async def test_first_block_hook_answers_413_at_once(client, trace, echo):
    async def too_large(request):
        return CoapReply("4.13", size1=1024) if request.size1 and request.size1 > 1024 else None

    async with await CoapServer.start(echo, first_block=too_large) as server:
        async with await WireTap.start(server.address, trace=trace) as tap:
            resp = await client.request(uri(tap), payload=b"x" * 3000, block_size_exp=4, timeout=5)
            small = await client.request(uri(tap), payload=b"y" * 900, block_size_exp=4, timeout=5)
    assert resp.code == "4.13" and resp.size1 == 1024
    assert small.code == "2.04" and json.loads(small.payload)["payload"] == "y" * 900
    big_ex, small_ex = trace.exchanges()
    assert len(big_ex.transmissions) == 1 and big_ex.code == "4.13"
    assert len(small_ex.transmissions) == 4


async def test_ipv6_server_behind_ipv4_tap(client, echo):
    async with await CoapServer.start(echo, bind=("::1", 0)) as server:
        assert server.uri_authority.startswith("[::1]:")
        async with await WireTap.start(server.address, trace=Trace("v6")) as tap:
            resp = await client.request(uri(tap), payload=b"{}", timeout=5)
    assert resp.code == "2.04" and json.loads(resp.payload)["remote"].startswith("[::1]:")
    assert tap.trace.records[0].dst == server.uri_authority


async def test_host_resolved_once_per_context(client, tap, trace, monkeypatch):
    """A plain-CoAP client resolves a URI's authority once per context and reuses the remote: same wire, both
    answered; a retired context's remotes are dropped."""
    resolved = []
    context = client._context
    find = context.find_remote_and_interface

    async def counting(message):
        resolved.append(message.remote)
        return await find(message)

    monkeypatch.setattr(context, "find_remote_and_interface", counting)
    for path in ("/emap/EiEvent", "/emap/EmapPoll"):
        assert (await client.request(uri(tap, path), payload=b"{}", timeout=5)).code == "2.04"
    undecided = [r for r in resolved if isinstance(r, aiocoap.message.UndecidedRemote)]
    assert len(trace.exchanges()) == 2 and len(undecided) == 1  # later lookups only recognise the kept remote
    assert [ex.path for ex in trace.exchanges()] == ["/emap/EiEvent", "/emap/EmapPoll"]
    client._retire(context)
    assert not client._remotes
