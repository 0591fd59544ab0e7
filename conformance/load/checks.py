"""Conformance checks applied to every exchange under load (a full check for a sample of the lower EMAs).

Every simulated lower EMA sends only valid requests, so the IUT's answers are judged against the binding:

- cheap checks, every exchange: 2.04 for a valid request (EMAP-7.1.6-01, -02), Content-Format 50 on a message
  and the empty 2.04 only for a POSTed `emapResponse` (EMAP-7.1.4-04, EMAP-6.1-06), the payload a single JSON
  envelope (EMAP-B-02, -03), the response message type of Table 6.1-1 (EMAP-6.1-01), the echoed requestID
  (EMAP-6.1-02), a poll answered with one of the eight replies (EMAP-6.6-02), the first poll after a
  registration answered with U's `emapRegisterReport` (EMAP-6.2.3-11), an accepted `emapCancelOpt` sent again
  unchanged within half an EXCHANGE_LIFETIME answered with the same response (EMAP-7.1.5-07);
- full checks, for the sampled lower EMAs: the message schema (Annex B) and the message rules of
  ``conformance.messages.rules.check`` on every answer and on every request U sends them (pushed or polled).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from conformance.messages import MESSAGES, RESPONSES_OF, MessageError, ValidMessage, rules, validate
from conformance.messages.timefmt import utc_now

EXAMPLES = 25
SERVER_OVERLOAD = "5.03"  # allowed under overload (EMAP-7.1.5-09): an error, not a violation
#: What a conformant lower EMA's answer to U's push says U did wrong (EMAP-7.1.4-05 order).
PUSH_FAULTS = {"4.04": "EMAP-6.1-04", "4.05": "EMAP-6.1-04", "4.15": "EMAP-7.1.4-02", "4.06": "EMAP-7.1.4-03"}


@dataclass(frozen=True)
class Violation:
    """One broken requirement seen under load."""

    requirement: str
    resource: str
    message: str | None
    detail: str
    ven_id: str | None
    t: float


def light_message(payload: bytes) -> ValidMessage:
    """Decode without the schema: a single JSON envelope of a Table B-1 message (EMAP-B-02, -03)."""
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageError("not-json", f"not UTF-8 JSON: {exc}") from None
    if not isinstance(value, dict) or len(value) != 1:
        raise MessageError("not-envelope", "not a single-member envelope object")
    ((name, body),) = value.items()
    if name not in MESSAGES or not isinstance(body, dict):
        raise MessageError("unknown-message", f"{name!r} is not a message of Table B-1")
    return ValidMessage(name, body)


def decode(payload: bytes, *, posted: bool, full: bool) -> ValidMessage:
    """The EMAP message in ``payload``: schema-validated when ``full``, else light; MessageError otherwise."""
    return validate(payload, posted=posted) if full else light_message(payload)


def outcome_of(code: str, message: ValidMessage | None) -> str:
    """The outcome key of an exchange: "2.04/200", "2.04/463", "2.04/empty", "2.04/invalid", "4.00"..."""
    if code != "2.04":
        return code
    if message is None:
        return "2.04/empty"
    return f"2.04/{message.response_code or 'request'}"


class Checker:
    """Judges exchanges and keeps the violations found (counts by requirement, the first examples)."""

    def __init__(self, examples: int = EXAMPLES):
        self.by_requirement: Counter = Counter()
        self.examples: list[Violation] = []
        self._limit = examples
        self.full_checks = 0
        self.simulator_faults = 0

    def add(self, violation: Violation) -> None:
        self.by_requirement[violation.requirement] += 1
        if len(self.examples) < self._limit:
            self.examples.append(violation)

    def _found(self, requirement, resource, message, detail, ven_id, t) -> None:
        self.add(Violation(requirement, resource, message, detail, ven_id, round(t, 3)))

    def answer(
        self,
        *,
        resource: str,
        request: ValidMessage,
        code: str,
        content_format: int | None,
        payload: bytes,
        full: bool,
        ven_id: str | None,
        t: float,
        tolerance: float,
        request_payload: bytes,
    ) -> ValidMessage | None:
        """Judge the IUT's CoAP answer to ``request``; returns its EMAP message (None if none or invalid).

        ``tolerance`` (s) widens the time-dependent message rules by the exchange's own latency."""
        name = request.name
        if code == SERVER_OVERLOAD:
            return None
        if code != "2.04":
            if self._own_request_valid(request_payload):
                self._found("EMAP-7.1.6-01", resource, name, f"valid {name} answered {code}", ven_id, t)
            return None
        if not payload:
            if name != "emapResponse":
                self._found("EMAP-7.1.4-04", resource, name, f"empty 2.04 to {name}", ven_id, t)
            elif content_format is not None:
                self._found("EMAP-7.1.4-04", resource, name, "empty 2.04 with a Content-Format", ven_id, t)
            return None
        if content_format != 50:
            self._found(
                "EMAP-7.1.4-04",
                resource,
                name,
                f"2.04 message with Content-Format {content_format}",
                ven_id,
                t,
            )
        try:
            message = decode(payload, posted=False, full=full)
        except MessageError as exc:
            self._found(rules.requirement_of(exc), resource, name, f"answer to {name}: {exc}", ven_id, t)
            return None
        self._judge_type(resource, request, message, ven_id, t)
        if full:
            self.full(resource, message, ven_id, t, tolerance)
        return message

    def _own_request_valid(self, payload: bytes) -> bool:
        """Before blaming the IUT for an error code: was the simulated EMA's request valid? If not, it is a
        fault of the simulator, counted apart."""
        try:
            validate(payload, posted=True)
        except MessageError:
            self.simulator_faults += 1
            return False
        return True

    def _judge_type(self, resource: str, request: ValidMessage, message: ValidMessage, ven_id, t) -> None:
        name = request.name
        expected = RESPONSES_OF.get(name) if request.kind == "request" else frozenset({"emapResponse"})
        if message.name not in expected:
            requirement = "EMAP-6.6-02" if name == "emapPoll" else "EMAP-6.1-01"
            self._found(requirement, resource, name, f"{name} answered with {message.name}", ven_id, t)
            return
        if name == "emapPoll":
            echo = "" if message.name == "emapResponse" else None
        else:
            echo = request.request_id
        if echo is not None and message.kind == "response" and message.request_id != echo:
            self._found(
                "EMAP-6.1-02",
                resource,
                name,
                f"{message.name} echoes requestID {message.request_id!r}, expected {echo!r}",
                ven_id,
                t,
            )

    def first_poll(self, message: ValidMessage | None, ven_id: str | None, t: float) -> None:
        """EMAP-6.2.3-11: the reply to the first poll after a successful registration is U's
        emapRegisterReport."""
        if message is not None and message.name != "emapRegisterReport":
            self._found(
                "EMAP-6.2.3-11",
                "EmapPoll",
                "emapPoll",
                f"first poll after registration answered with {message.name}",
                ven_id,
                t,
            )

    def repeat_differs(
        self,
        resource: str,
        request_name: str,
        first: ValidMessage,
        again: ValidMessage,
        ven_id: str | None,
        t: float,
    ) -> None:
        """EMAP-7.1.5-07: an identical request within EXCHANGE_LIFETIME got a different answer."""
        self._found(
            "EMAP-7.1.5-07",
            resource,
            request_name,
            f"identical {request_name} sent again: answered {again.name} {again.response_code}, first "
            f"{first.name} {first.response_code} (executed again instead of the same response)",
            ven_id,
            t,
        )

    def inbound(self, resource: str, payload: bytes, code: str, ven_id: str | None, t: float) -> None:
        """A request U pushed that the simulated EMA answered ``code`` other than 2.04 (its conformant checks
        of EMAP-7.1.4-05): U sent something the binding does not allow."""
        if code == "4.00":
            try:
                validate(payload, posted=True)
            except MessageError as exc:
                self._found(
                    rules.requirement_of(exc),
                    resource,
                    None,
                    f"U pushed an invalid message: {exc}",
                    ven_id,
                    t,
                )
            return
        requirement = PUSH_FAULTS.get(code)
        if requirement is not None:
            self._found(
                requirement, resource, None, f"U's push answered {code} by a conformant lower EMA", ven_id, t
            )

    def full(
        self, resource: str, message: ValidMessage, ven_id: str | None, t: float, tolerance: float
    ) -> None:
        """The message rules that need no state (B.6 rule 6) of a message U sent; time-dependent rules allow
        ``tolerance`` s (the measurement tolerance plus the message's time in transit)."""
        self.full_checks += 1
        for found in rules.check(message, now=utc_now(), sender="U", tolerance=tolerance):
            self._found(
                found.requirement_id, resource, message.name, f"{found.pointer}: {found.text}", ven_id, t
            )

    def summary(self) -> dict:
        return {
            "total": sum(self.by_requirement.values()),
            "full_checks": self.full_checks,
            "simulator_faults": self.simulator_faults,
            "by_requirement": dict(sorted(self.by_requirement.items())),
            "examples": [asdict(v) for v in self.examples],
        }
