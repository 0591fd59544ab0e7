"""Sequence chart rows and round-trip statistics computed from traces."""

from __future__ import annotations

import pytest
from report_samples import IUT, NOTE, PEER, TRACES, UNDECODABLE

from conformance.report.traces import ChartNote, chart_rows, hexdump, load_trace, load_traces, round_trips


def test_chart_rows_show_coap_header_message_and_notes(report_dir):
    rows = chart_rows(load_trace(report_dir, "trace/TC-U-6.2.2-01.jsonl").trace)
    request, note, reply, garbage = rows
    assert request.to_iut and request.coap == "CON POST MID 4098 tok a2 /emap/EiRegisterParty"
    assert request.message == "emapCreatePartyRegistration requestID=req-2"
    assert request.endpoints == f"{PEER} \u2192 {IUT}"
    assert ("Uri-Path", "EiRegisterParty") in request.options and ("Content-Format", "50") in request.options
    assert '"emapCreatePartyRegistration"' in request.payload
    assert isinstance(note, ChartNote) and note.text == NOTE
    assert not reply.to_iut and reply.coap == "ACK 4.00 MID 4098 tok a2" and reply.message == ""
    assert garbage.coap == "not CoAP" and garbage.problem.startswith("undecodable datagram: ")
    assert garbage.hexdump == hexdump(UNDECODABLE)


def test_hexdump_layout():
    full, partial = hexdump(b"0123456789abcdef" + b"AB\x00").splitlines()
    assert full.startswith("0000  30 31 32") and full.endswith("  0123456789abcdef")
    assert partial.startswith("0010  41 42 00 ") and partial.endswith(" AB.")
    assert partial.index("AB.") == full.index("0123")


def test_round_trips_per_direction_and_resource(report_dir):
    traces = [
        loaded.trace
        for loaded in load_traces(
            [{"tests": [{"trace": f"trace/{test_id}.jsonl"} for test_id in TRACES]}], report_dir
        )[0]
    ]
    stats = {(rt.method, rt.path): rt for rt in round_trips(traces)}
    register = stats[("POST", "/emap/EiRegisterParty")]
    assert register.count == 2 and register.unanswered == 0
    assert register.min_ms == pytest.approx(14.0) and register.max_ms == pytest.approx(35.0)
    event = stats[("POST", "/emap/EiEvent")]
    assert event.median_ms == pytest.approx(120.0)  # separate response: the CON 2.04, not the empty ACK
    assert event.direction == "peer \u2192 IUT"


def test_missing_or_broken_trace_is_reported_not_raised(tmp_path):
    assert load_trace(tmp_path, None).unavailable == "no trace recorded"
    assert load_trace(tmp_path, "trace/x.jsonl").unavailable == "trace file trace/x.jsonl not found"
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    loaded = load_trace(tmp_path, "bad.jsonl")
    assert loaded.trace is None and loaded.unavailable.startswith("trace file bad.jsonl unreadable: ")


def test_long_trace_is_cut_with_a_note(report_dir):
    trace = load_trace(report_dir, "trace/TC-U-6.3.1-01.jsonl").trace
    rows = chart_rows(trace, limit=2)
    assert [row.kind for row in rows] == ["datagram", "datagram", "note"]
    assert rows[-1].text.startswith("2 more datagrams are not drawn")
