"""The messages an IUT sent, read from the captured trace, and the per-message verdict helpers of EMAP-B-01."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.messages import MessageError, validate
from conformance.messages.rules import check, requirement_of
from conformance.messages.timefmt import parse_datetime
from conformance.messages.validate import parse
from conformance.verdict import Fail

from .strict import Finding, findings


@dataclass(frozen=True)
class Sent:
    """One payload the IUT sent: its own request (``posted``) or the payload of its 2.xx response."""

    exchange: object
    record: object
    payload: bytes
    posted: bool

    @property
    def where(self) -> str:
        ex = self.exchange
        side = "request" if self.posted else f"{ex.code} response"
        return f"{side} of {ex.method} {ex.path} at t={self.record.t:.2f} s"


def sent_payloads(trace) -> list[Sent]:
    """Every EMAP payload the IUT sent: bodies of its requests and of its 2.xx responses (the diagnostic text of
    a 4.xx/5.xx response is not an EMAP message)."""
    found = []
    for exchange in trace.exchanges():
        if exchange.direction == "from-iut" and exchange.request_payload:
            found.append(Sent(exchange, exchange.request, exchange.request_payload, True))
        elif exchange.direction == "to-iut" and exchange.response_payload and (exchange.code or "").startswith("2."):
            found.append(Sent(exchange, exchange.response, exchange.response_payload, False))
    return found


def annex_b_findings(sent: Sent) -> list[Finding]:
    """The strict walk's findings of one payload; a payload that is not even JSON has none here (EMAP-B-02)."""
    try:
        value = parse(sent.payload)
    except MessageError:
        return []
    return findings(value)


def overall_findings(sent: Sent, sender: str) -> list[Finding]:
    """EMAP-B-01: the payload validates against its B.6 schema, except failures another Annex B requirement
    covers, and the message-only rules binding the sender (B.6 rule 6, no response code) find nothing."""
    try:
        message = validate(sent.payload, posted=sent.posted)
    except MessageError as error:
        requirement = requirement_of(error)
        return [Finding("EMAP-B-01", error.pointer, f"{error.detail}")] if requirement == "EMAP-B-01" else []
    now = parse_datetime(sent.record.wall)
    return [Finding("EMAP-B-01", v.pointer, f"{v.text} ({v.requirement_id})")
            for v in check(message, now=now, sender=sender) if v.code is None]


def judge(trace, requirements: tuple[str, ...], collect) -> int:
    """Fail with the first finding of ``requirements`` that ``collect(sent)`` reports for any payload the IUT
    sent; returns how many payloads were judged."""
    payloads = sent_payloads(trace)
    for sent in payloads:
        for finding in collect(sent):
            if finding.requirement in requirements:
                raise Fail(f"{finding.requirement}: {message_name(sent)} ({sent.where}): {finding.pointer or '/'}: "
                           f"{finding.text}")
    return len(payloads)


def message_name(sent: Sent) -> str:
    try:
        value = parse(sent.payload)
    except MessageError:
        return "payload"
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 else "payload"
