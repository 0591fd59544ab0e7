"""Trace: record decoding, message-layer pairing (RFC 7252 sections 4, 5.2), block-wise grouping (RFC 7959),
EMAP decoding of payloads and JSONL round trip."""

import json

import pytest

from conformance.messages import build, encode
from conformance.transport import codec
from conformance.transport.codec import ACK, CON, NON, RST, CoapDatagram
from conformance.transport.trace import FROM_IUT, TO_IUT, Trace

PEER, IUT = "127.0.0.1:40000", "127.0.0.1:5683"
POLL = encode(build.poll("ven-1"))
RESPONSE = encode(build.response("req-1", ven_id="ven-1"))


def send(trace, dg, *, to_iut=True, **kw):
    raw = codec.encode(dg) if isinstance(dg, CoapDatagram) else dg
    if to_iut:
        return trace.record(TO_IUT, PEER, IUT, raw, **kw)
    return trace.record(FROM_IUT, IUT, PEER, raw, **kw)


def post(mid, token, payload=POLL, mtype=CON, options=()):
    return codec.request("POST", "/emap/OadrPoll", mid=mid, token=token, mtype=mtype, payload=payload,
                         content_format=50, extra_options=options)


def answer(mtype, code, mid, token=b"", payload=b"", options=()):
    opts = tuple(options) + (((codec.CONTENT_FORMAT, b"\x32"),) if payload else ())
    return CoapDatagram(mtype, codec.code_of(code), mid, token, opts, payload)


def test_record_decodes_coap_and_emap():
    trace = Trace("t")
    rec = send(trace, post(1, b"\x01"))
    assert rec.seq == 0 and rec.coap.mid == 1 and rec.error is None
    assert rec.emap.name == "emapPoll" and rec.emap_error is None
    bad = send(trace, answer(ACK, "2.04", 1, b"\x01", b'{"emapPoll": 1}'), to_iut=False)
    assert bad.emap is None and "emapPoll" in bad.emap_error
    junk = send(trace, b"\x40\x01")
    assert junk.coap is None and junk.error.startswith("short header")
    text = send(trace, answer(ACK, "4.00", 9, payload=b""), to_iut=False)
    assert text.emap is None and text.emap_error is None


def test_piggybacked_response_with_retransmission():
    trace = Trace("t")
    send(trace, post(1, b"\x01"))
    send(trace, post(1, b"\x01"))
    send(trace, answer(ACK, "2.04", 1, b"\x01", RESPONSE), to_iut=False)
    (ex,) = trace.exchanges()
    assert ex.code == "2.04" and ex.method == "POST" and ex.path == "/emap/OadrPoll"
    assert len(ex.transmissions) == 2 and ex.response.seq == 2 and ex.rtt >= 0
    assert ex.request_message.name == "emapPoll" and ex.response_message.name == "emapResponse"


def test_separate_response_and_its_ack():
    trace = Trace("t")
    send(trace, post(2, b"\x02"))
    send(trace, answer(ACK, "0.00", 2), to_iut=False)
    send(trace, answer(CON, "2.04", 900, b"\x02", RESPONSE), to_iut=False)
    send(trace, answer(ACK, "0.00", 900))
    (ex,) = trace.exchanges()
    assert ex.code == "2.04" and ex.response.coap.mtype == CON
    assert [r.seq for r in ex.records] == [0, 1, 2, 3]
    assert ex.response_message.name == "emapResponse"


def test_non_by_token_rst_and_unanswered():
    trace = Trace("t")
    send(trace, post(3, b"\x03", mtype=NON))
    send(trace, post(4, b"\x04"))
    send(trace, answer(NON, "2.04", 901, b"\x03"), to_iut=False)
    send(trace, answer(RST, "0.00", 4), to_iut=False)
    send(trace, post(5, b"\x05"))
    non, reset, silent = trace.exchanges()
    assert non.code == "2.04" and not non.confirmable
    assert reset.code is None and reset.reset and len(reset.responses) == 1
    assert silent.response is None and silent.rtt is None


def test_blockwise_groups_and_reassembles_both_directions():
    trace = Trace("t")
    body = json.dumps({"emapPoll": {"venID": "v" * 100}}).encode()
    chunks = [body[i:i + 16] for i in range(0, len(body), 16)]
    mid = 10
    for num, chunk in enumerate(chunks):
        more = num < len(chunks) - 1
        send(trace, post(mid, bytes([mid]), chunk, options=[(codec.BLOCK1, codec.block_bytes(num, more, 0))]))
        code = "2.31" if more else "2.04"
        send(trace, answer(ACK, code, mid, bytes([mid]), RESPONSE[:32] if not more else b"",
                           [(codec.BLOCK1, codec.block_bytes(num, more, 0))]
                           + ([(codec.BLOCK2, codec.block_bytes(0, True, 1))] if not more else [])), to_iut=False)
        mid += 1
    rest = RESPONSE[32:]
    for num in range(1, (len(rest) + 31) // 32 + 1):
        chunk = rest[(num - 1) * 32:num * 32]
        more = num * 32 < len(rest)
        send(trace, post(mid, bytes([mid]), b"", options=[(codec.BLOCK2, codec.block_bytes(num, False, 1))]))
        send(trace, answer(ACK, "2.04", mid, bytes([mid]), chunk,
                           [(codec.BLOCK2, codec.block_bytes(num, more, 1))]), to_iut=False)
        mid += 1
    (ex,) = trace.exchanges()
    assert ex.blockwise and ex.code == "2.04"
    assert ex.request_payload == body and ex.response_payload == RESPONSE
    assert ex.request_message.name == "emapPoll" and ex.response_message.name == "emapResponse"
    assert all(r.emap is None for r in trace.records)
    names = [m.name for _, m in trace.messages()]
    assert names == ["emapPoll", "emapResponse"]
    assert [m.name for _, m in trace.messages(direction=FROM_IUT)] == ["emapResponse"]


def test_block_continuation_skips_later_exchanges_to_the_same_resource():
    """A later Block1 block joins its own exchange, not a plain one that began in between."""
    trace = Trace("t")
    body = json.dumps({"emapPoll": {"venID": "v" * 10}}).encode()
    first, rest = body[:16], body[16:]
    send(trace, post(1, b"\x01", first, options=[(codec.BLOCK1, codec.block_bytes(0, True, 0))]))
    send(trace, answer(ACK, "2.31", 1, b"\x01", options=[(codec.BLOCK1, codec.block_bytes(0, True, 0))]),
         to_iut=False)
    send(trace, post(2, b"\x02"))
    send(trace, answer(ACK, "2.04", 2, b"\x02", RESPONSE), to_iut=False)
    send(trace, post(3, b"\x03", rest, options=[(codec.BLOCK1, codec.block_bytes(1, False, 0))]))
    send(trace, answer(ACK, "2.04", 3, b"\x03", RESPONSE, [(codec.BLOCK1, codec.block_bytes(1, False, 0))]),
         to_iut=False)
    blockwise, plain = trace.exchanges()
    assert blockwise.blockwise and blockwise.request_payload == body and blockwise.code == "2.04"
    assert not plain.blockwise and plain.request_payload == POLL


def test_missing_block_leaves_message_undecoded():
    trace = Trace("t")
    send(trace, post(1, b"\x01", b"x" * 16, options=[(codec.BLOCK1, codec.block_bytes(0, True, 0))]))
    send(trace, answer(ACK, "2.31", 1, b"\x01", options=[(codec.BLOCK1, codec.block_bytes(0, True, 0))]),
         to_iut=False)
    (ex,) = trace.exchanges()
    assert ex.request_payload is None and "incomplete" in ex.request_message_error
    assert ex.code == "2.31"


def test_requests_and_messages_filters():
    trace = Trace("t")
    send(trace, post(1, b"\x01"))
    send(trace, answer(ACK, "2.04", 1, b"\x01", RESPONSE), to_iut=False)
    assert [r.seq for r in trace.requests(direction=TO_IUT, path="/emap/OadrPoll")] == [0]
    assert trace.requests(path="/other") == []
    assert [r.seq for r, _ in trace.messages(name="emapResponse")] == [1]


def test_jsonl_round_trip(tmp_path):
    trace = Trace("TC-1")
    send(trace, post(1, b"\x01"))
    trace.note("IUT answered late")
    send(trace, b"\x40", to_iut=False, fault="truncated to 1 bytes")
    send(trace, answer(ACK, "2.04", 1, b"\x01", "é".encode("latin-1")), to_iut=False)
    path = tmp_path / "t.jsonl"
    trace.to_jsonl(path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[1]["coap"]["options"][0] == {"number": 11, "name": "Uri-Path", "value": "emap", "hex": "656d6170"}
    assert lines[1]["emap"]["name"] == "emapPoll" and "payload_b64" in lines[3]["coap"]
    back = Trace.from_jsonl(path)
    assert back.test_id == "TC-1" and back.start_wall == trace.start_wall
    assert [r.to_dict() for r in back.records] == [r.to_dict() for r in trace.records]
    assert back.notes == trace.notes


def test_from_jsonl_names_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"kind": "trace", "test_id": "x", "start": "s"}\n{"kind": "record"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a trace line"):
        Trace.from_jsonl(path)
