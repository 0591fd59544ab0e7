"""CoAP codec: round trips, option encodings, block values and precise format errors (RFC 7252 section 3)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.transport import codec
from conformance.transport.codec import CON, NON, CoapDatagram, CodecError, decode, encode


def test_round_trip_request_with_options_and_payload():
    dg = codec.request("POST", "/emap/EiRegisterParty", mid=0x1234, token=b"\x01\x02", payload=b'{"a":1}',
                       content_format=50, extra_options=[(codec.URI_QUERY, b"x=1")])
    raw = encode(dg)
    assert raw[:4] == bytes([0x42, 0x02, 0x12, 0x34])
    back = decode(raw)
    assert back == dg
    assert back.path == "/emap/EiRegisterParty" and back.method == "POST" and back.query == ["x=1"]
    assert back.content_format == 50 and back.code_text == "0.02"


def test_extended_option_deltas_and_lengths():
    long_value = b"v" * 300
    dg = CoapDatagram(NON, codec.code_of("2.05"), 7, options=((codec.URI_PATH, b"p" * 20),
                                                              (codec.SIZE1, codec.uint_bytes(70000)),
                                                              (2048, long_value)))
    back = decode(encode(dg))
    assert back.options == dg.options
    assert back.uint_option(codec.SIZE1) == 70000


def test_code_helpers():
    assert codec.code_text(0x44) == "2.04" and codec.code_of("2.04") == 0x44
    assert codec.code_of("4.15") == 0x8F and codec.code_of("post") == 2
    with pytest.raises(ValueError, match="not a CoAP code"):
        codec.code_of("204")


def test_block_values():
    assert codec.block_value(codec.block_bytes(19, False, 4)) == (19, False, 4)
    assert codec.block_value(b"") == (0, False, 0)
    assert codec.option_text(codec.BLOCK2, codec.block_bytes(1, True, 6)) == "1/1/1024"


@pytest.mark.parametrize(("raw", "fault"), [
    (b"", "short header"),
    (b"\x40\x01\x00", "short header"),
    (bytes([0x80, 0x01, 0, 1]), "version 2"),
    (bytes([0x49, 0x01, 0, 1]) + b"\0" * 9, "TKL 9 > 8"),
    (bytes([0x44, 0x01, 0, 1, 0xAA, 0xBB]), "truncated token"),
    (bytes([0x40, 0x01, 0, 1, 0xF1, 0]), "reserved option delta nibble 15"),
    (bytes([0x40, 0x01, 0, 1, 0xBF]), "reserved option length nibble 15"),
    (bytes([0x40, 0x01, 0, 1, 0xB4, ord("e")]), "truncated option value"),
    (bytes([0x40, 0x01, 0, 1, 0xD0]), "truncated option header"),
    (bytes([0x40, 0x01, 0, 1, 0xFF]), "payload marker 0xFF followed by an empty payload"),
    (bytes([0x41, 0x00, 0, 1, 0x07]), "empty message"),
])
def test_malformed_datagrams_name_their_fault(raw, fault):
    with pytest.raises(CodecError, match=fault):
        decode(raw)


def test_encoder_builds_malformed_forms():
    dg = CoapDatagram(CON, 1, 5, token=b"\xaa\xbb")
    assert decode(encode(dg, tkl=2)) == dg
    with pytest.raises(CodecError, match="truncated token"):
        decode(encode(dg, tkl=4))
    with pytest.raises(CodecError, match="TKL 9"):
        decode(encode(dg, tkl=9))
    with pytest.raises(CodecError, match="payload marker"):
        decode(encode(dg, payload_marker=True))
    with pytest.raises(CodecError, match="delta nibble 15"):
        decode(encode(dg, raw_options=b"\xf0"))


def test_summary_names_options():
    dg = codec.request("POST", "/emap/EiEvent", mid=1, token=b"\x01", content_format=50)
    assert dg.summary() == "CON POST mid=0x0001 tok=01 [Uri-Path:emap, Uri-Path:EiEvent, Content-Format:50]"


options = st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=300)), max_size=6).map(
    lambda opts: tuple(sorted(opts, key=lambda o: o[0])))


@given(mtype=st.integers(0, 3), code=st.integers(1, 255), mid=st.integers(0, 0xFFFF),
       token=st.binary(max_size=8), options=options, payload=st.binary(max_size=200))
def test_round_trip_property(mtype, code, mid, token, options, payload):
    dg = CoapDatagram(mtype, code, mid, token, options, payload)
    assert decode(encode(dg)) == dg


@given(data=st.binary(max_size=64))
def test_decode_raises_only_codec_error_and_re_encodes_exactly(data):
    try:
        dg = decode(data)
    except CodecError as exc:
        assert str(exc)
    else:
        assert encode(dg) == data
