"""What the peer's hot path defers: trace records decode CoAP and EMAP on first read, a client response validates
its payload on first read, transmission tunings are shared. What a record or response shows must not depend on
when (or in which order) it is first read."""

import copy
import pickle

import pytest

import conformance.messages as messages
from conformance.messages import MessageError, build, encode, validate
from conformance.transport import TransmissionParams, codec
from conformance.transport import trace as trace_module
from conformance.transport.client import CoapResponse
from conformance.transport.codec import ACK, CON, CoapDatagram
from conformance.transport.trace import FROM_IUT, TO_IUT, Trace, TraceRecord

PEER, IUT = "127.0.0.1:40000", "127.0.0.1:5683"
POLL = encode(build.poll("ven-1"))
RESPONSE = encode(build.response("req-1", ven_id="ven-1"))
JSON_OPTION = ((codec.CONTENT_FORMAT, b"\x32"),)

DATAGRAMS = {
    "valid request": (TO_IUT, codec.encode(codec.request("POST", "/emap/EmapPoll", mid=1, token=b"\x01",
                                                         payload=POLL, content_format=50))),
    "valid response": (FROM_IUT, codec.encode(CoapDatagram(ACK, codec.code_of("2.04"), 1, b"\x01", JSON_OPTION,
                                                           RESPONSE))),
    "invalid EMAP": (FROM_IUT, codec.encode(CoapDatagram(ACK, codec.code_of("2.04"), 2, b"\x02", JSON_OPTION,
                                                         b'{"emapPoll": 1}'))),
    "not JSON": (TO_IUT, codec.encode(codec.request("POST", "/emap/EmapPoll", mid=3, token=b"\x03",
                                                    payload=b"\xff{", content_format=50))),
    "empty ACK": (FROM_IUT, codec.encode(CoapDatagram(ACK, 0, 4))),
    "short header": (TO_IUT, b"\x40\x01"),
    "bad option": (TO_IUT, b"\x40\x02\x00\x05\xf0"),
    "bad version": (TO_IUT, b"\x80\x01\x00\x06"),
}


def eager(direction: str, raw: bytes) -> dict:
    """What a record must show, computed directly from the codec and the validator."""
    try:
        dg = codec.decode(raw)
    except codec.CodecError as exc:
        return {"coap": None, "error": str(exc), "emap": None, "emap_error": None}
    emap = emap_error = None
    if dg.payload and (dg.is_request or dg.is_response) and dg.content_format == 50:
        try:
            emap = validate(dg.payload, posted=dg.is_request)
        except MessageError as exc:
            emap_error = str(exc)
    return {"coap": dg, "error": None, "emap": emap, "emap_error": emap_error}


def shown(record: TraceRecord, order: tuple[str, ...]) -> dict:
    return {name: getattr(record, name) for name in order}


@pytest.mark.parametrize("case", sorted(DATAGRAMS))
@pytest.mark.parametrize("order", [("coap", "error", "emap", "emap_error"), ("emap_error", "emap", "error", "coap")])
def test_lazy_record_shows_what_eager_decoding_shows(case, order):
    direction, raw = DATAGRAMS[case]
    trace = Trace("t")
    src, dst = (PEER, IUT) if direction == TO_IUT else (IUT, PEER)
    record = trace.record(direction, src, dst, raw, fault="corrupted")
    expected = eager(direction, raw)
    assert shown(record, order) == {name: expected[name] for name in order}
    assert record.raw == raw and record.fault == "corrupted" and record.seq == 0
    again = TraceRecord.from_dict(record.to_dict())
    assert again.to_dict() == record.to_dict() and again == record


def test_malformed_datagram_is_recorded_and_shown_undecodable():
    trace = Trace("t")
    record = trace.record(TO_IUT, PEER, IUT, b"\x40\x01")
    assert trace.records == [record] and record.coap is None and record.emap is None
    assert record.error.startswith("short header") and "undecodable (short header" in record.summary()
    out = record.to_dict()
    assert out["raw"] == "4001" and out["coap"] is None and out["error"] == record.error
    assert trace.exchanges() == [] and trace.messages() == []


def test_recording_decodes_nothing_until_read_then_once(monkeypatch):
    calls = {"decode": 0, "validate": 0}
    real_decode, real_validate = codec.decode, trace_module.validate_payload

    def counting_decode(data):
        calls["decode"] += 1
        return real_decode(data)

    def counting_validate(payload, *, posted):
        calls["validate"] += 1
        return real_validate(payload, posted=posted)

    monkeypatch.setattr(codec, "decode", counting_decode)
    monkeypatch.setattr(trace_module, "validate_payload", counting_validate)
    trace = Trace("t")
    for direction, raw in (DATAGRAMS["valid request"], DATAGRAMS["valid response"]):
        trace.record(direction, PEER, IUT, raw)
    assert calls == {"decode": 0, "validate": 0}
    request = trace.records[0]
    assert request.coap.mid == 1 and calls == {"decode": 1, "validate": 0}
    assert request.emap.name == "emapPoll" and request.emap_error is None and request.coap.mid == 1
    assert calls == {"decode": 1, "validate": 1}
    assert [m.name for _, m in trace.messages()] == ["emapPoll", "emapResponse"]
    assert calls == {"decode": 2, "validate": 2}


def test_validator_defect_is_shown_on_the_record_not_raised(monkeypatch):
    def broken(payload, *, posted):
        raise RuntimeError("boom")

    monkeypatch.setattr(messages, "validate", broken)
    direction, raw = DATAGRAMS["valid request"]
    record = Trace("t").record(direction, PEER, IUT, raw)
    assert record.emap is None and record.emap_error == "message validator failed: RuntimeError: boom"


def test_client_response_validates_on_first_read_once(monkeypatch):
    calls = []
    real = trace_module.validate_payload

    def counting(payload, *, posted):
        calls.append(posted)
        return real(payload, posted=posted)

    monkeypatch.setattr("conformance.transport.client.validate_payload", counting)
    response = CoapResponse("2.04", RESPONSE, content_format=50)
    assert calls == [] and response.ok
    assert response.message.name == "emapResponse" and response.message_error is None and calls == [False]
    assert response.message.request_id == "req-1" and calls == [False]
    bad = CoapResponse("2.04", b'{"emapPoll": 1}')
    assert bad.message is None and "emapPoll" in bad.message_error
    assert (CoapResponse("4.04", b"").message, CoapResponse("4.04", b"").message_error) == (None, None)
    given = CoapResponse("2.04", b"not json", message="checked elsewhere")
    assert (given.message, given.message_error) == ("checked elsewhere", None) and len(calls) == 2
    assert "2.04" in repr(given)


def test_transmission_tuning_is_shared_and_follows_the_parameters():
    params = TransmissionParams(ack_timeout=0.5, ack_random_factor=1.25, max_retransmit=3)
    con, non = params.tuning(True), params.tuning(False)
    assert con is TransmissionParams(0.5, 1.25, 3).tuning() and non is params.tuning(False) and con is not non
    assert (con.ACK_TIMEOUT, con.ACK_RANDOM_FACTOR, con.MAX_RETRANSMIT) == (0.5, 1.25, 3)
    assert con.reliability and not non.reliability
    other = TransmissionParams().tuning()
    assert other is not con and other.ACK_TIMEOUT == 2.0 and other.MAX_TRANSMIT_WAIT == pytest.approx(93.0)


def test_lazy_record_is_a_plain_record_for_callers():
    raw = DATAGRAMS["valid request"][1]
    record = TraceRecord(0, 0.5, "2026-11-26T00:00:00.000000Z", TO_IUT, PEER, IUT, raw)
    assert record.fault is None and record.coap.type_name == "CON" and record.coap.mtype == CON
    assert "_coap" not in repr(record) and "fault=None" in repr(record)
    with pytest.raises(TypeError):
        TraceRecord(0, 0.5, "w", TO_IUT, PEER, IUT, raw, "positional fault")


def test_unread_record_and_response_survive_copy_and_pickle():
    direction, raw = DATAGRAMS["valid request"]
    record = Trace("t").record(direction, PEER, IUT, raw)
    for twin in (copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
        assert twin == record and twin.emap.name == "emapPoll" and twin.coap.mid == 1
    response = pickle.loads(pickle.dumps(CoapResponse("2.04", RESPONSE, content_format=50)))
    assert response.message.name == "emapResponse" and response.content_format == 50
