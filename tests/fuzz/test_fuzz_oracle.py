"""The fuzz oracle: expectations from the bytes sent, judgements of answers."""

from __future__ import annotations

from conformance.fuzz import oracle
from conformance.fuzz.oracle import Answer, Expectation
from conformance.messages import build as B
from conformance.messages import encode


def created(request_id: str, code: str = "200") -> bytes:
    return encode(B.created_party_registration(request_id, "vtn-1", code=code))


QUERY = oracle.application("emapQueryRegistration", "EiRegisterParty", request_id="q-1", live_ven=True,
                           registered=True)


def test_correct_answer_passes():
    assert oracle.judge(QUERY, Answer("2.04", created("q-1"), 50)) is None


def test_wrong_code_type_echo_and_format_fail():
    assert "responseCode 452" in oracle.judge(QUERY, Answer("2.04", created("q-1", "452"), 50))
    assert "echoed requestID" in oracle.judge(QUERY, Answer("2.04", created("q-2"), 50))
    assert "Content-Format 50" in oracle.judge(QUERY, Answer("2.04", created("q-1"), None))
    assert "always 2.04" in oracle.judge(QUERY, Answer("5.00", b"boom"))
    assert "no answer" in oracle.judge(QUERY, Answer(None))


def test_wrong_resource_expects_459():
    expect = oracle.application("emapPoll", "EiOpt", request_id=None, live_ven=True, registered=True)
    assert expect.codes == {"459"} and expect.names == {"emapResponse"}


def test_live_registered_sender_is_never_answered_463():
    expect = oracle.application("emapCancelOpt", "EiOpt", request_id="x", live_ven=True, registered=True)
    assert "463" not in expect.codes
    expect = oracle.application("emapCancelOpt", "EiOpt", request_id="x", live_ven=False, registered=True)
    assert "463" in expect.codes


def test_invalid_payload_needs_4_00_with_a_diagnostic_without_content_format():
    expect = oracle.invalid_payload()
    assert oracle.judge(expect, Answer("4.00", b"bad json")) is None
    assert "Content-Format" in oracle.judge(expect, Answer("4.00", b"bad json", 0))
    assert oracle.judge(expect, Answer("2.04", created("q-1"), 50)) is not None


def test_silence_accepts_nothing_or_rst_only():
    expect = Expectation("silence", "EMAP-7.1.5-13")
    assert oracle.judge(expect, Answer(None)) is None
    assert oracle.judge(expect, Answer(None, reset=True)) is None
    assert oracle.judge(expect, Answer("4.00", b"x")) is not None


def test_classify_uses_the_message_validator():
    message, error = oracle.classify(b'{"emapPoll":{"venID":"v"}}')
    assert message.name == "emapPoll" and error is None
    message, error = oracle.classify(b'{"emapPoll":{}}')
    assert message is None and error.kind == "schema"
