"""The pair trace checks find what they are for: hand-made traces of a correct and of broken exchanges (a check
that never fails would let the pair test pass whatever the EMAs send)."""

from __future__ import annotations

from ema_pair_checks import exchange_problems, poll_replies_seen, procedures_seen, schema_problems

from conformance.messages import build, encode
from conformance.transport.codec import ACK, CON, CONTENT_FORMAT, URI_PATH, CoapDatagram, code_of
from conformance.transport.codec import encode as encode_datagram
from conformance.transport.trace import FROM_IUT, TO_IUT, Trace

VEN = "ven-1"
JSON = (CONTENT_FORMAT, bytes([50]))


def _exchange(trace: Trace, sender: str, resource: str, request, response, code: str = "2.04") -> None:
    """One piggy-backed exchange; ``request``/``response``: an envelope, raw bytes or None (no payload)."""
    mid = len(trace.records)
    forth, back = (TO_IUT, FROM_IUT) if sender == "L" else (FROM_IUT, TO_IUT)
    client, server = ("127.0.0.1:5001", "127.0.0.1:5683") if sender == "L" else ("127.0.0.1:5002", "127.0.0.1:5684")
    base = "emap" if sender == "L" else "emapl"

    def body(item) -> bytes:
        return item if isinstance(item, bytes) else encode(item) if item is not None else b""

    options = ((URI_PATH, base.encode()), (URI_PATH, resource.encode()), JSON)
    trace.record(forth, client, server, encode_datagram(
        CoapDatagram(CON, code_of("0.02"), mid, b"t%d" % mid, options, body(request))))
    trace.record(back, server, client, encode_datagram(
        CoapDatagram(ACK, code_of(code), mid, b"t%d" % mid, (JSON,) if response is not None else (), body(response))))


def _create_report(request_id: str = "cr-1") -> dict:
    return build.create_report(request_id, VEN, [build.report_request("rq-1", "rs-status", ["status-1"])])


def _poll_with_step_two(code: str = "200") -> Trace:
    trace = Trace("checks")
    _exchange(trace, "L", "EmapPoll", build.poll(VEN), _create_report())
    _exchange(trace, "L", "EiReport", build.created_report("cr-1", VEN, ["rq-1"], code=code),
              build.response("cr-1", ven_id=VEN))
    _exchange(trace, "L", "EmapPoll", build.poll(VEN), build.response("", ven_id=VEN))
    return trace


def test_a_correct_poll_reply_and_step_two_pass():
    trace = _poll_with_step_two()
    assert schema_problems(trace) == [] and exchange_problems(trace) == []
    assert poll_replies_seen(trace) == {"R0", "R5"}
    assert procedures_seen(trace) == {"P13", "P8-U", "P14"}


def test_a_step_two_with_an_error_code_is_reported():
    assert any("no step two (200)" in p for p in exchange_problems(_poll_with_step_two("452")))


def test_a_poll_reply_without_step_two_is_reported():
    trace = Trace("checks")
    _exchange(trace, "L", "EmapPoll", build.poll(VEN), _create_report())
    assert any("no step two" in p for p in exchange_problems(trace))


def test_a_wrong_echo_a_wrong_type_and_a_wrong_resource_are_reported():
    trace = Trace("checks")
    _exchange(trace, "L", "EiOpt", build.cancel_opt("co-1", VEN, "o-1"), build.canceled_opt("other", "o-1"))
    _exchange(trace, "U", "EiReport", _create_report("cr-2"), build.response("cr-2", ven_id=VEN))
    _exchange(trace, "U", "EiEvent", _create_report("cr-3"), build.created_report("cr-3", VEN, ["rq-1"]))
    problems = exchange_problems(trace)
    assert len(problems) == 3, problems
    assert "'other'" in problems[0] and "expected ['emapCreatedReport']" in problems[1]
    assert "EiEvent" in problems[2]


def test_an_acknowledgement_other_than_emap_response_200_is_reported():
    trace = Trace("checks")
    _exchange(trace, "L", "EiEvent", build.created_event("de-1", VEN, []), build.response("de-1", "450", ven_id=VEN))
    _exchange(trace, "L", "EiRegisterParty", build.response("", ven_id=VEN), build.response("", ven_id=VEN))
    assert len(exchange_problems(trace)) == 2


def test_a_payload_failing_its_schema_is_reported():
    trace = Trace("checks")
    _exchange(trace, "L", "EmapPoll", b'{"emapPoll": {}}', build.response("", ven_id=VEN))
    assert schema_problems(trace) and "emapPoll" in schema_problems(trace)[0]
