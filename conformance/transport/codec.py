"""CoAP datagram codec (RFC 7252 section 3, RFC 7959 block options), independent of aiocoap.

The decoder is strict about the message format (it names the exact fault so a trace can show why a datagram is
malformed); the encoder can also build malformed datagrams on purpose (explicit TKL, raw option bytes, a bare
payload marker) for negative tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CON, NON, ACK, RST = 0, 1, 2, 3
TYPE_NAMES = {CON: "CON", NON: "NON", ACK: "ACK", RST: "RST"}

IF_MATCH = 1
URI_HOST = 3
ETAG = 4
IF_NONE_MATCH = 5
OBSERVE = 6
URI_PORT = 7
LOCATION_PATH = 8
URI_PATH = 11
CONTENT_FORMAT = 12
MAX_AGE = 14
URI_QUERY = 15
ACCEPT = 17
LOCATION_QUERY = 20
BLOCK2 = 23
BLOCK1 = 27
SIZE2 = 28
PROXY_URI = 35
PROXY_SCHEME = 39
SIZE1 = 60
NO_RESPONSE = 258

OPTION_NAMES = {
    IF_MATCH: "If-Match", URI_HOST: "Uri-Host", ETAG: "ETag", IF_NONE_MATCH: "If-None-Match",
    OBSERVE: "Observe", URI_PORT: "Uri-Port", LOCATION_PATH: "Location-Path", URI_PATH: "Uri-Path",
    CONTENT_FORMAT: "Content-Format", MAX_AGE: "Max-Age", URI_QUERY: "Uri-Query", ACCEPT: "Accept",
    LOCATION_QUERY: "Location-Query", BLOCK2: "Block2", BLOCK1: "Block1", SIZE2: "Size2",
    PROXY_URI: "Proxy-Uri", PROXY_SCHEME: "Proxy-Scheme", SIZE1: "Size1", NO_RESPONSE: "No-Response",
}
STRING_OPTIONS = frozenset({URI_HOST, LOCATION_PATH, URI_PATH, URI_QUERY, LOCATION_QUERY, PROXY_URI, PROXY_SCHEME})
UINT_OPTIONS = frozenset({OBSERVE, URI_PORT, CONTENT_FORMAT, MAX_AGE, ACCEPT, BLOCK2, BLOCK1, SIZE2, SIZE1,
                          NO_RESPONSE})

METHODS = {1: "GET", 2: "POST", 3: "PUT", 4: "DELETE", 5: "FETCH", 6: "PATCH", 7: "iPATCH"}
METHOD_CODES = {name: code for code, name in METHODS.items()}
_METHOD_CODES_UPPER = {name.upper(): code for name, code in METHOD_CODES.items()}
PAYLOAD_MARKER = 0xFF


class CodecError(ValueError):
    """A datagram that is not a well-formed CoAP message; the text names the fault."""


def code_text(code: int) -> str:
    """Render a code byte as "c.dd" (e.g. 0x44 -> "2.04")."""
    return f"{code >> 5}.{code & 0x1F:02d}"


def code_of(text: str) -> int:
    """Parse "c.dd" (or a method name such as "POST") into a code byte."""
    method = _METHOD_CODES_UPPER.get(text.upper())
    if method is not None:
        return method
    try:
        cls, detail = text.split(".")
        cls_n, detail_n = int(cls), int(detail)
    except ValueError:
        raise ValueError(f"not a CoAP code: {text!r} (expected c.dd such as 2.04)") from None
    if not (0 <= cls_n <= 7 and 0 <= detail_n <= 31):
        raise ValueError(f"CoAP code out of range: {text!r}")
    return (cls_n << 5) | detail_n


def uint(value: bytes) -> int:
    """Value of a uint option (RFC 7252 section 3.2: big-endian, leading zeros allowed)."""
    return int.from_bytes(value, "big")


def uint_bytes(number: int) -> bytes:
    """Shortest uint option encoding (0 is the empty string)."""
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def block_value(value: bytes) -> tuple[int, bool, int]:
    """Decode a Block1/Block2 option value into (num, more, szx) (RFC 7959 section 2.2)."""
    raw = uint(value)
    return raw >> 4, bool(raw & 0x08), raw & 0x07


def block_bytes(num: int, more: bool, szx: int) -> bytes:
    """Encode (num, more, szx) as a Block1/Block2 option value."""
    return uint_bytes((num << 4) | (0x08 if more else 0) | (szx & 0x07))


@dataclass(frozen=True)
class CoapDatagram:
    """One CoAP message as it appears on the wire. `options` keeps wire order as (number, value) pairs."""

    mtype: int
    code: int
    mid: int
    token: bytes = b""
    options: tuple[tuple[int, bytes], ...] = field(default=())
    payload: bytes = b""
    version: int = 1

    @property
    def type_name(self) -> str:
        return TYPE_NAMES[self.mtype]

    @property
    def code_text(self) -> str:
        return code_text(self.code)

    @property
    def is_empty(self) -> bool:
        return self.code == 0

    @property
    def is_request(self) -> bool:
        return 1 <= self.code <= 31

    @property
    def is_response(self) -> bool:
        return self.code >> 5 >= 2

    @property
    def method(self) -> str | None:
        return METHODS.get(self.code) if self.is_request else None

    @property
    def path(self) -> str:
        return "/" + "/".join(v.decode("utf-8", "replace") for v in option_values(self, URI_PATH))

    @property
    def query(self) -> list[str]:
        return [v.decode("utf-8", "replace") for v in option_values(self, URI_QUERY)]

    def option(self, number: int) -> bytes | None:
        """First value of an option, or None."""
        values = option_values(self, number)
        return values[0] if values else None

    def uint_option(self, number: int) -> int | None:
        value = self.option(number)
        return None if value is None else uint(value)

    @property
    def content_format(self) -> int | None:
        return self.uint_option(CONTENT_FORMAT)

    def block(self, number: int) -> tuple[int, bool, int] | None:
        """(num, more, szx) of BLOCK1 or BLOCK2, or None."""
        value = self.option(number)
        return None if value is None else block_value(value)

    def summary(self) -> str:
        """One line in the style of libcoap's PDU log: `CON POST mid=0x1234 tok=01 [Uri-Path:emap] :: 12 B`."""
        opts = ", ".join(f"{option_name(n)}:{option_text(n, v)}" for n, v in self.options)
        head = f"{self.type_name} {self.method or self.code_text} mid=0x{self.mid:04x} tok={self.token.hex()}"
        body = f" :: {len(self.payload)} B" if self.payload else ""
        return f"{head} [{opts}]{body}"


def option_values(dg: CoapDatagram, number: int) -> list[bytes]:
    """All values of option `number`, in wire order."""
    return [value for num, value in dg.options if num == number]


def option_name(number: int) -> str:
    return OPTION_NAMES.get(number, f"Option{number}")


def option_text(number: int, value: bytes) -> str:
    """Human-readable option value: text for string options, integer or block triple for uint ones, else hex."""
    if number in (BLOCK1, BLOCK2):
        num, more, szx = block_value(value)
        return f"{num}/{int(more)}/{16 << szx}"
    if number in UINT_OPTIONS:
        return str(uint(value))
    if number in STRING_OPTIONS:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + value.hex()
    return "0x" + value.hex()


def _extended(nibble: int, data: bytes, pos: int, what: str) -> tuple[int, int]:
    """Resolve an option delta/length nibble with its extended bytes; returns (value, new position)."""
    if nibble < 13:
        return nibble, pos
    if nibble == 13:
        if pos + 1 > len(data):
            raise CodecError(f"truncated option header: 8-bit extended {what} missing at byte {pos}")
        return data[pos] + 13, pos + 1
    if nibble == 14:
        if pos + 2 > len(data):
            raise CodecError(f"truncated option header: 16-bit extended {what} missing at byte {pos}")
        return struct.unpack_from("!H", data, pos)[0] + 269, pos + 2
    raise CodecError(f"reserved option {what} nibble 15 at byte {pos - 1}")


def decode(data: bytes) -> CoapDatagram:
    """Parse one UDP payload as a CoAP message (RFC 7252 section 3); raises CodecError naming the fault."""
    if len(data) < 4:
        raise CodecError(f"short header: {len(data)} bytes, a CoAP header needs 4")
    version, mtype, tkl = data[0] >> 6, (data[0] >> 4) & 0x03, data[0] & 0x0F
    code, mid = data[1], struct.unpack_from("!H", data, 2)[0]
    if version != 1:
        raise CodecError(f"version {version}, only version 1 is defined")
    if tkl > 8:
        raise CodecError(f"TKL {tkl} > 8 (reserved token length)")
    if len(data) < 4 + tkl:
        raise CodecError(f"truncated token: TKL {tkl} but only {len(data) - 4} bytes follow the header")
    token = bytes(data[4:4 + tkl])
    if code == 0 and len(data) > 4:
        raise CodecError(f"empty message (code 0.00) with {len(data) - 4} bytes after the message ID")
    options: list[tuple[int, bytes]] = []
    pos, number = 4 + tkl, 0
    while pos < len(data):
        if data[pos] == PAYLOAD_MARKER:
            if pos + 1 == len(data):
                raise CodecError("payload marker 0xFF followed by an empty payload")
            return CoapDatagram(mtype, code, mid, token, tuple(options), bytes(data[pos + 1:]), version)
        head = data[pos]
        if head >> 4 == 15:
            raise CodecError(f"reserved option delta nibble 15 at byte {pos}")
        delta, cursor = _extended(head >> 4, data, pos + 1, "delta")
        length, cursor = _extended(head & 0x0F, data, cursor, "length")
        number += delta
        if cursor + length > len(data):
            raise CodecError(f"truncated option value: {option_name(number)} declares {length} bytes, "
                             f"only {len(data) - cursor} present")
        options.append((number, bytes(data[cursor:cursor + length])))
        pos = cursor + length
    return CoapDatagram(mtype, code, mid, token, tuple(options), b"", version)


def _nibble(value: int) -> tuple[int, bytes]:
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    return 14, struct.pack("!H", value - 269)


def encode_options(options) -> bytes:
    """Encode (number, value) pairs; sorted by number, stable for repeated options."""
    out, last = bytearray(), 0
    for number, value in sorted(options, key=lambda o: o[0]):
        d, d_ext = _nibble(number - last)
        ln, l_ext = _nibble(len(value))
        out += bytes([(d << 4) | ln]) + d_ext + l_ext + value
        last = number
    return bytes(out)


def encode(dg: CoapDatagram, *, tkl: int | None = None, raw_options: bytes | None = None,
           payload_marker: bool | None = None) -> bytes:
    """Serialise a datagram. Keyword overrides build malformed forms on purpose: `tkl` (TKL field regardless of
    the token), `raw_options` (bytes used instead of the encoded options), `payload_marker=True` (emit 0xFF even
    with an empty payload)."""
    tkl_field = len(dg.token) if tkl is None else tkl
    if not (0 <= tkl_field <= 15 and 0 <= dg.version <= 3 and 0 <= dg.mtype <= 3):
        raise ValueError("TKL, version or type does not fit its header field")
    out = bytearray([(dg.version << 6) | (dg.mtype << 4) | tkl_field, dg.code]) + struct.pack("!H", dg.mid)
    out += dg.token
    out += encode_options(dg.options) if raw_options is None else raw_options
    if dg.payload or payload_marker:
        out += bytes([PAYLOAD_MARKER]) + dg.payload
    return bytes(out)


def uri_path_options(path: str) -> tuple[tuple[int, bytes], ...]:
    """Uri-Path options for "/emap/EiEvent" (empty path -> no options)."""
    return tuple((URI_PATH, seg.encode()) for seg in path.strip("/").split("/") if seg)


def request(method: str, path: str, *, mid: int, token: bytes = b"", mtype: int = CON, payload: bytes = b"",
            content_format: int | None = None, extra_options=()) -> CoapDatagram:
    """Convenience builder of a request datagram."""
    options = list(uri_path_options(path)) + list(extra_options)
    if content_format is not None:
        options.append((CONTENT_FORMAT, uint_bytes(content_format)))
    return CoapDatagram(mtype, code_of(method), mid, token, tuple(sorted(options, key=lambda o: o[0])), payload)


def reset_for(dg: CoapDatagram) -> CoapDatagram:
    """The RST that rejects `dg` (same MID, empty)."""
    return CoapDatagram(RST, 0, dg.mid)


def empty_ack_for(dg: CoapDatagram) -> CoapDatagram:
    """The empty ACK for a CON `dg`."""
    return CoapDatagram(ACK, 0, dg.mid)
