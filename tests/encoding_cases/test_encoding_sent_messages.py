"""Reading the IUT's payloads from a trace and judging one rule at a time (conformance/testcases/encoding/sent.py)."""

from __future__ import annotations

import pytest

from conformance.messages import build as B
from conformance.messages import encode
from conformance.testcases.encoding.sent import (
    annex_b_findings,
    judge,
    message_name,
    overall_findings,
    sent_payloads,
)
from conformance.transport import codec
from conformance.transport.trace import Trace, TraceRecord
from conformance.verdict import Fail

IUT, PEER = "127.0.0.1:5683", "127.0.0.1:40000"
WALL = "2026-11-26T08:00:00Z"


def _exchange(trace: Trace, mid: int, request: bytes, response: bytes, code: str = "2.04",
              direction: str = "to-iut") -> None:
    """One piggy-backed exchange: a POST carrying ``request`` and its ACK carrying ``response``."""
    token = mid.to_bytes(2, "big")
    json_option = ((codec.CONTENT_FORMAT, bytes([50])),)
    post = codec.CoapDatagram(codec.CON, codec.code_of("0.02"), mid, token,
                              ((codec.URI_PATH, b"emap"), (codec.URI_PATH, b"EiEvent"), *json_option), request)
    ack = codec.CoapDatagram(codec.ACK, codec.code_of(code), mid, token,
                             json_option if code.startswith("2.") else (), response)
    back = "from-iut" if direction == "to-iut" else "to-iut"
    src, dst = (PEER, IUT) if direction == "to-iut" else (IUT, PEER)
    trace.append(TraceRecord.decoded(len(trace.records), 0.1, WALL, direction, src, dst, codec.encode(post)))
    trace.append(TraceRecord.decoded(len(trace.records), 0.2, WALL, back, dst, src, codec.encode(ack)))


def _trace(answer: dict | bytes, code: str = "2.04") -> Trace:
    trace = Trace("unit")
    payload = answer if isinstance(answer, bytes) else encode(answer)
    _exchange(trace, 1, encode(B.request_event("re-1", "ven-1")), payload, code)
    return trace


def _answer(**changes) -> dict:
    answer = B.distribute_event("re-1", "vtn-1", [B.event("ev-1")], ei_response=B.ei_response("re-1"))
    answer["emapDistributeEvent"].update(changes)
    return answer


def test_only_the_iut_payloads_are_read():
    trace = _trace(_answer())
    _exchange(trace, 2, encode(B.poll("ven-1")), encode(B.response("", ven_id="ven-1")), direction="from-iut")
    sent = sent_payloads(trace)
    assert [(s.posted, message_name(s)) for s in sent] == [(False, "emapDistributeEvent"), (True, "emapPoll")]


def test_diagnostic_text_of_an_error_is_not_a_message():
    assert sent_payloads(_trace(b"bad JSON", code="4.00")) == []


def test_judge_fails_with_the_requirement_and_ignores_other_rules():
    trace = _trace(_answer(vendorNote="x"))
    assert judge(trace, ("EMAP-B-13",), annex_b_findings) == 1
    with pytest.raises(Fail, match=r"^EMAP-B-04: emapDistributeEvent \(2\.04 response of POST /emap/EiEvent"):
        judge(trace, ("EMAP-B-04",), annex_b_findings)


def test_overall_leaves_mapped_schema_failures_to_their_rule():
    wrong_type = _trace(_answer(requestID=7))
    assert overall_findings(sent_payloads(wrong_type)[0], "U") == []  # EMAP-B-11
    missing = _answer()
    del missing["emapDistributeEvent"]["vtnID"]
    [finding] = overall_findings(sent_payloads(_trace(missing))[0], "U")
    assert finding.requirement == "EMAP-B-01" and finding.pointer.endswith("/vtnID")


def test_overall_passes_a_conforming_answer():
    assert overall_findings(sent_payloads(_trace(_answer()))[0], "U") == []
