"""Interoperability with libcoap (Debian libcoap3-bin): its client through a WireTap to our CoapServer, our
CoapClient through a WireTap to its server; the trace must hold the datagrams libcoap itself logged."""

import asyncio
import json
import re
import socket

from conformance.transport import CoapClient, CoapReply, CoapServer, Trace, TransportError, WireTap
from conformance.transport.codec import BLOCK1

PDU_LOG = re.compile(r"v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]{4}) \{([0-9a-f]*)\}")
POLL = '{"emapPoll":{"venID":"ven-1"}}'


def libcoap_pdus(log: str) -> list[tuple[str, str, int, str]]:
    """(type, code or method, MID, token hex) of every PDU libcoap printed with -v 7."""
    return [(t, c, int(mid, 16), tok) for t, c, mid, tok in PDU_LOG.findall(log)]


def traced_pdus(trace: Trace) -> list[tuple[str, str, int, str]]:
    return [(r.coap.type_name, r.coap.method or r.coap.code_text, r.coap.mid, r.coap.token.hex())
            for r in trace.records]


async def echo(request):
    return CoapReply("2.04", json.dumps({"got": len(request.payload), "path": list(request.path)}).encode(),
                     content_format=50)


async def test_libcoap_client_posts_through_tap(require_tool, tool_runner, tmp_path):
    coap_client = require_tool("coap-client-notls")
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"emapPoll": {"venID": "v" * 5000}}))
    async with await CoapServer.start(echo) as server:
        async with await WireTap.start(server.address, trace=Trace("libcoap-client")) as tap:
            base = f"coap://{tap.uri_authority}/emap/OadrPoll"
            answer = tmp_path / "answer.json"
            code, out, err = await tool_runner(coap_client, "-m", "post", "-t", "50", "-e", POLL, "-v", "7",
                                               "-B", "5", "-o", str(answer), base)
            assert code == 0, err
            assert json.loads(answer.read_text()) == {"got": len(POLL), "path": ["emap", "OadrPoll"]}
            assert traced_pdus(tap.trace) == libcoap_pdus(out + err)
            (ex,) = tap.trace.exchanges()
            assert (ex.method, ex.path, ex.code) == ("POST", "/emap/OadrPoll", "2.04")
            assert ex.request_message.name == "emapPoll"

            tap.trace = Trace("libcoap-blockwise")
            code, out, err = await tool_runner(coap_client, "-m", "post", "-t", "50", "-b", "256", "-f",
                                               str(big), "-v", "7", "-B", "5", base)
            assert code == 0, err
            (ex,) = tap.trace.exchanges()
            assert ex.code == "2.04" and ex.request_payload == big.read_bytes()
            assert len([r for r in ex.transmissions if r.coap.block(BLOCK1)]) == 20
            assert set(traced_pdus(tap.trace)) == set(libcoap_pdus(out + err))  # libcoap logs some PDUs twice


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_serving(client: CoapClient, uri: str, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            try:
                await client.request(uri, method="GET", timeout=0.3, fresh=True)
                return
            except TransportError:
                await asyncio.sleep(0.05)


async def test_our_client_through_tap_to_libcoap_server(require_tool, fast):
    coap_server = require_tool("coap-server-notls")
    port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(coap_server, "-A", "127.0.0.1", "-p", str(port), "-d", "10",
                                                "-v", "7", stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        async with await CoapClient.create(fast) as client:
            await wait_until_serving(client, f"coap://127.0.0.1:{port}/time", within=5)
            async with await WireTap.start(("127.0.0.1", port), trace=Trace("libcoap-server")) as tap:
                uri = f"coap://{tap.uri_authority}/emap/store"
                put = await client.request(uri, method="PUT", payload=POLL, timeout=5)
                got = await client.request(uri, method="GET", payload=None, timeout=5)
                non = await client.request(f"coap://{tap.uri_authority}/time", method="POST", payload=b"x",
                                           confirmable=False, timeout=5)
    finally:
        proc.terminate()
        async with asyncio.timeout(5):
            log, _ = await proc.communicate()
    assert set(traced_pdus(tap.trace)) <= set(libcoap_pdus(log.decode(errors="replace")))
    assert put.code in ("2.01", "2.04") and got.code == "2.05" and got.payload == POLL.encode()
    assert got.message.name == "emapPoll" and non.code == "4.05"
    put_ex, get_ex, non_ex = tap.trace.exchanges()
    assert (put_ex.method, put_ex.code) == ("PUT", put.code)
    assert get_ex.response.coap.type_name == "ACK" and get_ex.response_message.name == "emapPoll"
    assert non_ex.response.coap.type_name == "NON" and non_ex.code == "4.05"
    assert all(r.coap is not None for r in tap.trace.records)
