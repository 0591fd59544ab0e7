"""CoAP-level fuzz cases: a known-good request datagram with one change, and what the IUT must answer to it
(Table 7.1-3; RFC 7252 sections 3, 4.3 and 5.4.1; RFC 7959). The known-good request is the target's (an upper EMA
gets ``emapQueryRegistration`` at ``EiRegisterParty``, a lower EMA ``emapDistributeEvent`` at ``EiEvent``).
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.messages import encode
from conformance.transport import codec

from .oracle import Expectation

EXPERIMENTAL_OPTIONS = 65000  # RFC 7252 section 12.2: 65000-65535 are for experimental use


def coap_datagram(spec: dict, envelope: dict, resource: str, base_path: tuple[str, ...], *, good: Expectation,
                  expect_payload: Callable[[bytes], Expectation], mid: int, token: bytes,
                  max_payload: int) -> tuple[bytes, Expectation]:
    """The datagram of a CoAP-level case built on the known-good ``envelope`` for ``resource`` (answered per
    ``good``), and what the IUT must answer; ``expect_payload`` gives the expectation of changed payload bytes."""
    kind = spec["mutation"]
    value = spec.get("value")
    payload = encode(envelope)
    path = list(base_path) + [resource]
    method, ctype, extra, mtype = "POST", 50, [], codec.CON
    raw = {}
    expect = Expectation("app", "EMAP-7.1.4-05", good.names, good.codes, good.echo, token=token)
    if kind == "method":
        method, expect = value, _code("EMAP-7.1.4-01", "4.05")
    elif kind == "path":
        path[-1] = value
        expect = _code("EMAP-7.1.3-03", "4.04", diagnostic=True)
    elif kind == "extra-segment":
        path.append(value)
        expect = _code("EMAP-7.1.3-03", "4.04", diagnostic=True)
    elif kind == "content-format":
        ctype, expect = value, _code("EMAP-7.1.4-02", "4.15")
    elif kind == "accept":
        extra.append((codec.ACCEPT, codec.uint_bytes(value)))
        expect = _code("EMAP-7.1.4-03", "4.06")
    elif kind == "accept-json":
        extra.append((codec.ACCEPT, codec.uint_bytes(50)))
    elif kind == "query":
        extra += [(codec.URI_QUERY, q.encode("utf-8")) for q in value]
        expect = Expectation("app", "EMAP-7.1.3-04", good.names, good.codes, good.echo, token=token)
    elif kind == "elective-option":
        extra.append((EXPERIMENTAL_OPTIONS + 2 * spec["number"], bytes.fromhex(spec["value"])))
    elif kind == "critical-option":
        extra.append((EXPERIMENTAL_OPTIONS + 1 + 2 * spec["number"], bytes.fromhex(spec["value"])))
        expect = _code("EMAP-7.1.6-01", "4.02")
    elif kind == "token":
        token = bytes.fromhex(value)
        expect = Expectation("app", "EMAP-7.1.4-05", good.names, good.codes, good.echo, token=token)
    elif kind == "tkl":
        raw["tkl"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "version":
        raw["version"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "truncated":
        raw["truncate"] = value
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "marker-without-payload":
        payload, raw["payload_marker"] = b"", True
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "reserved-option-nibble":
        raw["append_options"] = bytes.fromhex(value)
        expect = Expectation("silence", "EMAP-7.1.5-13")
    elif kind == "empty-con":
        data = codec.encode(codec.CoapDatagram(codec.CON, 0, mid))
        return data, Expectation("rst", "EMAP-7.1.5-13")
    elif kind == "payload-bytes":
        at = min(spec["at"], len(payload))
        change = bytes.fromhex(value)
        payload = payload[:at] + change + payload[at + len(change):]
        expect = expect_payload(payload)
    elif kind == "block1-single":
        szx = max(value, (len(payload) - 1).bit_length() - 4, 0)
        if len(payload) > 1024:
            szx = 6
        extra.append((codec.BLOCK1, codec.block_bytes(0, False, szx)))
    elif kind == "block1-gap":
        extra.append((codec.BLOCK1, codec.block_bytes(value, False, 6)))
        expect = _code("EMAP-7.1.5-10", "4.08")
    elif kind == "size1-over-limit":
        payload = (payload + b" " * 1024)[:1024]
        extra += [(codec.BLOCK1, codec.block_bytes(0, True, 6)), (codec.SIZE1, codec.uint_bytes(max_payload + value))]
        expect = Expectation("coap", "EMAP-7.1.5-10", codes=frozenset({"4.13"}), size1=max_payload)
    else:
        raise ValueError(f"unknown CoAP mutation {kind!r}")
    options = [(codec.URI_PATH, seg.encode("utf-8")) for seg in path] + extra
    if ctype is not None:
        options.append((codec.CONTENT_FORMAT, codec.uint_bytes(ctype)))
    dg = codec.CoapDatagram(mtype, codec.code_of(method), mid, token,
                            tuple(sorted(options, key=lambda o: o[0])), payload, raw.get("version", 1))
    if "append_options" in raw:
        data = codec.encode(dg, raw_options=codec.encode_options(dg.options) + raw["append_options"])
    else:
        data = codec.encode(dg, tkl=raw.get("tkl"), payload_marker=raw.get("payload_marker"))
    if "truncate" in raw:
        data = data[:raw["truncate"]]
    return data, expect


def _code(requirement: str, code: str, *, diagnostic: bool = False) -> Expectation:
    return Expectation("coap", requirement, codes=frozenset({code}), diagnostic=diagnostic)
