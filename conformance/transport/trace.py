"""Per-test record of every datagram exchanged with the IUT, with CoAP and EMAP decoding and exchange pairing.

Test cases compute verdicts from a `Trace`: `exchanges()` pairs each request with its ACK / piggy-backed or
separate response (RFC 7252 sections 4 and 5.2) and groups block-wise transfers (RFC 7959) into one logical
exchange whose request and response messages are the reassembled payloads.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from . import codec
from .codec import ACK, BLOCK1, BLOCK2, CON, NON, RST, CoapDatagram, CodecError

TO_IUT, FROM_IUT = "to-iut", "from-iut"
DIRECTIONS = (TO_IUT, FROM_IUT)
JSON_FORMAT = 50
CONTINUE = codec.code_of("2.31")


def _json_line(item: dict) -> str:
    """One JSONL line, readable UTF-8; escaped ASCII when a decoded string holds a lone surrogate (a payload may
    carry "\\ud800", which has no UTF-8 form)."""
    text = json.dumps(item, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(item)
    return text + "\n"


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def load_message_model() -> None:
    """Import the message model ahead of traffic so its first use does not stall the event loop mid-test."""
    validate_payload(b"{}", posted=False)


def validate_payload(payload: bytes, *, posted: bool) -> tuple[Any, str | None]:
    """Run `conformance.messages.validate`; returns (ValidMessage or None, one-line error or None).

    Imported lazily so the transport layer works (without EMAP decoding) while the message model is absent."""
    try:
        from conformance.messages import MessageError, validate
    except ImportError:
        return None, None
    try:
        return validate(payload, posted=posted), None
    except MessageError as exc:
        return None, str(exc)
    except Exception as exc:  # a defect in the message model must not lose the datagram
        return None, f"message validator failed: {type(exc).__name__}: {exc}"


def _is_partial_block(dg: CoapDatagram) -> bool:
    """True when the payload is one block of a larger body (reassembled at the exchange level instead)."""
    b1, b2 = dg.block(BLOCK1), dg.block(BLOCK2)
    if dg.is_request:
        return b1 is not None and (b1[0] > 0 or b1[1])
    return b2 is not None and (b2[0] > 0 or b2[1])


def _looks_json(dg: CoapDatagram) -> bool:
    """Content-Format application/json, or (whatever the format says) a body that starts like a JSON object."""
    return dg.content_format == JSON_FORMAT or dg.payload.lstrip()[:1] in (b"{", b"[")


@dataclass
class TraceRecord:
    """One datagram as seen on the wire. `fault` says what a fault plan did to it (None: relayed unchanged).

    Recording keeps the raw bytes only: the CoAP decoding (`coap`, `error`) and the EMAP decoding of a whole JSON
    payload (`emap`, `emap_error`) are done on first read and then kept, so relaying a datagram never waits for
    them; what a record shows does not depend on when it is first read."""

    seq: int
    t: float
    wall: str
    direction: str
    src: str
    dst: str
    raw: bytes
    fault: str | None = field(default=None, kw_only=True)
    _coap: tuple | None = field(default=None, init=False, repr=False, compare=False)  # None: not read yet
    _emap: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def decoded(cls, seq: int, t: float, wall: str, direction: str, src: str, dst: str, raw: bytes,
                fault: str | None = None) -> TraceRecord:
        """A record of `raw` (copied); its CoAP datagram and (whole, JSON) EMAP payload decode on first read."""
        return cls(seq, t, wall, direction, src, dst, bytes(raw), fault=fault)

    def _coap_decoded(self) -> tuple[CoapDatagram | None, str | None]:
        if self._coap is None:
            try:
                self._coap = codec.decode(self.raw), None
            except CodecError as exc:
                self._coap = None, str(exc)
        return self._coap

    def _emap_decoded(self) -> tuple[Any, str | None]:
        if self._emap is None:
            dg = self.coap
            if dg is not None and dg.payload and (dg.is_request or dg.is_response) \
                    and not _is_partial_block(dg) and _looks_json(dg):
                self._emap = validate_payload(dg.payload, posted=dg.is_request)
            else:
                self._emap = None, None
        return self._emap

    @property
    def coap(self) -> CoapDatagram | None:
        """The decoded datagram, None when it does not decode (then `error` says why)."""
        return self._coap_decoded()[0]

    @property
    def error(self) -> str | None:
        return self._coap_decoded()[1]

    @property
    def emap(self) -> Any:
        """The EMAP message (ValidMessage) of a whole JSON payload of a request or response, else None."""
        return self._emap_decoded()[0]

    @property
    def emap_error(self) -> str | None:
        return self._emap_decoded()[1]

    def summary(self) -> str:
        what = self.coap.summary() if self.coap else f"undecodable ({self.error})"
        fault = f" [{self.fault}]" if self.fault else ""
        return f"#{self.seq} +{self.t:.3f}s {self.direction} {self.src} -> {self.dst}: {what}{fault}"

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "kind": "record", "seq": self.seq, "t": self.t, "wall": self.wall,
            "direction": self.direction, "src": self.src, "dst": self.dst,
            "raw": self.raw.hex(), "error": self.error, "fault": self.fault,
            "coap": _coap_dict(self.coap) if self.coap else None,
            "emap": None, "emap_error": self.emap_error,
        }
        if self.emap is not None:
            out["emap"] = {"name": self.emap.name, "envelope": self.emap.envelope}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> TraceRecord:
        return cls.decoded(d["seq"], d["t"], d["wall"], d["direction"], d["src"], d["dst"],
                           bytes.fromhex(d["raw"]), fault=d.get("fault"))


def _coap_dict(dg: CoapDatagram) -> dict:
    out: dict[str, Any] = {
        "type": dg.type_name, "code": dg.code_text, "method": dg.method, "mid": dg.mid, "token": dg.token.hex(),
        "options": [{"number": n, "name": codec.option_name(n), "value": codec.option_text(n, v), "hex": v.hex()}
                    for n, v in dg.options],
    }
    try:
        out["payload"] = dg.payload.decode("utf-8")
    except UnicodeDecodeError:
        out["payload_b64"] = base64.b64encode(dg.payload).decode("ascii")
    return out


@dataclass
class Note:
    """An annotation in the trace, placed after record `after_seq - 1`."""

    t: float
    after_seq: int
    text: str


@dataclass
class _Transaction:
    """One request (with its retransmissions) and everything that answered it at the message layer."""

    first: TraceRecord
    transmissions: list[TraceRecord] = field(default_factory=list)
    responses: list[TraceRecord] = field(default_factory=list)
    records: list[TraceRecord] = field(default_factory=list)
    response: TraceRecord | None = None

    @property
    def dg(self) -> CoapDatagram:
        return self.first.coap

    @cached_property
    def target(self) -> tuple[str, str, str]:
        dg = self.dg
        return self.first.src, self.first.dst, dg.path + "?" + "&".join(dg.query)

    @cached_property
    def continues_blocks(self) -> bool:
        """Whether the request is a later block (Block1 or Block2 number above 0) of a block-wise exchange."""
        return any(block is not None and block[0] > 0 for block in (self.dg.block(BLOCK1), self.dg.block(BLOCK2)))


class Exchange:
    """A logical CoAP exchange: a request (possibly in Block1 blocks) and its response (possibly Block2 blocks)."""

    def __init__(self, first: _Transaction):
        self.transactions = [first]

    @property
    def request(self) -> TraceRecord:
        return self.transactions[0].first

    @property
    def transmissions(self) -> list[TraceRecord]:
        """Every datagram carrying (a block of) the request, retransmissions included."""
        return [r for tx in self.transactions for r in tx.transmissions]

    @property
    def responses(self) -> list[TraceRecord]:
        """Every datagram from the responder: ACKs, RSTs, piggy-backed and separate responses, 2.31, blocks."""
        return [r for tx in self.transactions for r in tx.responses]

    @property
    def records(self) -> list[TraceRecord]:
        return sorted((r for tx in self.transactions for r in tx.records), key=lambda r: r.seq)

    def final_responses(self) -> list[TraceRecord]:
        """The responses carrying the result (one, or one per Block2 block), 2.31 Continue excluded."""
        return [tx.response for tx in self.transactions
                if tx.response is not None and tx.response.coap.code != CONTINUE]

    @property
    def response(self) -> TraceRecord | None:
        """The response carrying the exchange's result code (a 2.31 Continue only if nothing else came)."""
        final = self.final_responses()
        if final:
            return final[0]
        answered = [tx.response for tx in self.transactions if tx.response is not None]
        return answered[-1] if answered else None

    @property
    def reset(self) -> bool:
        return any(r.coap.mtype == RST for r in self.responses)

    @property
    def direction(self) -> str:
        return self.request.direction

    @property
    def path(self) -> str:
        return self.request.coap.path

    @property
    def query(self) -> list[str]:
        return self.request.coap.query

    @property
    def method(self) -> str | None:
        return self.request.coap.method

    @property
    def confirmable(self) -> bool:
        return self.request.coap.mtype == CON

    @property
    def code(self) -> str | None:
        resp = self.response
        return resp.coap.code_text if resp is not None else None

    @property
    def rtt(self) -> float | None:
        resp = self.response
        return resp.t - self.request.t if resp is not None else None

    @property
    def blockwise(self) -> bool:
        return len(self.transactions) > 1 or self.request.coap.block(BLOCK1) is not None

    @cached_property
    def request_payload(self) -> bytes | None:
        """Reassembled request body (Block1), or None when blocks are missing."""
        return _reassemble(self.request_blocks(), BLOCK1)

    def request_blocks(self) -> list[TraceRecord]:
        """The first transmission of each request block (Block2 follow-up requests carry no body)."""
        blocks = [tx.first for tx in self.transactions if tx.dg.block(BLOCK1) is not None]
        return blocks or [self.request]

    @cached_property
    def response_payload(self) -> bytes | None:
        """Reassembled response body (Block2), or None when there is no response or blocks are missing."""
        final = self.final_responses()
        return _reassemble(final, BLOCK2) if final else None

    @cached_property
    def _request_decoded(self) -> tuple[Any, str | None]:
        return self._decoded(self.request_payload, self.request_blocks(), posted=True)

    @cached_property
    def _response_decoded(self) -> tuple[Any, str | None]:
        final = self.response
        records = [final] if final is not None else []
        return self._decoded(self.response_payload, records, posted=False)

    @staticmethod
    def _decoded(payload: bytes | None, records: list[TraceRecord], *, posted: bool) -> tuple[Any, str | None]:
        if len(records) == 1 and not _is_partial_block(records[0].coap):
            return records[0].emap, records[0].emap_error
        if payload is None:
            return None, "incomplete block-wise transfer: blocks missing" if records else None
        if not payload:
            return None, None
        return validate_payload(payload, posted=posted)

    @property
    def request_message(self):
        return self._request_decoded[0]

    @property
    def request_message_error(self) -> str | None:
        return self._request_decoded[1]

    @property
    def response_message(self):
        return self._response_decoded[0]

    @property
    def response_message_error(self) -> str | None:
        return self._response_decoded[1]

    def summary(self) -> str:
        return f"{self.method} {self.path} -> {self.code or 'no response'}"

    def __repr__(self) -> str:
        return f"<Exchange #{self.request.seq} {self.summary()}>"


def _reassemble(records: list[TraceRecord], block_option: int) -> bytes | None:
    """Concatenate block payloads by block number; None when a block before the last one is missing."""
    if len(records) == 1 and records[0].coap.block(block_option) is None:
        return records[0].coap.payload
    blocks: dict[int, bytes] = {}
    last = None
    for rec in records:
        blk = rec.coap.block(block_option)
        if blk is None:
            return None
        num, more, szx = blk
        blocks.setdefault(num * (16 << szx), rec.coap.payload)
        if not more:
            last = num * (16 << szx)
    if last is None:
        return None
    out, offset = bytearray(), 0
    while True:
        chunk = blocks.get(offset)
        if chunk is None:
            return None
        out += chunk
        if offset == last:
            return bytes(out)
        offset += len(chunk)
        if not chunk or offset > last:
            return None


def pair_transactions(records: Iterable[TraceRecord]) -> list[_Transaction]:
    """Message-layer pairing (RFC 7252 sections 4.2-4.5, 5.2): requests with retransmissions, ACK/RST by MID,
    separate responses by token, the requester's ACK of a separate response by MID."""
    txs: list[_Transaction] = []
    by_request_mid: dict[tuple[str, str, int], _Transaction] = {}
    by_separate_mid: dict[tuple[str, str, int], _Transaction] = {}
    for rec in records:
        dg = rec.coap
        if dg is None:
            continue
        if dg.is_request and dg.mtype in (CON, NON):
            tx = by_request_mid.get((rec.src, rec.dst, dg.mid))
            if tx is None or tx.dg.token != dg.token:  # a retransmission repeats MID and token
                tx = _Transaction(rec)
                txs.append(tx)
                by_request_mid[(rec.src, rec.dst, dg.mid)] = tx
            tx.transmissions.append(rec)
            tx.records.append(rec)
        elif dg.mtype in (ACK, RST) and (dg.is_empty or dg.is_response):
            tx = by_request_mid.get((rec.dst, rec.src, dg.mid))
            if tx is not None:
                tx.responses.append(rec)
                tx.records.append(rec)
                if dg.is_response and tx.response is None:
                    tx.response = rec
                continue
            tx = by_separate_mid.get((rec.src, rec.dst, dg.mid))
            if tx is not None:
                tx.records.append(rec)
        elif dg.is_response and dg.mtype in (CON, NON):
            tx = _separate_owner(txs, rec, by_separate_mid)
            if tx is not None:
                tx.responses.append(rec)
                tx.records.append(rec)
                tx.response = tx.response or rec
                by_separate_mid[(rec.dst, rec.src, dg.mid)] = tx
    return txs


def _separate_owner(txs: list[_Transaction], rec: TraceRecord,
                    by_separate_mid: dict[tuple[str, str, int], _Transaction]) -> _Transaction | None:
    """The transaction a separate (or NON) response belongs to: a repeat by MID, else the latest open request
    with the same token between the same endpoints."""
    known = by_separate_mid.get((rec.dst, rec.src, rec.coap.mid))
    if known is not None:
        return known
    for tx in reversed(txs):
        if (tx.first.src, tx.first.dst) == (rec.dst, rec.src) and tx.dg.token == rec.coap.token \
                and tx.response is None:
            return tx
    return None


def _continues(exchange: Exchange, tx: _Transaction) -> bool:
    """Whether `tx` is the next block request of `exchange` (RFC 7959 sections 2.3-2.5)."""
    last = exchange.transactions[-1]
    if last.target != tx.target:
        return False
    b1, b2 = tx.dg.block(BLOCK1), tx.dg.block(BLOCK2)
    if b1 is not None and b1[0] > 0:
        prev = last.dg.block(BLOCK1)
        return prev is not None and prev[1] and _offset(prev) + (16 << prev[2]) == _offset(b1)
    if b2 is not None and b2[0] > 0 and last.response is not None:
        prev = last.response.coap.block(BLOCK2)
        return prev is not None and prev[1] and _offset(prev) + (16 << prev[2]) == _offset(b2)
    return False


def _offset(block: tuple[int, bool, int]) -> int:
    return block[0] * (16 << block[2])


def group_exchanges(txs: list[_Transaction]) -> list[Exchange]:
    """Merge block-wise continuations into the logical exchange they continue: the latest one with the same
    target (the transactions of an exchange share it) that the block numbers continue."""
    exchanges: list[Exchange] = []
    by_target: dict[tuple[str, str, str], list[Exchange]] = {}
    for tx in txs:
        candidates = by_target.get(tx.target, ()) if tx.continues_blocks else ()
        owner = next((ex for ex in reversed(candidates) if _continues(ex, tx)), None)
        if owner is None:
            exchange = Exchange(tx)
            exchanges.append(exchange)
            by_target.setdefault(tx.target, []).append(exchange)
        else:
            owner.transactions.append(tx)
    return exchanges


class Trace:
    """The datagrams of one test case, in arrival order, with notes."""

    def __init__(self, test_id: str = ""):
        self.test_id = test_id
        self.records: list[TraceRecord] = []
        self.notes: list[Note] = []
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self.start_wall = _rfc3339(self._wall0)

    def elapsed(self) -> float:
        """Seconds since the trace started, to the microsecond (what the JSONL keeps)."""
        return round(time.monotonic() - self._t0, 6)

    def append(self, record: TraceRecord) -> TraceRecord:
        self.records.append(record)
        return record

    def record(self, direction: str, src: str, dst: str, raw: bytes, *, fault: str | None = None) -> TraceRecord:
        """Timestamp and append one datagram (decoded on first read, see `TraceRecord`)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
        t = self.elapsed()
        return self.append(TraceRecord.decoded(len(self.records), t, _rfc3339(self._wall0 + t), direction,
                                               src, dst, raw, fault=fault))

    def note(self, text: str) -> None:
        self.notes.append(Note(self.elapsed(), len(self.records), text))

    def requests(self, direction: str | None = None, path: str | None = None) -> list[TraceRecord]:
        """Request datagrams (retransmissions included), optionally filtered."""
        return [r for r in self.records if r.coap is not None and r.coap.is_request
                and (direction is None or r.direction == direction) and (path is None or r.coap.path == path)]

    def exchanges(self) -> list[Exchange]:
        return group_exchanges(pair_transactions(self.records))

    def messages(self, name: str | None = None, direction: str | None = None) -> list[tuple[TraceRecord, Any]]:
        """Each EMAP message once (block-wise bodies reassembled, retransmissions collapsed), in wire order,
        paired with the record that completed it."""
        found: list[tuple[TraceRecord, Any]] = []
        covered: set[int] = set()
        for ex in self.exchanges():
            covered.update(r.seq for r in ex.records)
            if ex.request_message is not None:
                found.append((ex.request_blocks()[-1], ex.request_message))
            if ex.response_message is not None:
                found.append((ex.final_responses()[-1], ex.response_message))
        found += [(r, r.emap) for r in self.records if r.emap is not None and r.seq not in covered]
        found.sort(key=lambda pair: pair[0].seq)
        return [(r, m) for r, m in found
                if (name is None or m.name == name) and (direction is None or r.direction == direction)]

    def to_jsonl(self, path: str | Path) -> None:
        lines = [{"kind": "trace", "test_id": self.test_id, "start": self.start_wall}]
        lines += [r.to_dict() for r in self.records]
        lines += [{"kind": "note", "t": n.t, "after_seq": n.after_seq, "text": n.text} for n in self.notes]
        Path(path).write_text("".join(_json_line(line) for line in lines), encoding="utf-8")

    @classmethod
    def from_jsonl(cls, path: str | Path) -> Trace:
        trace = cls()
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                kind = item["kind"]
                if kind == "trace":
                    trace.test_id, trace.start_wall = item["test_id"], item["start"]
                elif kind == "record":
                    trace.records.append(TraceRecord.from_dict(item))
                elif kind == "note":
                    trace.notes.append(Note(item["t"], item["after_seq"], item["text"]))
                else:
                    raise ValueError(f"unknown kind {kind!r}")
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a trace line: {exc}") from None
        return trace

