"""pcapng export: synthesised IPv4/IPv6 + UDP packets that tshark decodes as CoAP with the recorded fields."""

import struct

from conformance.transport import Trace, codec
from conformance.transport.pcapng import ip_udp_packet, pcapng_bytes, write_pcapng

REQUEST = codec.request("POST", "/emap/EiEvent", mid=0x1234, token=b"\x01", payload=b'{"a":1}',
                        content_format=50)
ANSWER = codec.CoapDatagram(codec.ACK, codec.code_of("2.04"), 0x1234, b"\x01")


def sample_trace():
    trace = Trace("pcap")
    trace.record("to-iut", "127.0.0.1:40000", "127.0.0.1:5999", codec.encode(REQUEST))
    trace.record("from-iut", "127.0.0.1:5999", "127.0.0.1:40000", codec.encode(ANSWER))
    trace.record("to-iut", "[::1]:40001", "[::1]:5999", codec.encode(REQUEST))
    return trace


def test_block_structure():
    data = pcapng_bytes(sample_trace().records)
    block_type, length, magic = struct.unpack_from("<III", data)
    assert (block_type, magic) == (0x0A0D0D0A, 0x1A2B3C4D)
    offset, types = 0, []
    while offset < len(data):
        btype, blen = struct.unpack_from("<II", data, offset)
        assert blen % 4 == 0 and struct.unpack_from("<I", data, offset + blen - 4)[0] == blen
        types.append(btype)
        offset += blen
    assert types == [0x0A0D0D0A, 1, 6, 6, 6]


def test_ipv4_header_fields():
    packet = ip_udp_packet("10.0.0.1:1000", "10.0.0.2:5683", b"xyz")
    assert packet[0] == 0x45 and packet[9] == 17 and struct.unpack_from("!HH", packet, 20) == (1000, 5683)
    assert struct.unpack_from("!H", packet, 2)[0] == len(packet) == 20 + 8 + 3


async def test_tshark_reads_coap(tmp_path, require_tool, tool_runner):
    tshark = require_tool("tshark")
    path = tmp_path / "trace.pcapng"
    write_pcapng(sample_trace().records, path)
    code, out, err = await tool_runner(
        tshark, "-r", str(path), "-d", "udp.port==5999,coap", "-o", "udp.check_checksum:TRUE",
        "-T", "fields", "-E", "separator=|", "-e", "udp.srcport", "-e", "coap.code", "-e", "coap.mid",
        "-e", "coap.opt.uri_path", "-e", "udp.checksum.status", timeout=30)
    assert code == 0, err
    rows = [line.split("|") for line in out.splitlines() if line]
    assert rows == [["40000", "2", "4660", "emap,EiEvent", "1"], ["5999", "68", "4660", "", "1"],
                    ["40001", "2", "4660", "emap,EiEvent", "1"]]
