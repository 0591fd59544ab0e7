"""Synthetic results and wire traces for the report tests (no IUT, no network)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conformance.messages import build, encode
from conformance.transport import codec
from conformance.transport.trace import FROM_IUT, TO_IUT, Note, Trace, TraceRecord

PEER = "127.0.0.1:40001"
IUT = "127.0.0.1:5683"
START = datetime(2026, 11, 26, 6, 0, 0, tzinfo=UTC)
UNDECODABLE = b"\x01\x02"
NOTE = "expecting 2.04 with emapCreatedPartyRegistration"


def _wall(t: float) -> str:
    return (START + timedelta(seconds=t)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def write_trace(
    path: Path, test_id: str, datagrams: list[tuple[float, str, bytes]], notes=(), start: float = 0.0
) -> None:
    """Write a trace of (t, direction, raw datagram) tuples, the peer on PEER and the IUT on IUT; the trace
    starts ``start`` seconds after START."""
    trace = Trace(test_id)
    for seq, (t, direction, raw) in enumerate(datagrams):
        src, dst = (PEER, IUT) if direction == TO_IUT else (IUT, PEER)
        trace.append(TraceRecord.decoded(seq, t, _wall(start + t), direction, src, dst, raw))
    trace.notes.extend(Note(t, after, text) for t, after, text in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    trace.to_jsonl(path)


def _post(mid: int, token: bytes, path: str, envelope: dict) -> bytes:
    return codec.encode(
        codec.request("POST", path, mid=mid, token=token, payload=encode(envelope), content_format=50)
    )


def _reply(mtype: int, code: str, mid: int, token: bytes, payload: bytes = b"") -> bytes:
    options = ((codec.CONTENT_FORMAT, codec.uint_bytes(50)),) if payload.startswith(b"{") else ()
    return codec.encode(codec.CoapDatagram(mtype, codec.code_of(code), mid, token, options, payload))


# Per test: the datagrams of its trace (None: no trace file).
TRACES = {
    "TC-U-6.2.1-01": [
        (0.010, TO_IUT, _post(0x1001, b"\xa1", "/emap/EiRegisterParty", build.query_registration("req-1"))),
        (
            0.024,
            FROM_IUT,
            _reply(
                codec.ACK, "2.04", 0x1001, b"\xa1", encode(build.created_party_registration("req-1", "vtn-1"))
            ),
        ),
    ],
    "TC-U-6.2.2-01": [
        (
            0.005,
            TO_IUT,
            _post(
                0x1002,
                b"\xa2",
                "/emap/EiRegisterParty",
                build.create_party_registration("req-2", ven_name="ven-a"),
            ),
        ),
        (
            0.040,
            FROM_IUT,
            _reply(codec.ACK, "4.00", 0x1002, b"\xa2", b"schema: /emapCreatePartyRegistration"),
        ),
        (0.050, FROM_IUT, UNDECODABLE),
    ],
    "TC-U-6.3.1-01": [
        (0.000, TO_IUT, _post(0x1003, b"\xa3", "/emap/EiEvent", build.request_event("req-3", "ven-1"))),
        (0.002, FROM_IUT, _reply(codec.ACK, "0.00", 0x1003, b"")),
        (0.120, FROM_IUT, _reply(codec.CON, "2.04", 0x7001, b"\xa3", encode(build.response("req-3")))),
        (0.121, TO_IUT, _reply(codec.ACK, "0.00", 0x7001, b"")),
    ],
    "TC-U-7.1.4-01": [],
}


def _test(test_id, requirements, verdict, reason, trace=True, **extra):
    return {
        "id": test_id,
        "purpose": f"Purpose of {test_id}.",
        "requirements": requirements,
        "clause": requirements[0].split("-")[1],
        "verdict": verdict,
        "reason": reason,
        "duration_s": 0.25,
        "trace": f"trace/{test_id}.jsonl" if trace else None,
        **extra,
    }


def sample_run(profile: str = "upper") -> dict:
    tests = [
        _test("TC-U-6.2.1-01", ["EMAP-6.2.1-01"], "pass", ""),
        _test(
            "TC-U-6.2.2-01",
            ["EMAP-6.2.2-01", "EMAP-6.2.2-02"],
            "fail",
            "EMAP-6.2.2-01: expected 2.04, got 4.00",
        ),
        _test(
            "TC-U-6.3.1-01",
            ["EMAP-6.3.1-01"],
            "inconclusive",
            "stimulus unavailable",
            advisories=["EMAP-6.3.1-02: separate response where piggy-backed was possible"],
        ),
        _test("TC-U-7.1.4-01", ["EMAP-7.1.4-01"], "error", "suite fault: <KeyError 'x'>"),
        _test("TC-L-6.2.4-01", ["EMAP-6.2.4-06"], "not-applicable", "role == lower", trace=False),
    ]
    requirement_verdicts = {
        "EMAP-6.2.1-01": "pass",
        "EMAP-6.2.2-01": "fail",
        "EMAP-6.2.2-02": "fail",
        "EMAP-6.3.1-01": "inconclusive",
        "EMAP-7.1.4-01": "error",
        "EMAP-6.2.4-06": "not-applicable",
        "EMAP-A-04": "not-tested",
    }
    return {
        "suite": {"name": "emap-conformance", "version": "0.1.0"},
        "iut": {"uri": "coap://127.0.0.1:5683/emap", "role": "upper", "mode": None, "firmware": "1.2.3"},
        "profile": {
            "name": profile,
            "pics": {"role": "upper", "opt_change": True},
            "pixit": {"iut": "embedded", "timing": {"t_prompt_s": 10}},
        },
        "started": "2026-11-26T06:00:00Z",
        "finished": "2026-11-26T06:01:00Z",
        "seed": 1234,
        "summary": {"pass": 1, "fail": 1, "inconclusive": 1, "error": 1, "not-applicable": 1, "waived": 0},
        "tests": tests,
        "requirements": [
            {"id": rid, "level": "shall", "verdict": v} for rid, v in requirement_verdicts.items()
        ],
        "fuzz": {
            "examples": 200,
            "seed": 1234,
            "targets": [{"name": "EiEvent", "examples": 200, "failures": 0}],
        },
    }


def write_sample_traces(report_dir: Path) -> None:
    """The per-test traces a run of sample_run() would have written into ``report_dir``."""
    for index, (test_id, datagrams) in enumerate(TRACES.items()):
        notes = [(0.03, 1, NOTE)] if test_id == "TC-U-6.2.2-01" else []
        write_trace(report_dir / "trace" / f"{test_id}.jsonl", test_id, datagrams, notes, start=index)


def require_tool(name: str) -> str:
    """Path of an external program; a missing one skips the test, or fails it under CI (env CI set)."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required under CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return found


def _resource(exchanges: int, p50: float | None, outcomes: dict[str, int]) -> dict:
    latency = (
        None
        if p50 is None
        else {"p50": p50, "p90": p50 * 4, "p99": p50 * 9, "max": p50 * 20, "mean": p50 * 2}
    )
    return {
        "exchanges": exchanges,
        "per_s": round(exchanges / 10, 2),
        "latency_ms": latency or dict.fromkeys(("p50", "p90", "p99", "max", "mean")),
        "histogram_ms": [
            {"le_ms": 5, "count": exchanges // 2},
            {"le_ms": None, "count": exchanges - exchanges // 2},
        ],
        "outcomes": outcomes,
    }


# The per-second rows of a 10 s load run; second 6 completed only failures (no latency).
LOAD_TIMELINE = [
    {
        "t": t,
        "exchanges": 50 + 10 * t,
        "failed": 3 if t in (4, 6) else 0,
        "p50_ms": 2.5 + t,
        "p99_ms": 40.0 + 30 * t,
    }
    for t in range(11)
]
LOAD_TIMELINE[6].update(exchanges=3, p50_ms=None, p99_ms=None)


def sample_load_section() -> dict:
    """A ``load`` section as ``emap-conformance load`` writes it: 200 lower EMAs, failures and violations."""
    return {
        "iut": "coap://127.0.0.1:5683/emap",
        "lower_emas": 200,
        "push_emas": 40,
        "mix": {"pull": 0.8, "push": 0.2, "opt": 0.1, "report": 0.05, "event": 0.1},
        "seed": 7,
        "duration_s": 10.02,
        "wall_s": 12.5,
        "ramp_s": 4.0,
        "max_inflight": 256,
        "full_check_emas": 50,
        "registered": 198,
        "registrations": 201,
        "never_registered": 2,
        "exchanges": 1503,
        "per_s": 130.0,
        "after_stop": 200,
        "failed": 6,
        "retransmissions": 17,
        "errors_by_code": {"2.04/463": 2, "5.03": 1, "timeout": 3},
        "resources": {
            "EiRegisterParty": _resource(603, 12.5, {"2.04/200": 600, "5.03": 1, "timeout": 2}),
            "EmapPoll": _resource(
                899, 3.25, {"2.04/200": 700, "2.04/request": 196, "2.04/463": 2, "timeout": 1}
            ),
            "EiOpt": _resource(1, None, {"timeout": 1}),
        },
        "timeline": LOAD_TIMELINE,
        "simulator_errors": 0,
        "stimuli": {"create-event": {"accepted": 2}},
        "violations": {
            "total": 4,
            "full_checks": 640,
            "simulator_faults": 0,
            "by_requirement": {"EMAP-6.1-02": 3, "EMAP-6.6-02": 1},
            "examples": [
                {
                    "requirement": "EMAP-6.1-02",
                    "resource": "EiRegisterParty",
                    "message": "emapCreatePartyRegistration",
                    "detail": "requestID 'q-1' not echoed: got 'x'",
                    "ven_id": None,
                    "t": 1.25,
                },
                {
                    "requirement": "EMAP-6.6-02",
                    "resource": "EmapPoll",
                    "message": "emapPoll",
                    "detail": "poll answered with emapResponse",
                    "ven_id": "ven-17",
                    "t": 7.5,
                },
            ],
        },
    }


def sample_load_run() -> dict:
    """The results.json run object of a load run with ``sample_load_section()``."""
    from conformance.load.results import results_of

    return results_of(sample_load_section(), started=1_795_000_000.0, finished=1_795_000_012.5)
