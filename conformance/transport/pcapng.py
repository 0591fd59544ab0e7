"""Write trace records as a pcapng capture (raw IP link type) that Wireshark/tshark decode as CoAP.

Each datagram gets a synthesised IPv4 (or IPv6) and UDP header with the record's real addresses and ports and the
record's wall-clock timestamp. Decode non-default ports with `tshark -d udp.port==PORT,coap`.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from .trace import TraceRecord

LINKTYPE_RAW = 101
_SHB, _IDB, _EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_UDP = 17


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    total = len(body) + 12
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse_endpoint(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """Split "host:port" / "[v6]:port" into an IP address and port; raises ValueError naming the endpoint."""
    host, sep, port = text.rpartition(":")
    try:
        if not sep:
            raise ValueError("no port")
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError as exc:
        raise ValueError(f"trace endpoint {text!r} is not an IP address with a port: {exc}") from None


def ip_udp_packet(src: str, dst: str, payload: bytes) -> bytes:
    """An IPv4 or IPv6 packet carrying `payload` in UDP between the two endpoints (checksums filled in)."""
    (saddr, sport), (daddr, dport) = parse_endpoint(src), parse_endpoint(dst)
    if saddr.version != daddr.version:
        saddr, daddr = (ipaddress.IPv6Address(f"::ffff:{a}") if a.version == 4 else a for a in (saddr, daddr))
    length = 8 + len(payload)
    if saddr.version == 4:
        pseudo = saddr.packed + daddr.packed + struct.pack("!BBH", 0, _UDP, length)
    else:
        pseudo = saddr.packed + daddr.packed + struct.pack("!I3xB", length, _UDP)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    udp = udp[:6] + struct.pack("!H", _checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    if saddr.version == 4:
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0x4000, 64, _UDP, 0,
                             saddr.packed, daddr.packed)
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    else:
        header = struct.pack("!IHBB16s16s", 0x60000000, length, _UDP, 64, saddr.packed, daddr.packed)
    return header + udp


def _timestamp_us(record: TraceRecord) -> int:
    return int(round(datetime.fromisoformat(record.wall).timestamp() * 1_000_000))


def pcapng_bytes(records: Iterable[TraceRecord]) -> bytes:
    out = bytearray(_block(_SHB, struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1)))
    out += _block(_IDB, struct.pack("<HHI", LINKTYPE_RAW, 0, 0))
    for record in records:
        packet = ip_udp_packet(record.src, record.dst, record.raw)
        ts = _timestamp_us(record)
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(packet), len(packet)) + packet
        out += _block(_EPB, body)
    return bytes(out)


def write_pcapng(records: Iterable[TraceRecord], path: str | Path) -> None:
    """Write the datagrams of `records` (in the given order) to `path` as pcapng."""
    Path(path).write_bytes(pcapng_bytes(records))
