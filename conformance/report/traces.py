"""What the report shows of the wire traces: sequence chart rows, round-trip statistics per resource."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from conformance.transport import codec
from conformance.transport.trace import TO_IUT, Trace

MAX_CHART_DATAGRAMS = 400


@dataclass(frozen=True)
class ChartNote:
    """An annotation the test wrote into its trace, shown across both lifelines."""

    time: str
    text: str
    kind: str = "note"


@dataclass(frozen=True)
class ChartRow:
    """One datagram of a message sequence chart (peer lifeline on the left, IUT on the right)."""

    seq: int
    time: str
    to_iut: bool
    endpoints: str
    coap: str
    message: str
    problem: str
    options: list[tuple[str, str]]
    payload: str
    size: int
    hexdump: str
    fault: str
    kind: str = "datagram"


@dataclass(frozen=True)
class RoundTrips:
    """Round-trip times of the exchanges on one resource, in milliseconds."""

    direction: str
    method: str
    path: str
    count: int
    unanswered: int
    min_ms: float | None
    median_ms: float | None
    p95_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class LoadedTrace:
    """A test's trace, or None and why it is not available (a report still renders without it)."""

    trace: Trace | None
    unavailable: str = ""


def load_trace(trace_dir: Path, relative: str | None) -> LoadedTrace:
    """The trace a test names, relative to ``trace_dir``."""
    if not relative:
        return LoadedTrace(None, "no trace recorded")
    path = trace_dir / relative
    if not path.is_file():
        return LoadedTrace(None, f"trace file {relative} not found")
    try:
        return LoadedTrace(Trace.from_jsonl(path))
    except (OSError, ValueError) as exc:
        return LoadedTrace(None, f"trace file {relative} unreadable: {' '.join(str(exc).split())}")


def load_traces(runs: list[dict], trace_dir: Path) -> list[list[LoadedTrace]]:
    """Every test's trace, one list per run, parallel to the run's tests."""
    return [[load_trace(trace_dir, test.get("trace")) for test in run["tests"]] for run in runs]


def chart_rows(trace: Trace, limit: int = MAX_CHART_DATAGRAMS) -> list[ChartRow | ChartNote]:
    """The rows of a test's message sequence chart in capture order, each note before the datagram it
    preceded; at most ``limit`` datagrams (the trace files keep them all)."""
    notes = sorted(trace.notes, key=lambda note: note.after_seq)
    rows: list[ChartRow | ChartNote] = []
    for record in trace.records[:limit]:
        while notes and notes[0].after_seq <= record.seq:
            rows.append(_note(notes.pop(0)))
        rows.append(_row(record))
    if len(trace.records) > limit:
        rows.append(
            ChartNote(
                time="",
                text=f"{len(trace.records) - limit} more datagrams are not drawn: see the "
                f"trace file and trace.pcapng",
            )
        )
        notes = [note for note in notes if note.after_seq <= limit]
    return rows + [_note(note) for note in notes]


def _note(note) -> ChartNote:
    return ChartNote(time=f"+{note.t:.3f} s", text=note.text)


def _row(record) -> ChartRow:
    dg = record.coap
    problem = ""
    if dg is None:
        coap_text = "not CoAP"
        problem = f"undecodable datagram: {record.error}"
        options, payload = [], ""
    else:
        coap_text = _coap_label(dg)
        options = [(codec.option_name(n), codec.option_text(n, v)) for n, v in dg.options]
        payload = _payload_text(dg.payload)
    if record.emap is not None:
        message = record.emap.name
        if record.emap.request_id is not None:
            message += f" requestID={record.emap.request_id}"
    elif record.emap_error:
        message = ""
        problem = f"invalid EMAP payload: {record.emap_error}"
    else:
        message = ""
    return ChartRow(
        seq=record.seq,
        time=f"+{record.t:.3f} s",
        to_iut=record.direction == TO_IUT,
        endpoints=f"{record.src} \u2192 {record.dst}",
        coap=coap_text,
        message=message,
        problem=problem,
        options=options,
        payload=payload,
        size=len(record.raw),
        hexdump=hexdump(record.raw),
        fault=record.fault or "",
    )


def _coap_label(dg) -> str:
    head = f"{dg.type_name} {dg.method or dg.code_text} MID {dg.mid}"
    if dg.token:
        head += f" tok {dg.token.hex()}"
    return f"{head} {dg.path}" if dg.is_request else head


def _payload_text(payload: bytes) -> str:
    if not payload:
        return ""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return f"({len(payload)} bytes, not UTF-8)"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return text


def hexdump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII, ``width`` bytes a line."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        ascii_text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:04x}  {chunk.hex(' '):<{width * 3}} {ascii_text}")
    return "\n".join(lines)


def round_trips(traces: list[Trace]) -> list[RoundTrips]:
    """Round-trip statistics of the exchanges in ``traces``, one row per direction and resource."""
    groups: dict[tuple[str, str, str], list] = {}
    for trace in traces:
        for exchange in trace.exchanges():
            direction = "peer \u2192 IUT" if exchange.direction == TO_IUT else "IUT \u2192 peer"
            groups.setdefault((direction, exchange.method or "?", exchange.path), []).append(exchange.rtt)
    return [_stats(key, rtts) for key, rtts in sorted(groups.items())]


def _stats(key: tuple[str, str, str], rtts: list) -> RoundTrips:
    answered = sorted(rtt * 1000 for rtt in rtts if rtt is not None)
    direction, method, path = key
    if not answered:
        return RoundTrips(direction, method, path, len(rtts), len(rtts), None, None, None, None)
    p95 = answered[max(0, -(-95 * len(answered) // 100) - 1)]
    return RoundTrips(
        direction,
        method,
        path,
        len(rtts),
        len(rtts) - len(answered),
        answered[0],
        statistics.median(answered),
        p95,
        answered[-1],
    )
