"""Checks of a recorded pair trace against the binding: schemas (Annex B), sender rules (B.6 rule 6), Table 6.1-1
response types and echoed requestIDs, Table 6.6-1 step twos, Table 7.1-2 resources; and which procedures
(P1..P14) and poll replies (R0..R7) the trace holds.

Every function takes the trace only: the EMAs' state and logs are not evidence."""

from __future__ import annotations

from ema_pair_harness import sender_of

from conformance.messages import (
    POLL_REPLIES,
    RESPONSES_OF,
    SERVICE_RESOURCE,
    ValidMessage,
    rules,
    timefmt,
    validate,
)
from conformance.transport.trace import Exchange, Trace

#: Table 6.1-1: request message -> procedure (P3, P7 to P10 either side; P13 `emapPoll`).
PROCEDURE_OF = {
    "emapQueryRegistration": "P1", "emapCreatePartyRegistration": "P2", "emapCancelPartyRegistration": "P3",
    "emapRequestReregistration": "P4", "emapDistributeEvent": "P5", "emapRequestEvent": "P6",
    "emapRegisterReport": "P7", "emapCreateReport": "P8", "emapUpdateReport": "P9", "emapCancelReport": "P10",
    "emapCreateOpt": "P11", "emapCancelOpt": "P12", "emapPoll": "P13",
}
ACKNOWLEDGE = "P14"
BOTH_SIDES = ("P3", "P7", "P8", "P9", "P10")
NO_ECHO = ("emapPoll", "emapRequestReregistration")  # EMAP-6.1-02: `""`


def schema_problems(trace: Trace) -> list[str]:
    """Every EMAP payload (request, piggy-backed or separate response, block-wise reassembled) validates."""
    problems = []
    for ex in trace.exchanges():
        for payload, posted, where in ((ex.request_payload, True, "request"),
                                       (ex.response_payload, False, "response")):
            if payload:
                try:
                    validate(payload, posted=posted)
                except Exception as exc:
                    problems.append(f"{ex.summary()}: {where}: {exc}")
    problems += [f"record {r.seq}: not CoAP: {r.error}" for r in trace.records if r.coap is None]
    return problems


def rule_violations(trace: Trace) -> list[str]:
    """The message rules of `conformance.messages.rules` for the sender of each message, at its wire time."""
    return [f"record {record.seq} {message.name} from {sender_of(record)}: {v.requirement_id} {v.pointer}: {v.text}"
            for record, message in trace.messages()
            for v in rules.check(message, now=timefmt.parse_datetime(record.wall), sender=sender_of(record))]


def _echo_and_code(request: ValidMessage, response: ValidMessage) -> tuple[str | None, str | None]:
    """(echoed requestID, top-level responseCode) of ``response``; P6's `emapDistributeEvent` carries both in its
    `eiResponse`."""
    if request.name == "emapRequestEvent" and response.name == "emapDistributeEvent":
        ei = response.body.get("eiResponse") or {}
        return ei.get("requestID"), ei.get("responseCode")
    return response.request_id, response.response_code


def _expected_echo(request: ValidMessage) -> str:
    return "" if request.name in NO_ECHO else request.request_id


def _expected_response(request: ValidMessage) -> frozenset[str]:
    """Table 6.1-1; P5: `emapCreatedEvent` exactly when an event needs an answer (`always`)."""
    if request.name == "emapDistributeEvent":
        always = any(e["emapResponseRequired"] == "always" for e in request.body["emapEvent"])
        return frozenset({"emapCreatedEvent" if always else "emapResponse"})
    return RESPONSES_OF[request.name]


def _answer_problem(request: ValidMessage, response: ValidMessage | None, allowed: frozenset[str]) -> str | None:
    if response is None or response.name not in allowed:
        return f"answered {response.name if response else 'with no message'}, expected {sorted(allowed)}"
    echo, code = _echo_and_code(request, response)
    if code != "200" or echo != _expected_echo(request):
        return f"{response.name} has responseCode {code!r}, requestID {echo!r}; expected 200, " \
               f"{_expected_echo(request)!r}"
    return None


def _resource_problem(ex: Exchange, message: ValidMessage) -> str | None:
    """Table 7.1-2: each message goes to the resource of its service (`emapResponse` also at `EiEvent`)."""
    resource = ex.path.rsplit("/", 1)[-1]
    allowed = {SERVICE_RESOURCE[message.name]} | ({"EiEvent"} if message.name == "emapResponse" else set())
    return None if resource in allowed else f"POSTed to {ex.path}, expected one of {sorted(allowed)}"


def exchange_problems(trace: Trace) -> list[str]:
    """EMAP-6.1-01/-02/-04/-05/-06, EMAP-6.6-02/-04, EMAP-7.1.3-02: each request POSTed to its resource and
    answered in its 2.04 with the Table 6.1-1 response (200, echoed requestID); a U request delivered as a poll
    reply answered by a later step two POSTed to U; each POSTed response-type message acknowledged (P14)."""
    problems = []
    exchanges = [ex for ex in trace.exchanges() if ex.request_message is not None]
    for k, ex in enumerate(exchanges):
        where = f"{ex.summary()} ({ex.request_message.name} from {sender_of(ex.request)})"
        for problem in (_resource_problem(ex, ex.request_message), _answer_problem_of(ex, exchanges[k + 1:])):
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def _answer_problem_of(ex: Exchange, later: list[Exchange]) -> str | None:
    request, response = ex.request_message, ex.response_message
    if ex.code != "2.04":
        return f"answered {ex.code}"
    if request.kind == "response":
        return _acknowledge_problem(ex)
    if request.name != "emapPoll":
        return _answer_problem(request, response, _expected_response(request))
    if response is None or response.name not in POLL_REPLIES:
        return f"poll reply {response.name if response else None} is not of Table 6.6-1"
    if response.name == "emapResponse":
        return _answer_problem(request, response, RESPONSES_OF["emapPoll"])
    if _step_two(later, response) is None:
        return f"no step two (200) for poll reply {response.name} {response.request_id!r}"
    return None


def _step_two(later: list[Exchange], delivered: ValidMessage) -> Exchange | None:
    """The first later POST by L of the Table 6.1-1 response to ``delivered`` (same echoed requestID), checked
    for responseCode 200."""
    expected = _expected_response(delivered)
    return next((ex for ex in later if sender_of(ex.request) == "L"
                 and _answer_problem(delivered, ex.request_message, expected) is None), None)


def _acknowledge_problem(ex: Exchange) -> str | None:
    """P14 (EMAP-6.1-06): `emapResponse` 200 echoing the POSTed message's requestID; empty 2.04 for a POSTed
    `emapResponse`."""
    posted, answer = ex.request_message, ex.response_message
    if posted.name == "emapResponse":
        return None if not ex.response_payload else "POSTed emapResponse not answered with an empty 2.04"
    if answer is None or answer.name != "emapResponse" or answer.response_code != "200" \
            or answer.request_id != posted.request_id:
        return f"POSTed {posted.name} acknowledged with {answer.envelope if answer else 'no message'}"
    return None


def procedures_seen(trace: Trace) -> set[str]:
    """Procedures whose request crossed the wire, POSTed or as a poll reply: "P3-L"/"P3-U" style for the
    either-side ones, "P14" for a POSTed response-type message (L's step two or follow-up)."""
    seen = set()
    for ex in trace.exchanges():
        message, reply = ex.request_message, ex.response_message
        if message is None:
            continue
        requests = [(message, sender_of(ex.request))]
        if message.name == "emapPoll" and reply is not None and reply.kind == "request":
            requests.append((reply, "U"))
        for request, sender in requests:
            if request.kind == "response":
                seen.add(ACKNOWLEDGE)
                continue
            procedure = PROCEDURE_OF[request.name]
            seen.add(f"{procedure}-{sender}" if procedure in BOTH_SIDES else procedure)
    return seen


def poll_replies_seen(trace: Trace) -> set[str]:
    """R0..R7 (Table 6.6-1) of the answers to `emapPoll` in the trace."""
    return {f"R{POLL_REPLIES.index(ex.response_message.name)}" for ex in trace.exchanges()
            if ex.request_message is not None and ex.request_message.name == "emapPoll"
            and ex.response_message is not None and ex.response_message.name in POLL_REPLIES}


def all_procedures(mode: str) -> set[str]:
    """What a full run must show: every Table 6.1-1 row, the either-side ones from both sides; no poll in push
    mode (EMAP-6.6-10)."""
    names = {p for p in PROCEDURE_OF.values() if p not in BOTH_SIDES}
    names |= {f"{p}-{side}" for p in BOTH_SIDES for side in "LU"} | {ACKNOWLEDGE}
    return names if mode == "pull" else names - {"P13"}
