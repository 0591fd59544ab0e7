"""Fixtures for the transport tests: an echo CoapServer, a fast CoapClient, a trace and a tap in front of the server."""

import asyncio
import json

import pytest_asyncio

from conformance.transport import CoapClient, CoapReply, CoapServer, Trace, TransmissionParams, WireTap

FAST = TransmissionParams(ack_timeout=0.2, ack_random_factor=1.5, max_retransmit=2)


async def echo_handler(request):
    """Echo the request as JSON; /missing answers 4.04, GET 4.05 (the handler's decision), /slow answers late."""
    if request.path == ("missing",):
        return CoapReply("4.04")
    if request.method == "GET":
        return CoapReply("4.05")
    if request.path == ("slow",):
        await asyncio.sleep(0.3)  # longer than aiocoap's empty-ACK delay: forces a separate response
    body = {"method": request.method, "path": list(request.path), "query": list(request.query),
            "content_format": request.content_format, "accept": request.accept,
            "payload": request.payload.decode("utf-8", "replace"), "remote": request.remote}
    return CoapReply("2.04", json.dumps(body).encode(), content_format=50, max_age=30)


@pytest_asyncio.fixture
async def fast():
    """Short CoAP timers so unanswered CONs end quickly."""
    return FAST


@pytest_asyncio.fixture
async def echo():
    """The echo handler, for tests that start their own server."""
    return echo_handler


@pytest_asyncio.fixture
async def server():
    srv = await CoapServer.start(echo_handler)
    yield srv
    await srv.stop()


@pytest_asyncio.fixture
async def client():
    cl = await CoapClient.create(FAST)
    yield cl
    await cl.close()


@pytest_asyncio.fixture
async def trace():
    return Trace("transport-test")


@pytest_asyncio.fixture
async def tap(server, trace):
    wt = await WireTap.start(server.address, trace=trace)
    yield wt
    await wt.stop()


@pytest_asyncio.fixture
async def silent_socket():
    """A bound UDP socket that never answers: (host, port)."""
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
    yield transport.get_extra_info("sockname")[:2]
    transport.close()


